#!/usr/bin/env node
// Writes the hand-made examples the validators are tested on (valid ones
// must be accepted, each broken one rejected for its one defect) and the
// EXPECT table tests/formats/run.sh walks:
//     VALIDATOR<TAB>FILE<TAB>EXIT<TAB>STDOUT/STDERR REGEX<TAB>EXTRA ARGS
// Deterministic; run it after changing it and commit the output:
//     node tests/formats/examples/make-examples.mjs [DIR]
// (run.sh checks that the committed files match.)
//
// One data set, py-spy style frame labels: pid 4242, thread 1001
// "MainThread" and thread 1002 "worker-1", 16 samples at 100 Hz.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const out = process.argv[2] || path.dirname(fileURLToPath(import.meta.url));
mkdirSync(out, { recursive: true });
const expect = [];
const put = (name, data) => writeFileSync(path.join(out, name), data);
const want = (validator, file, rc, re, extra = '') => expect.push([validator, file, rc, re, extra].join('\t'));

const MAIN = [
  [['<module> (app.py:60)', 'main (app.py:10)', 'compute (app.py:22)', 'inner (app.py:31)'], 3],
  [['<module> (app.py:60)', 'main (app.py:10)', 'compute (app.py:23)'], 2],
  [['<module> (app.py:60)', 'main (app.py:11)', 'io_wait (app.py:41)'], 1],
  [['<module> (app.py:60)', 'main (app.py:11)', '<lambda> (app.py:45)', 'compute (app.py:22)'], 2],
];
const WORKER = [
  [['run (threading.py:1012)', 'work (worker.py:5)'], 4],
  [['run (threading.py:1012)', 'work (worker.py:5)', 'ünïcode_fn (tëst.py:3)'], 1],
  [['run (threading.py:1012)', 'work (worker.py:5)', 'work (worker.py:5)'], 2],
  [['run (threading.py:1012)', 'work (worker.py:6)', '函数 (中文.py:7)'], 1],
];
const THREADS = [
  { tid: 1001, name: 'MainThread', stacks: MAIN },
  { tid: 1002, name: 'worker-1', stacks: WORKER },
];
const ALL = [...MAIN, ...WORKER];
const TOTAL = ALL.reduce((n, [, c]) => n + c, 0);	// 16

// ---------------------------------------------------------------- folded
const folded = (stacks) => stacks.map(([f, c]) => `${f.join(';')} ${c}\n`).join('');
const withThreads = THREADS.flatMap((t) => t.stacks.map(([f, c]) => [['process 4242: python3 app.py', `thread (${t.tid}): ${t.name}`, ...f], c]));
put('valid.folded', folded(ALL));
want('folded', 'valid.folded', 0, `^OK 8 stacks, ${TOTAL} samples, max depth 4$`, `--expect-total ${TOTAL}`);
put('valid-threads.folded', folded(withThreads));
want('folded', 'valid-threads.folded', 0, `^OK 8 stacks, ${TOTAL} samples, max depth 6$`);
want('load', 'valid.folded', 0, '^OK title="valid.folded - speedscope"$');
want('load', 'valid-threads.folded', 0, '^OK title=');

const good = folded(ALL);
const first = good.split('\n')[0];
const brokenFolded = {
  'no-final-newline': [good.slice(0, -1), 'no newline at the end'],
  'zero-count': [good.replace(/ 3\n/, ' 0\n'), 'count is 0'],
  'float-count': [good.replace(/ 3\n/, ' 3.5\n'), 'not an integer'],
  'negative-count': [good.replace(/ 3\n/, ' -3\n'), 'signed count'],
  'leading-zero': [good.replace(/ 3\n/, ' 03\n'), 'leading zeros'],
  'no-count': [good.replace(/ 3\n/, '\n'), 'no count'],
  'two-spaces': [good.replace(/ 3\n/, '  3\n'), 'more than one space'],
  'empty-frame': [good.replace(';compute (app.py:22);', ';;'), 'empty frame'],
  'leading-semicolon': [`;${good}`, 'empty frame'],
  'trailing-semicolon': [good.replace(/ 3\n/, '; 3\n'), 'empty frame'],
  crlf: [good.replace(/\n/g, '\r\n'), 'carriage return'],
  tab: [good.replace('compute (app.py:22)', 'compute\t(app.py:22)'), 'TAB'],
  duplicate: [`${good}${first}\n`, 'same stack as line 1'],
  'empty-line': [good.replace('\n', '\n\n'), 'empty line'],
  empty: ['', 'empty file'],
  'bad-utf8': [Buffer.concat([Buffer.from('main (app.py:1);f'), Buffer.from([0xc3, 0x28]), Buffer.from(' (x.py:2) 1\n')]), 'not valid UTF-8'],
  bom: [`\ufeff${good}`, 'byte order mark'],
};
for (const [k, [data, msg]] of Object.entries(brokenFolded)) {
  put(`broken-${k}.folded`, data);
  want('folded', `broken-${k}.folded`, 1, msg);
}
put('broken-garbage.folded', 'this is not a profile\nat all\n');
want('folded', 'broken-garbage.folded', 1, 'no count');
want('load', 'broken-garbage.folded', 1, 'ALERT: .*Unrecognized format');

