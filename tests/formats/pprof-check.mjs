#!/usr/bin/env node
// Checker for gzipped pprof profiles (profile.proto): decodes with the npm
// package pprof-format (DataDog's pure JS decoder) and checks what pprof's
// CheckValid does and the decoder alone does not (it decodes a truncated
// file without complaint):
//   - gzip on disk; string_table[0] == ""; every string index in range;
//   - at least one sample_type, each sample with exactly that many values;
//   - every location/function/mapping id nonzero, unique and defined;
//   - period_type and default_sample_type naming strings of the table;
//   - labels: a key and exactly one of str/num.
//
// usage: node pprof-check.mjs FILE [--expect-total N] [--expect-types T,T]
//   prints "OK types=samples/count,wall/nanoseconds samples=S total=N
//   locations=L functions=F"; --expect-total checks the sum of the first
//   value; exit 0 valid, 1 invalid (errors on stderr), 2 usage/IO
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';

const args = process.argv.slice(2);
let file = null, expectTotal = null, expectTypes = null;
const usage = () => { console.error('usage: pprof-check.mjs FILE [--expect-total N] [--expect-types T,T]'); process.exit(2); };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--expect-total') expectTotal = BigInt(args[++i]);
  else if (args[i] === '--expect-types') expectTypes = args[++i];
  else if (!file) file = args[i];
  else usage();
}
if (!file) usage();
let buf;
try { buf = readFileSync(file); } catch (e) { console.error(`pprof-check: ${e.message}`); process.exit(2); }
const errs = [];
if (buf[0] === 0x1f && buf[1] === 0x8b) {
  try { buf = gunzipSync(buf); } catch (e) { console.error(`ERROR: gunzip: ${e.message}`); process.exit(1); }
} else {
  errs.push('not gzip-compressed (profile.proto: profiles on disk are gzipped)');
}
let p;
try { p = Profile.decode(buf); } catch (e) { console.error(`ERROR: protobuf decode failed: ${e.message}`); process.exit(1); }
const S = p.stringTable.strings;
const str = (i) => S[Number(i)];
const chkStr = (i, what) => { if (Number(i) < 0 || Number(i) >= S.length) errs.push(`${what}: string index ${i} out of range 0..${S.length - 1}`); };
if (S[0] !== '') errs.push('string_table[0] must be ""');
const nTypes = p.sampleType.length;
if (!nTypes) errs.push('no sample_type');
const ids = (list, what) => {
  const set = new Set();
  for (const x of list) {
    const id = Number(x.id);
    if (!id) errs.push(`${what} with id 0`);
    if (set.has(id)) errs.push(`${what} id ${id} defined twice`);
    set.add(id);
  }
  return set;
};
const locIds = ids(p.location, 'location'), funIds = ids(p.function, 'function'), mapIds = ids(p.mapping, 'mapping');
p.sampleType.forEach((vt, k) => { chkStr(vt.type, `sample_type[${k}].type`); chkStr(vt.unit, `sample_type[${k}].unit`); });
if (p.periodType) { chkStr(p.periodType.type, 'period_type.type'); chkStr(p.periodType.unit, 'period_type.unit'); }
chkStr(p.defaultSampleType, 'default_sample_type');
for (const c of p.comment) chkStr(c, 'comment');
let total = 0n;
p.sample.forEach((s, k) => {
  if (s.value.length !== nTypes) errs.push(`sample ${k}: ${s.value.length} values vs ${nTypes} sample types`);
  if (!s.locationId.length) errs.push(`sample ${k}: no location`);
  for (const id of s.locationId) if (!locIds.has(Number(id))) errs.push(`sample ${k}: unknown location id ${id}`);
  for (const v of s.value) if (BigInt(v) < 0n) errs.push(`sample ${k}: negative value ${v}`);
  total += BigInt(s.value[0] ?? 0);
  const keys = new Set();
  for (const l of s.label) {
    chkStr(l.key, `sample ${k} label key`);
    chkStr(l.str, `sample ${k} label str`);
    if (!Number(l.key)) errs.push(`sample ${k}: label without a key`);
    if (Number(l.str) && Number(l.num)) errs.push(`sample ${k}: label ${str(l.key)} has both str and num`);
    if (keys.has(str(l.key))) errs.push(`sample ${k}: label ${str(l.key)} twice`);
    keys.add(str(l.key));
  }
});
p.location.forEach((l) => {
  if (Number(l.mappingId) && !mapIds.has(Number(l.mappingId))) errs.push(`location ${l.id}: unknown mapping ${l.mappingId}`);
  if (!l.line.length) errs.push(`location ${l.id}: no line`);
  for (const ln of l.line) if (!funIds.has(Number(ln.functionId))) errs.push(`location ${l.id}: unknown function ${ln.functionId}`);
});
p.function.forEach((f) => {
  chkStr(f.name, `function ${f.id} name`); chkStr(f.systemName, `function ${f.id} system_name`); chkStr(f.filename, `function ${f.id} filename`);
  if (!Number(f.name)) errs.push(`function ${f.id}: no name`);
});
const types = p.sampleType.map((vt) => `${str(vt.type)}/${str(vt.unit)}`).join(',');
if (expectTypes !== null && types !== expectTypes) errs.push(`sample types ${types}, expected ${expectTypes}`);
if (expectTotal !== null && total !== expectTotal) errs.push(`total ${total}, expected ${expectTotal}`);
if (errs.length) {
  for (const e of errs.slice(0, 30)) console.error('ERROR: ' + e);
  if (errs.length > 30) console.error(`... ${errs.length - 30} more`);
  process.exit(1);
}
console.log(`OK types=${types} samples=${p.sample.length} total=${total} locations=${p.location.length} functions=${p.function.length}`);
