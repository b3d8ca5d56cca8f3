#!/usr/bin/env node
// speedscope file-format check: the JSON schema shipped in the npm
// `speedscope` package (dist/release/file-format-schema.json, draft-07)
// through ajv, plus the rules the schema cannot express and the importer
// relies on:
//   - sampled: samples.length == weights.length, every frame index an
//     integer in 0..frames-1, weights finite and >= 0;
//   - evented: "at" non-decreasing and within [startValue, endValue], every
//     "C" closes the innermost open frame, nothing left open;
//   - startValue <= endValue, activeProfileIndex an index into profiles.
//
// usage: node speedscope-check.mjs FILE [--expect-profiles N]
//   prints "OK <n> profiles (<types>), <m> frames, <s> samples (<e> empty),
//   <v> events" (an empty sample is a gap: time with no stack to show)
//   exit 0 valid, 1 invalid (errors on stderr), 2 usage/IO
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv from 'ajv';

const args = process.argv.slice(2);
let file = null, expectProfiles = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--expect-profiles') expectProfiles = Number(args[++i]);
  else if (!file) file = args[i];
  else { console.error('usage: speedscope-check.mjs FILE [--expect-profiles N]'); process.exit(2); }
}
if (!file) { console.error('usage: speedscope-check.mjs FILE [--expect-profiles N]'); process.exit(2); }

const require = createRequire(import.meta.url);
const schemaFile = path.join(path.dirname(require.resolve('speedscope/package.json')), 'dist/release/file-format-schema.json');
const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));

let raw;
try { raw = readFileSync(file, 'utf8'); } catch (e) { console.error(`speedscope-check: ${e.message}`); process.exit(2); }
let doc;
try { doc = JSON.parse(raw); } catch (e) { console.error(`ERROR: not JSON: ${e.message}`); process.exit(1); }

const errors = [];
const MAX_ERRORS = 25;
const err = (msg) => errors.push(msg);

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);
if (!validate(doc)) {
  for (const e of validate.errors) {
    const extra = e.params && e.params.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}`
      : e.params && e.params.allowedValue !== undefined ? ` ${JSON.stringify(e.params.allowedValue)}` : '';
    err(`schema: ${e.instancePath || '/'} ${e.message}${extra}`);
  }
}

const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
const frames = isObj(doc) && isObj(doc.shared) && Array.isArray(doc.shared.frames) ? doc.shared.frames : [];
const nframes = frames.length;
const profiles = isObj(doc) && Array.isArray(doc.profiles) ? doc.profiles : [];
const frameOk = (k) => Number.isInteger(k) && k >= 0 && k < nframes;
let nsamples = 0, nempty = 0, nevents = 0;
const types = {};

profiles.forEach((p, i) => {
  if (!isObj(p)) return;	// the schema reported it
  const at = `profiles[${i}]${typeof p.name === 'string' ? ` "${p.name}"` : ''}`;
  types[p.type] = (types[p.type] || 0) + 1;
  const { startValue: start, endValue: end } = p;
  if (typeof start === 'number' && typeof end === 'number' && !(start <= end)) {
    err(`${at}: startValue ${start} > endValue ${end}`);
  }
  if (p.type === 'sampled') {
    const samples = Array.isArray(p.samples) ? p.samples : [];
    const weights = Array.isArray(p.weights) ? p.weights : [];
    if (samples.length !== weights.length) {
      err(`${at}: samples.length ${samples.length} != weights.length ${weights.length}`);
    }
    samples.forEach((stack, j) => {
      if (!Array.isArray(stack)) return;
      stack.forEach((k, d) => {
        if (!frameOk(k)) err(`${at}: samples[${j}][${d}] = ${k}: not a frame index 0..${nframes - 1}`);
      });
    });
    weights.forEach((w, j) => {
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) err(`${at}: weights[${j}] = ${w}: must be a finite number >= 0`);
    });
    nsamples += samples.length;
    nempty += samples.filter((st) => Array.isArray(st) && st.length === 0).length;
  } else if (p.type === 'evented') {
    const events = Array.isArray(p.events) ? p.events : [];
    const open = [];
    let last = -Infinity;
    events.forEach((e, j) => {
      if (!isObj(e)) return;
      const ej = `${at}: events[${j}]`;
      if (typeof e.at === 'number') {
        if (e.at < last) err(`${ej}: at ${e.at} < previous ${last} (events must be in time order)`);
        if (typeof start === 'number' && e.at < start) err(`${ej}: at ${e.at} before startValue ${start}`);
        if (typeof end === 'number' && e.at > end) err(`${ej}: at ${e.at} after endValue ${end}`);
        last = Math.max(last, e.at);
      }
      if (!frameOk(e.frame)) err(`${ej}: frame ${e.frame}: not a frame index 0..${nframes - 1}`);
      if (e.type === 'O') open.push(e.frame);
      else if (e.type === 'C') {
        if (open.length === 0) err(`${ej}: closes frame ${e.frame} but no frame is open`);
        else if (open[open.length - 1] !== e.frame) err(`${ej}: closes frame ${e.frame} but the innermost open frame is ${open[open.length - 1]}`);
        else open.pop();
      }
    });
    if (open.length) err(`${at}: ${open.length} frame(s) opened and never closed (innermost ${open[open.length - 1]})`);
    nevents += events.length;
  }
});
if (isObj(doc) && doc.activeProfileIndex !== undefined) {
  const a = doc.activeProfileIndex;
  if (!(Number.isInteger(a) && a >= 0 && a < profiles.length)) err(`activeProfileIndex ${a}: not an index into profiles (0..${profiles.length - 1})`);
}
if (isObj(doc) && profiles.length === 0 && errors.length === 0) err('no profiles');
if (expectProfiles !== null && profiles.length !== expectProfiles) err(`${profiles.length} profiles, expected ${expectProfiles}`);

for (const e of errors.slice(0, MAX_ERRORS)) console.error(`ERROR: ${e}`);
if (errors.length > MAX_ERRORS) console.error(`ERROR: ... and ${errors.length - MAX_ERRORS} more`);
if (errors.length) process.exit(1);
const t = Object.entries(types).map(([k, v]) => `${v} ${k}`).join(', ');
console.log(`OK ${profiles.length} profiles (${t}), ${nframes} frames, ${nsamples} samples (${nempty} empty), ${nevents} events`);
