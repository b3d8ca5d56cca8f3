#!/usr/bin/env node
// Strict checker for folded ("collapsed") stacks, the flamegraph.pl input
// format: one "frame1;frame2;...;frameN COUNT" line per distinct stack.
// Readers disagree on everything else (speedscope needs exactly one space
// and an integer and silently drops other lines; flamegraph.pl accepts
// decimals and only warns), so pyspy must write the strict common subset:
//   - exactly one space, then a positive decimal integer without leading
//     zeros or sign, at the end of the line;
//   - no empty frame (";;", leading or trailing ";"), no CR or TAB;
//   - each stack at most once (counts aggregated);
//   - valid UTF-8, no BOM, "\n" line ends including after the last line.
//
// usage: node folded-check.mjs FILE [--expect-total N]
//   prints "OK <stacks> stacks, <total> samples, max depth <d>"
//   exit 0 valid, 1 invalid (errors on stderr, with line numbers), 2 usage/IO
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let file = null, expectTotal = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--expect-total') expectTotal = BigInt(args[++i]);
  else if (!file) file = args[i];
  else { console.error('usage: folded-check.mjs FILE [--expect-total N]'); process.exit(2); }
}
if (!file) { console.error('usage: folded-check.mjs FILE [--expect-total N]'); process.exit(2); }

let bytes;
try { bytes = readFileSync(file); } catch (e) { console.error(`folded-check: ${e.message}`); process.exit(2); }

const errors = [];
const MAX_ERRORS = 25;
const err = (msg) => { errors.push(msg); };

let text;
try {
  text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
} catch {
  // Find the first bad line for a useful message.
  let line = 1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) line++;
    else if (bytes[i] >= 0x80) {
      try { new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, Math.min(bytes.length, i + 4))); } catch { break; }
    }
  }
  console.error(`ERROR: not valid UTF-8 (near line ${line})`);
  process.exit(1);
}
if (text.charCodeAt(0) === 0xfeff) err('line 1: starts with a byte order mark');
if (text.length === 0) err('empty file: no stacks');
else if (!text.endsWith('\n')) err('no newline at the end of the last line');

const lines = text.split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const seen = new Map();
let total = 0n, depth = 0;
const LINE = /^(.*[^ ]) (0|[1-9][0-9]*)$/;
lines.forEach((line, i) => {
  const at = `line ${i + 1}`;
  if (line.includes('\r')) { err(`${at}: carriage return (CRLF line end?)`); return; }
  if (line.includes('\t')) err(`${at}: TAB character`);
  const m = LINE.exec(line);
  if (!m) {
    let why = 'not "<frames> <count>"';
    if (line === '') why = 'empty line';
    else if (/  +[0-9]+$/.test(line)) why = 'more than one space before the count';
    else if (/ [+-][0-9]+$/.test(line)) why = 'signed count';
    else if (/ [0-9]*\.[0-9]+$/.test(line)) why = 'count is not an integer';
    else if (/ 0[0-9]+$/.test(line)) why = 'count has leading zeros';
    else if (!/ [^ ]*$/.test(line) || !/[0-9]$/.test(line)) why = 'no count at the end of the line';
    err(`${at}: ${why}: ${JSON.stringify(line.slice(0, 100))}`);
    return;
  }
  const [, stack, count] = m;
  if (count === '0') err(`${at}: count is 0 (must be positive)`);
  const frames = stack.split(';');
  if (frames.some((f) => f === '')) err(`${at}: empty frame name (leading, trailing or double ';')`);
  if (seen.has(stack)) err(`${at}: same stack as line ${seen.get(stack)} (counts must be aggregated)`);
  else seen.set(stack, i + 1);
  total += BigInt(count);
  depth = Math.max(depth, frames.length);
});
if (expectTotal !== null && errors.length === 0 && total !== expectTotal) {
  err(`total count ${total}, expected ${expectTotal}`);
}

for (const e of errors.slice(0, MAX_ERRORS)) console.error(`ERROR: ${e}`);
if (errors.length > MAX_ERRORS) console.error(`ERROR: ... and ${errors.length - MAX_ERRORS} more`);
if (errors.length) process.exit(1);
console.log(`OK ${seen.size} stacks, ${total} samples, max depth ${depth}`);