// ---------------------------------------------------------------- capture
// The same data as a pyspy-synth description (tests/helpers/pyspy-synth.c):
// run.sh turns it into a capture and checks pyspy-analyze's reports of it
// against the examples (same stacks and counts, same Matched shares).
// Two more ticks have only idle samples, which reports leave out by default.
const synthFrame = (label) => { const m = /^(.*) \((.*):(\d+)\)$/.exec(label); return `${m[2]}:${m[1]}:${m[3]}`; };
const expand = (stacks) => stacks.flatMap(([f, c]) => Array(c).fill(f.map(synthFrame).join(';')));
const mainSamples = expand(MAIN), workerSamples = expand(WORKER);
const synth = [
  '# Written by make-examples.mjs: the examples\' data set as a capture (pyspy-synth).',
  'meta hostname=formats-host cmdline="python3 app.py" python_version=3.11.2 python_exe=/usr/bin/python3.11 rate_hz=100 pid=4242',
  'process app pid=4242 cmdline="python3 app.py" python=3.11.2 exe=/usr/bin/python3.11',
  'thread main process=app tid=1001 name=MainThread main',
  'thread worker process=app tid=1002 name=worker-1',
];
mainSamples.forEach((st, i) => {
  synth.push(`tick ${(i + 1) * 10}ms`, `sample main ${st} gil`, `sample worker ${workerSamples[i]} at=${(i + 1) * 10000 + 100}us`);
});
for (const t of [90, 100]) synth.push(`tick ${t}ms`, `sample main ${mainSamples[0]} idle`, `sample worker ${workerSamples[0]} idle at=${t * 1000 + 100}us`);
synth.push('trailer 110ms reason=exited', '');
put('app.synth', synth.join('\n'));

// ---------------------------------------------------------------- speedscope
const SCHEMA = 'https://www.speedscope.app/file-format-schema.json';
function speedscope() {
  const frames = [], index = new Map();
  const frameOf = (label) => {
    if (!index.has(label)) {
      const m = /^(.*) \((.*):(\d+)\)$/.exec(label);
      index.set(label, frames.length);
      frames.push(m ? { name: m[1], file: m[2], line: Number(m[3]) } : { name: label });
    }
    return index.get(label);
  };
  const profiles = THREADS.map((t) => {
    const samples = [], weights = [];
    for (const [f, c] of t.stacks) for (let i = 0; i < c; i++) { samples.push(f.map(frameOf)); weights.push(0.01); }
    // The worker was idle for 50 ms at the end: a gap (empty stack).
    if (t.tid === 1002) { samples.push([]); weights.push(0.05); }
    const end = weights.reduce((a, w) => a + w, 0);
    return { type: 'sampled', name: `Thread ${t.tid} "${t.name}" (pid 4242)`, unit: 'seconds', startValue: 0, endValue: Number(end.toFixed(2)), samples, weights };
  });
  return { $schema: SCHEMA, name: 'python3 app.py', exporter: 'pyspy-examples@1', activeProfileIndex: 0, shared: { frames }, profiles };
}
function evented() {
  const doc = speedscope();
  // main -> compute -> inner, then main -> io_wait, in milliseconds.
  const f = (label) => doc.shared.frames.findIndex((x) => `${x.name} (${x.file}:${x.line})` === label);
  const [main, compute, inner, io] = ['main (app.py:10)', 'compute (app.py:22)', 'inner (app.py:31)', 'io_wait (app.py:41)'].map(f);
  const ev = (type, at, frame) => ({ type, at, frame });
  doc.profiles = [{
    type: 'evented', name: 'Thread 1001 "MainThread" (pid 4242)', unit: 'milliseconds', startValue: 0, endValue: 60,
    events: [ev('O', 0, main), ev('O', 0, compute), ev('O', 10, inner), ev('C', 30, inner), ev('C', 50, compute),
      ev('O', 50, io), ev('C', 60, io), ev('C', 60, main)],
  }];
  return doc;
}
const json = (d) => `${JSON.stringify(d)}\n`;
put('valid-sampled.speedscope.json', json(speedscope()));
want('speedscope', 'valid-sampled.speedscope.json', 0, '^OK 2 profiles \\(2 sampled\\), 13 frames, 17 samples \\(1 empty\\), 0 events$', '--expect-profiles 2');
want('ajv', 'valid-sampled.speedscope.json', 0, 'valid');
want('load', 'valid-sampled.speedscope.json', 0, '^OK title="python3 app.py - speedscope"$', '--expect-title python3\\ app.py');
put('valid-evented.speedscope.json', json(evented()));
want('speedscope', 'valid-evented.speedscope.json', 0, '^OK 1 profiles \\(1 evented\\)');
want('ajv', 'valid-evented.speedscope.json', 0, 'valid');
want('load', 'valid-evented.speedscope.json', 0, '^OK title=');

const brokenSs = {
  unit: [(d) => { d.profiles[1].unit = 'ticks'; }, 'unit must be equal to one of the allowed values', 'ajv'],
  'no-schema': [(d) => { delete d.$schema; }, "must have required property '\\$schema'", 'ajv'],
  'wrong-schema': [(d) => { d.$schema = 'https://example.org/schema.json'; }, 'must be equal to constant', 'ajv'],
  'no-frames': [(d) => { delete d.shared.frames; }, "must have required property 'frames'", 'ajv'],
  'frame-no-name': [(d) => { delete d.shared.frames[3].name; }, "must have required property 'name'", 'ajv'],
  length: [(d) => { d.profiles[0].weights.pop(); }, 'samples.length 8 != weights.length 7', 'load'],
  'frame-index': [(d) => { d.profiles[0].samples[2][1] = 99; }, 'samples\\[2\\]\\[1\\] = 99: not a frame index', 'load'],
  'fractional-index': [(d) => { d.profiles[1].samples[0][0] = 1.5; }, 'not a frame index'],
  'negative-weight': [(d) => { d.profiles[1].weights[3] = -0.01; }, 'weights\\[3\\] = -0.01'],
  'start-after-end': [(d) => { d.profiles[0].startValue = 1; }, 'startValue 1 > endValue'],
  'active-index': [(d) => { d.activeProfileIndex = 2; }, 'activeProfileIndex 2'],
};
for (const [k, [mutate, msg, also]] of Object.entries(brokenSs)) {
  const d = speedscope(); mutate(d);
  put(`broken-${k}.speedscope.json`, json(d));
  want('speedscope', `broken-${k}.speedscope.json`, 1, msg);
  if (also === 'ajv') want('ajv', `broken-${k}.speedscope.json`, 1, 'invalid');
  if (also === 'load') want('load', `broken-${k}.speedscope.json`, 1, 'FAIL');
}
const brokenEv = {
  'evented-mismatch': [(e) => { e[3] = { ...e[3], frame: e[1].frame }; }, 'closes frame .* but the innermost open frame is'],
  'evented-order': [(e) => { e[5].at = 40; }, 'events\\[5\\]: at 40 < previous 50'],
  'evented-open': [(e) => { e.pop(); }, 'opened and never closed'],
  'evented-range': [(e) => { e[7].at = 70; e[6].at = 70; }, 'after endValue 60'],
};
for (const [k, [mutate, msg]] of Object.entries(brokenEv)) {
  const d = evented(); mutate(d.profiles[0].events);
  put(`broken-${k}.speedscope.json`, json(d));
  want('speedscope', `broken-${k}.speedscope.json`, 1, msg);
}
put('broken-truncated.speedscope.json', json(speedscope()).slice(0, 300));
want('speedscope', 'broken-truncated.speedscope.json', 1, 'not JSON');
want('load', 'broken-truncated.speedscope.json', 1, 'FAIL');

// ---------------------------------------------------------------- SVG
// A flamegraph.pl-compatible interactive SVG (output-formats.md §2.1),
// written from scratch; `bug` switches one defect on.
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
function tree(stacks) {
  const root = { name: 'all', count: 0, children: new Map() };
  for (const [frames, c] of stacks) {
    root.count += c;
    let n = root;
    for (const f of frames) {
      if (!n.children.has(f)) n.children.set(f, { name: f, count: 0, children: new Map() });
      n = n.children.get(f);
      n.count += c;
    }
  }
  return root;
}
function hash(s) { let h = 2166136261; for (const ch of Buffer.from(s)) { h ^= ch; h = Math.imul(h, 16777619) >>> 0; } return h; }
function color(name) {
  const h = hash(name);
  return `rgb(${205 + (h % 50)},${(h >>> 8) % 230},${(h >>> 16) % 55})`;
}
const SCRIPT = (bug, inverted) => `
"use strict";
var svg, frames, details, unzoombtn, searchbtn, matchedtxt, searching = false;
var XPAD = 10, CHAR_W = 7.08, INVERTED = ${inverted};
function init(evt) {
	svg = document.documentElement;
	frames = document.getElementById("frames");
	details = document.getElementById("details").firstChild;
	unzoombtn = document.getElementById("unzoom");
	searchbtn = document.getElementById("search");
	matchedtxt = document.getElementById("matched");${bug === 'jserror' ? '\n\tsetup_palette();' : ''}
	var gs = groups();
	for (var i = 0; i < gs.length; i++) {
		var r = rect_of(gs[i]);
		r.setAttribute("data-x", r.getAttribute("x"));
		r.setAttribute("data-w", r.getAttribute("width"));
		r.setAttribute("data-fill", r.getAttribute("fill"));
		fit_text(gs[i]);
	}
	svg.addEventListener("click", function (e) {
		var g = frame_of(e.target);
		if (g) { ${bug === 'noclick' ? '/* zooming disabled */' : 'zoom(g);'} return; }
		if (e.target.id === "unzoom") unzoom();
		else if (e.target.id === "search") search_prompt();
	});
	svg.addEventListener("mouseover", function (e) {
		var g = frame_of(e.target);
		if (g) ${bug === 'hover' ? 'details.nodeValue = " "' : 'details.nodeValue = "Function: " + g.getElementsByTagName("title")[0].textContent'};
	});
	svg.addEventListener("mouseout", function (e) {
		if (frame_of(e.target)) details.nodeValue = " ";
	});${bug === 'ctrlf' ? '' : `
	window.addEventListener("keydown", function (e) {
		if (e.keyCode === 114 || (e.ctrlKey && e.keyCode === 70)) { e.preventDefault(); search_prompt(); }
	});`}
}
function groups() { return frames.querySelectorAll("g"); }
function rect_of(g) { return g.getElementsByTagName("rect")[0]; }
function name_of(g) {
	return g.getElementsByTagName("title")[0].textContent.replace(/ \\([0-9,]+ samples?, [0-9.]+%\\)$/, "");
}
function frame_of(el) {
	for (; el && el !== frames; el = el.parentNode)
		if (el.tagName === "g" && el.parentNode === frames) return el;
	return null;
}
function fit_text(g) {
	var t = g.getElementsByTagName("text")[0], r = rect_of(g);
	var w = +r.getAttribute("width"), name = name_of(g), n = Math.floor((w - 6) / CHAR_W);
	t.setAttribute("x", +r.getAttribute("x") + 3);
	t.textContent = n < 3 ? "" : name.length <= n ? name : name.substring(0, n - 2) + "..";
}
function zoom(g) {
	var r = rect_of(g), x = +r.getAttribute("data-x"), w = +r.getAttribute("data-w"), y = +r.getAttribute("y");
	var full = +svg.getAttribute("width") - 2 * XPAD, ratio = full / w, gs = groups(), eps = 1e-6;
	unzoombtn.classList.remove("hide");
	for (var i = 0; i < gs.length; i++) {
		var e = gs[i], er = rect_of(e);
		var ex = +er.getAttribute("data-x"), ew = +er.getAttribute("data-w"), ey = +er.getAttribute("y");
		e.classList.remove("hide");
		e.classList.remove("parent");
		if (ex + ew <= x + eps || ex >= x + w - eps) { e.classList.add("hide"); continue; }
		if (INVERTED ? ey < y : ey > y) {
			e.classList.add("parent");
			er.setAttribute("x", XPAD);
			er.setAttribute("width", full);
		} else {
			er.setAttribute("x", XPAD + (ex - x) * ratio);
			er.setAttribute("width", ew * ratio);
		}
		fit_text(e);
	}
}
function unzoom() {
	var gs = groups();
	unzoombtn.classList.add("hide");${bug === 'reset' ? '' : `
	for (var i = 0; i < gs.length; i++) {
		var r = rect_of(gs[i]);
		gs[i].classList.remove("hide");
		gs[i].classList.remove("parent");
		r.setAttribute("x", r.getAttribute("data-x"));
		r.setAttribute("width", r.getAttribute("data-w"));
		fit_text(gs[i]);
	}`}
}
function search_prompt() {
	if (searching) { reset_search(); return; }
	var term = prompt("Enter a search term (regexp allowed, eg: ^main)", "");
	if (term !== null && term !== "") search(term);
}
function reset_search() {
	var gs = groups();
	for (var i = 0; i < gs.length; i++) { var r = rect_of(gs[i]); r.setAttribute("fill", r.getAttribute("data-fill")); }
	searching = false;
	searchbtn.firstChild.nodeValue = "Search";
	matchedtxt.classList.add("hide");
	matchedtxt.firstChild.nodeValue = " ";
}
function search(term) {
	var re;
	try { re = new RegExp(term); } catch (e) { return; }
	var gs = groups(), hits = [];
	for (var i = 0; i < gs.length; i++) {
		var r = rect_of(gs[i]);
		if (re.test(name_of(gs[i]))) {
			r.setAttribute("fill", "${bug === 'color' ? 'rgb(200,0,200)' : 'rgb(230,0,230)'}");
			hits.push([+r.getAttribute("data-x"), +r.getAttribute("data-w")]);
		} else {
			r.setAttribute("fill", r.getAttribute("data-fill"));
		}
	}
	/* matched share without double counting nested matches */
	hits.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
	var sum = 0, end = -Infinity;
	for (var j = 0; j < hits.length; j++) {
		${bug === 'matched' ? 'sum += hits[j][1];' : 'if (hits[j][0] >= end - 1e-6) { sum += hits[j][1]; end = hits[j][0] + hits[j][1]; }'}
	}
	var pct = 100 * sum / (+svg.getAttribute("width") - 2 * XPAD);
	searching = true;
	searchbtn.firstChild.nodeValue = "Reset Search";
	matchedtxt.firstChild.nodeValue = "Matched: " + pct.toFixed(1) + "%";
	matchedtxt.classList.remove("hide");
}
`;
function svgDoc(stacks, { inverted = false, bug = null, title = 'Flame Graph' } = {}) {
  const root = tree(stacks);
  const W = 1200, XPAD = 10, FH = 16, TOP = 50, BOTTOM = 34;
  let depth = 0;
  const walk = (n, d) => { depth = Math.max(depth, d); for (const c of n.children.values()) walk(c, d + 1); };
  walk(root, 0);
  const H = TOP + (depth + 1) * FH + BOTTOM;
  const scale = (W - 2 * XPAD) / root.count;
  const rows = [];
  const place = (n, d, x, parentCount) => {
    const w = n.count * scale;
    const y = inverted ? TOP + d * FH : H - BOTTOM - (d + 1) * FH;
    let pct = (100 * n.count / root.count).toFixed(2);
    if (bug === 'pct') pct = (100 * n.count / parentCount).toFixed(2);
    const label = n.name === 'all' ? 'all' : n.name;
    const titleText = bug === 'title' ? label : `${label} (${n.count.toLocaleString('en-US')} sample${n.count === 1 ? '' : 's'}, ${pct}%)`;
    const name = bug === 'xml' ? label : esc(label);
    const tt = bug === 'xml' ? titleText : esc(titleText);
    rows.push(`<g><title>${tt}</title><rect x="${(XPAD + x).toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${FH - 1}" fill="${color(n.name)}" rx="2" ry="2"/><text x="${(XPAD + x + 3).toFixed(2)}" y="${y + FH - 5}">${name}</text></g>`);
    let cx = x;
    for (const c of [...n.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      place(c, d + 1, cx, n.count);
      cx += c.count * scale;
    }
  };
  place(root, 0, 0, root.count);
  const interactive = bug !== 'static';
  const lines = [
    '<?xml version="1.0" standalone="no"?>',
    `<svg version="1.1" width="${W}" height="${H}"${interactive ? ' onload="init(evt)"' : ''} viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">`,
    '<style type="text/css">',
    'text { font-family: Verdana, sans-serif; font-size: 12px; fill: rgb(0,0,0); }',
    '#frames > g:hover { stroke: black; stroke-width: 0.5; cursor: pointer; }',
    '.hide { display: none; }',
    '.parent { opacity: 0.5; }',
    '#title { text-anchor: middle; font-size: 17px; }',
    '#search, #unzoom { cursor: pointer; }',
    '</style>',
  ];
  if (interactive) lines.push(`<script type="text/ecmascript"><![CDATA[${SCRIPT(bug, inverted)}]]></script>`);
  lines.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="rgb(245,245,235)"/>`);
  lines.push(`<text id="title" x="${W / 2}" y="24">${esc(title)}</text>`);
  if (bug === 'external') lines.push('<image href="https://example.invalid/logo.png" x="0" y="0" width="16" height="16"/>');
  if (interactive) {
    lines.push(`<text id="details" x="${XPAD}" y="${H - 17}"> </text>`);
    lines.push(`<text id="unzoom" x="${XPAD}" y="24"${bug === 'unzoomvisible' ? '' : ' class="hide"'}>Reset Zoom</text>`);
    lines.push(`<text id="search" x="${W - XPAD - 100}" y="24">Search</text>`);
    lines.push(`<text id="matched" x="${W - XPAD - 100}" y="${H - 17}" class="hide"> </text>`);
  }
  if (inverted) lines.push(`<svg id="frames" x="0" y="0" width="${W}" total_samples="${root.count}">`, ...rows, '</svg>');
  else lines.push('<g id="frames">', ...rows, '</g>');
  lines.push('</svg>', '');
  return lines.join('\n');
}
// Expected "Matched:" shares of this data: "compute" 7/16, "work" 8/16
// (the recursive work inside work counts once), "^main" 8/16.
put('valid-flame.svg', svgDoc(ALL, { title: 'python3 app.py' }));
want('svg', 'valid-flame.svg', 0, '^ALL CHECKS PASSED', '--search compute --expect-matched 43.8');
want('svg', 'valid-flame.svg', 0, '^ALL CHECKS PASSED', '--frame compute --search work --expect-matched 50.0');
want('xmllint', 'valid-flame.svg', 0, '');
put('valid-icicle.svg', svgDoc(withThreads, { inverted: true, title: 'python3 app.py (icicle)' }));
want('svg', 'valid-icicle.svg', 0, '^ALL CHECKS PASSED', '--frame thread --search ^main --expect-matched 50.0');
const brokenSvg = {
  static: 'controls present',
  noclick: 'click zooms',
  reset: 'Reset Zoom restores',
  hover: 'hover shows',
  color: 'highlights',
  matched: 'Matched: 62.5%',
  ctrlf: 'Ctrl-F opens',
  unzoomvisible: 'hidden before any zoom',
  title: 'ends with "\\(N samples, P%\\)"',
  pct: 'percentages agree',
  jserror: 'no JS errors',
  xml: 'well-formed',
  external: 'self-contained',
};
for (const [bug, msg] of Object.entries(brokenSvg)) {
  put(`broken-${bug}.svg`, svgDoc(ALL, { bug }));
  want('svg', `broken-${bug}.svg`, 1, `FAIL.*${msg}`, bug === 'matched' ? '--search work --expect-matched 50.0' : '--search work');
}
want('xmllint', 'broken-xml.svg', 1, '');

put('EXPECT', `${expect.join('\n')}\n`);
