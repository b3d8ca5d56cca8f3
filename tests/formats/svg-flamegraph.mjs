#!/usr/bin/env node
// Interactive flame graph SVG check (flamegraph.pl / inferno / py-spy DOM
// contract, output-formats.md §2.1) in headless Debian chromium through
// playwright-core.  Checks, each printed as PASS/FAIL:
//   document: well-formed SVG, root onload="init(evt)", inline script, no
//     external resources; #frames groups with <title> + <rect>; controls
//     #details, #unzoom, #search, #matched; every title ends with
//     "(N samples, P%)", P and the rect width agree with N;
//   hover: #details shows the frame;
//   zoom: #unzoom hidden until a frame is clicked; the clicked frame fills
//     the width, its descendants scale with it, unrelated frames hide,
//     ancestors stay; "Reset Zoom" shows and restores everything;
//   search: the #search button and Ctrl-F open a prompt; exactly the frames
//     matching the regex are filled rgb(230,0,230); #matched shows
//     "Matched: X%" with X the overlap-free share of the matches; the
//     button turns into "Reset Search", which clears the highlight;
//   labels (with --labels): every frame's label fits its frame in the font the browser
//     uses (DejaVu Sans without Verdana): as written in the file, as fitted
//     by the script on load, and after a zoom;
//   no JS errors.
//
// usage: node svg-flamegraph.mjs FILE.svg [--frame TITLE_PREFIX] [--search REGEX]
//            [--expect-matched PCT] [--screenshot PNG] [--seconds N] [--labels]
//   --frame           the frame to click (default: the widest frame that is
//                     narrower than 90% of the root)
//   --search          the search term (default: the first word of that frame)
//   --expect-matched  also require "Matched: PCT%" (±0.05) for that term
//   exit 0 all checks pass, 1 a check failed, 2 timeout/usage
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openBrowser } from './browser.mjs';

const usage = 'usage: svg-flamegraph.mjs FILE.svg [--frame PREFIX] [--search REGEX] [--expect-matched PCT] [--screenshot PNG] [--seconds N]';
const args = process.argv.slice(2);
const opt = { frame: null, search: null, expectMatched: null, png: null, seconds: 60, labels: false };
let file = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--frame') opt.frame = args[++i];
  else if (a === '--search') opt.search = args[++i];
  else if (a === '--expect-matched') opt.expectMatched = Number(args[++i]);
  else if (a === '--screenshot') opt.png = args[++i];
  else if (a === '--seconds') opt.seconds = Number(args[++i]);
  else if (a === '--labels') opt.labels = true;
  else if (!file) file = a;
  else { console.error(usage); process.exit(2); }
}
if (!file || !existsSync(file)) { console.error(file ? `svg-flamegraph: no such file '${file}'` : usage); process.exit(2); }

const failures = [];
function check(ok, msg) {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${msg}`);
  if (!ok) failures.push(msg);
  return ok;
}

const b = await openBrowser({ seconds: opt.seconds, viewport: { width: 1280, height: 800 }, name: 'svg-flamegraph' });
const { page } = b;
const jsErrors = [], external = [], dialogs = [];
let answers = [];	// what to type into the next prompt()s; null = dismiss
page.on('pageerror', (e) => jsErrors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') jsErrors.push(`console: ${m.text()}`); });
page.on('request', (r) => { if (!/^(file|data|about|blob):/.test(r.url())) external.push(r.url()); });
page.on('dialog', async (d) => {
  dialogs.push(d.type());
  const a = answers.length ? answers.shift() : null;
  try { if (a === null || d.type() !== 'prompt') await d.dismiss(); else await d.accept(a); } catch { /* page went away */ }
});

// In the page: frame groups and their geometry.  A frame is a <g> under
// #frames (directly, or in nested <g>/<svg> containers) with a <title> and
// a <rect> child.
const FRAMES_JS = `(() => {
  const root = document.getElementById('frames');
  if (!root) return [];
  return [...root.querySelectorAll('g')].filter((g) => g.querySelector(':scope > title') && g.querySelector(':scope > rect'));
})()`;
async function frameInfo() {
  return page.evaluate((js) => {
    // eslint-disable-next-line no-eval
    const gs = (0, eval)(js);
    return gs.map((g, i) => {
      g.setAttribute('data-pyspy-idx', String(i));
      const r = g.querySelector(':scope > rect').getBoundingClientRect();
      const rect = g.querySelector(':scope > rect');
      return {
        i,
        title: g.querySelector(':scope > title').textContent,
        x: r.left, w: r.width, y: r.top, h: r.height,
        fill: getComputedStyle(rect).fill.replace(/\s+/g, ''),
        cls: g.getAttribute('class') || '',
      };
    });
  }, FRAMES_JS);
}
async function hidden(id) {
  return page.evaluate((id) => {
    const el = document.getElementById(id);
    if (!el) return true;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return el.classList.contains('hide') || cs.display === 'none' || cs.visibility === 'hidden' || Number(cs.opacity) === 0 || (r.width === 0 && r.height === 0);
  }, id);
}
async function textOf(id) { return page.evaluate((id) => { const e = document.getElementById(id); return e ? e.textContent : null; }, id); }
async function clickAt(x, y) { await page.mouse.click(x, y); await page.waitForTimeout(50); }
async function clickId(id) {
  const r = await page.evaluate((id) => { const b = document.getElementById(id).getBoundingClientRect(); return { x: b.left + b.width / 2, y: b.top + b.height / 2 }; }, id);
  await clickAt(r.x, r.y);
}
const TITLE = /^(.*) \(([0-9][0-9,]*) samples?, ([0-9]+(?:\.[0-9]+)?)%\)$/;
const nameOf = (title) => { const m = TITLE.exec(title); return m ? m[1] : title; };
const near = (a, b, tol) => Math.abs(a - b) <= tol;

// Every frame's label fits its frame in the font the browser really uses
// (DejaVu Sans where Verdana is missing).  static: the labels as written in
// the file (shown without the script), measured in a probe <text>; else
// the live labels (the script's, after load or a zoom).
async function labelsFit(staticTexts) {
  return page.evaluate((st) => {
    const NS = 'http://www.w3.org/2000/svg';
    const gs = [...document.querySelectorAll('#frames > g')];
    const probe = document.createElementNS(NS, 'text');
    document.getElementById('frames').appendChild(probe);
    const bad = [];
    gs.forEach((g, i) => {
      const r = g.querySelector('rect'), t = g.querySelector('text');
      if (!r || !t || g.style.display === 'none' || g.classList.contains('hide')) return;
      const w = parseFloat(r.getAttribute('width'));
      let len;
      if (st) { probe.textContent = st[i] || ''; len = probe.textContent ? probe.getComputedTextLength() : 0; }
      else len = t.textContent ? t.getComputedTextLength() : 0;
      if (len > 0 && len > w - 3 + 0.5) bad.push(`${JSON.stringify(st ? st[i] : t.textContent)} is ${len.toFixed(1)} px in a ${w.toFixed(1)} px frame`);
    });
    probe.remove();
    return bad;
  }, staticTexts);
}

async function run() {
  const url = `file://${path.resolve(file)}`;
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForTimeout(100);

  // ---------------------------------------------------------------- document
  const doc = await page.evaluate(() => {
    const de = document.documentElement;
    const refs = [...document.querySelectorAll('*')].flatMap((e) => ['href', 'src', 'xlink:href']
      .map((a) => e.getAttribute(a)).filter((v) => v && !/^(#|data:)/.test(v)));
    const scripts = [...document.getElementsByTagName('script')];
    return {
      parseError: document.getElementsByTagName('parsererror').length > 0 || document.querySelector('parsererror') !== null,
      isSvg: de.namespaceURI === 'http://www.w3.org/2000/svg' && de.localName === 'svg',
      onload: de.getAttribute('onload'),
      inlineScript: scripts.some((s) => !s.getAttribute('href') && !s.getAttribute('xlink:href') && !s.getAttribute('src') && s.textContent.trim().length > 0),
      refs,
      width: de.getBoundingClientRect().width,
      height: de.getBoundingClientRect().height,
      controls: ['details', 'unzoom', 'search', 'matched'].filter((id) => document.getElementById(id)),
    };
  });
  check(!doc.parseError, 'document is well-formed XML');
  check(doc.isSvg, 'document is an SVG');
  check(/^\s*init\(evt\)\s*;?\s*$/.test(doc.onload || ''), `root <svg onload="init(evt)"> (onload=${JSON.stringify(doc.onload)})`);
  check(doc.inlineScript, 'inline <script> present');
  check(doc.refs.length === 0, `self-contained: no external references${doc.refs.length ? ` (${doc.refs.slice(0, 3).join(' ')})` : ''}`);
  if (doc.height > 800) await page.setViewportSize({ width: 1280, height: Math.min(Math.ceil(doc.height) + 20, 8000) });
  let frames = await frameInfo();
  const okFrames = check(frames.length > 0, `#frames has ${frames.length} frame groups with <title> + <rect>`);
  const okControls = check(doc.controls.length === 4, `controls present: ${doc.controls.join(',') || 'none'} (need details,unzoom,search,matched)`);
  if (!okFrames || !okControls || doc.parseError) return;

  const parsed = frames.map((f) => ({ ...f, m: TITLE.exec(f.title) }));
  const bad = parsed.filter((f) => !f.m);
  check(bad.length === 0, `every <title> ends with "(N samples, P%)"${bad.length ? ` (${bad.length} do not, e.g. ${JSON.stringify(bad[0].title)})` : ''}`);
  if (bad.length) return;
  for (const f of parsed) { f.n = Number(f.m[2].replace(/,/g, '')); f.p = Number(f.m[3]); f.name = f.m[1]; f.dec = (f.m[3].split('.')[1] || '').length; }
  const total = Math.max(...parsed.map((f) => f.n));
  const root = parsed.find((f) => f.n === total);
  const badPct = parsed.filter((f) => !near(f.p, 100 * f.n / total, 0.51 * 10 ** -f.dec + 1e-9));
  check(badPct.length === 0, `percentages agree with sample counts (total ${total})${badPct.length ? `: ${JSON.stringify(badPct[0].title)}` : ''}`);
  const badW = parsed.filter((f) => !near(f.w, root.w * f.n / total, Math.max(1, 0.01 * root.w * f.n / total)));
  check(badW.length === 0, `frame widths proportional to sample counts${badW.length ? `: ${JSON.stringify(badW[0].title)} is ${badW[0].w.toFixed(1)} px, want ${(root.w * badW[0].n / total).toFixed(1)}` : ''}`);
  if (opt.labels) {
    // the labels as written by pyspy-analyze, before the script relabels them
    const src = readFileSync(file, 'utf8');
    const staticTexts = [...src.matchAll(/<g><title>[^<]*<\/title><rect[^>]*\/><text[^>]*>([^<]*)<\/text><\/g>/g)]
      .map((m) => m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&'));
    const font = await page.evaluate(() => getComputedStyle(document.querySelector('#frames text')).fontFamily);
    let badL = staticTexts.length === parsed.length ? await labelsFit(staticTexts) : [`${staticTexts.length} labels for ${parsed.length} frames`];
    check(badL.length === 0, `labels as written fit their frames in the font used (${font})${badL.length ? `: ${badL.length}, e.g. ${badL[0]}` : ''}`);
    badL = await labelsFit(null);
    check(badL.length === 0, `labels fitted by the script fit their frames${badL.length ? `: ${badL.length}, e.g. ${badL[0]}` : ''}`);
  }
  const sep = (n) => n.toLocaleString('en-US');
  const badSep = parsed.filter((f) => f.n >= 1000 && f.m[2] !== sep(f.n));
  check(badSep.length === 0, `sample counts use thousands separators${badSep.length ? `: ${JSON.stringify(badSep[0].title)}` : ''}`);

  // ---------------------------------------------------------------- target frame
  let target = null;
  if (opt.frame !== null) target = parsed.find((f) => f.title.startsWith(opt.frame));
  if (!target) {
    const cands = parsed.filter((f) => f.w < 0.9 * root.w && f.w > 0.05 * root.w).sort((a, b) => b.w - a.w);
    target = cands[0] || parsed.find((f) => f !== root) || root;
    if (opt.frame !== null) check(false, `a frame titled "${opt.frame}..." exists`);
  }
  const rootUp = root.y < target.y;	// icicle: root at the top
  const eps = 0.5;
  const disjoint = (f) => f.x + f.w <= target.x + eps || f.x >= target.x + target.w - eps;
  const ancestors = parsed.filter((f) => !disjoint(f) && f.i !== target.i && (rootUp ? f.y < target.y : f.y > target.y));
  const descendants = parsed.filter((f) => !disjoint(f) && f.i !== target.i && (rootUp ? f.y > target.y : f.y < target.y));
  const unrelated = parsed.filter(disjoint);
  console.log(`INFO ${parsed.length} frames, ${total} samples; clicking ${JSON.stringify(target.title)} (${target.w.toFixed(1)} of ${root.w.toFixed(1)} px)`);

  check(await hidden('unzoom'), '"Reset Zoom" (#unzoom) hidden before any zoom');

  // ---------------------------------------------------------------- hover
  const cx = target.x + target.w / 2, cy = target.y + target.h / 2;
  await page.mouse.move(cx, cy);
  await page.waitForTimeout(50);
  const details = (await textOf('details')) || '';
  check(details.includes(target.name) && details.includes(target.m[2]), `hover shows details ${JSON.stringify(details.trim())}`);

  // ---------------------------------------------------------------- zoom
  await clickAt(cx, cy);
  frames = await frameInfo();
  const after = (f) => frames[f.i];
  const shown = (f) => after(f).w > 0 && after(f).h > 0;
  const tz = after(target);
  check(near(tz.w, root.w, Math.max(2, 0.02 * root.w)), `click zooms the frame to full width (${target.w.toFixed(1)} -> ${tz.w.toFixed(1)} px, root ${root.w.toFixed(1)})`);
  check(!(await hidden('unzoom')), '"Reset Zoom" visible after the zoom');
  const ratio = root.w / target.w;
  const badDesc = descendants.filter((f) => !shown(f) || !near(after(f).w, f.w * ratio, Math.max(2, 0.02 * f.w * ratio)));
  check(badDesc.length === 0, `descendants scale with it (${descendants.length} frames x${ratio.toFixed(2)})${badDesc.length ? `: ${JSON.stringify(badDesc[0].title)} ${after(badDesc[0]).w.toFixed(1)} px` : ''}`);
  const visibleUnrelated = unrelated.filter((f) => shown(f) && after(f).x + after(f).w > 0 && after(f).x < doc.width);
  check(visibleUnrelated.length === 0, `unrelated frames hidden (${unrelated.length})${visibleUnrelated.length ? `: ${JSON.stringify(visibleUnrelated[0].title)} still shown` : ''}`);
  check(ancestors.every(shown), `ancestors stay visible (${ancestors.length})`);
  if (opt.labels) {
    const badL = await labelsFit(null);
    check(badL.length === 0, `labels fit their frames after the zoom${badL.length ? `: ${badL.length}, e.g. ${badL[0]}` : ''}`);
  }
  if (opt.png) await page.screenshot({ path: opt.png.replace(/(\.png)?$/, '-zoomed.png') });

  await clickId('unzoom');
  frames = await frameInfo();
  const moved = parsed.filter((f) => !near(after(f).w, f.w, 1) || !near(after(f).x, f.x, 1));
  check(moved.length === 0 && near(after(target).w, target.w, 1), `Reset Zoom restores every frame${moved.length ? ` (${moved.length} differ, e.g. ${JSON.stringify(moved[0].title)})` : ''}`);
  check(await hidden('unzoom'), '"Reset Zoom" hidden again');

  // ---------------------------------------------------------------- search
  const term = opt.search !== null ? opt.search : (/[\p{L}\p{N}_]+/u.exec(target.name) || [target.name])[0];
  let re;
  try { re = new RegExp(term); } catch (e) { check(false, `search term is a valid regex: ${e.message}`); return; }
  const matches = parsed.filter((f) => re.test(f.name));
  // Overlap-free share: a match inside another match counts once.
  const sorted = matches.map((f) => [f.x, f.w, f.n]).sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let end = -Infinity, sum = 0;
  for (const [x, w, n] of sorted) if (x >= end - eps) { sum += n; end = x + w; }
  const expected = 100 * sum / total;
  console.log(`INFO search ${JSON.stringify(term)}: ${matches.length} matching frames, expected Matched ${expected.toFixed(2)}%`);

  const HL = 'rgb(230,0,230)';
  async function checkSearch(how) {
    frames = await frameInfo();
    const lit = frames.filter((f) => f.fill === HL).map((f) => f.i);
    const want = matches.map((f) => f.i);
    const missing = want.filter((i) => !lit.includes(i)), extra = lit.filter((i) => !want.includes(i));
    check(want.length > 0 && missing.length === 0 && extra.length === 0,
      `${how}: search ${JSON.stringify(term)} highlights exactly the ${want.length} matching frame(s) in ${HL}` +
      `${missing.length ? ` (${missing.length} not highlighted, e.g. ${JSON.stringify(parsed[missing[0]].title)} is ${frames[missing[0]].fill})` : ''}` +
      `${extra.length ? ` (${extra.length} others highlighted)` : ''}`);
    const matched = ((await textOf('matched')) || '').trim();
    const mm = /Matched: ([0-9.]+)%/.exec(matched);
    const shownPct = mm ? Number(mm[1]) : NaN;
    check(!(await hidden('matched')) && mm && near(shownPct, expected, 0.15),
      `${how}: "${matched}" shown, expected ${expected.toFixed(1)}%`);
    if (opt.expectMatched !== null) check(mm && near(shownPct, opt.expectMatched, 0.051), `${how}: "${matched}" is the required ${opt.expectMatched}%`);
  }
  const nd = dialogs.length;
  answers = [term];
  await clickId('search');
  await page.waitForTimeout(100);
  check(dialogs.length > nd && dialogs[nd] === 'prompt', 'the Search button opens a prompt');
  await checkSearch('button');
  check(/Reset Search/i.test((await textOf('search')) || ''), `search button turns into "Reset Search" (${JSON.stringify(((await textOf('search')) || '').trim())})`);
  answers = [null];
  await clickId('search');	// Reset Search
  await page.waitForTimeout(50);
  frames = await frameInfo();
  check(frames.every((f) => f.fill !== HL) && frames.every((f, i) => f.fill === parsed[i].fill), 'Reset Search restores the colours');

  const nk = dialogs.length;
  answers = [term];
  await page.mouse.move(2, 2);
  await page.keyboard.press('Control+f');
  await page.waitForTimeout(150);
  if (check(dialogs.length > nk && dialogs[nk] === 'prompt', 'Ctrl-F opens the search prompt')) await checkSearch('Ctrl-F');
  answers = [null];
  if (opt.png) await page.screenshot({ path: opt.png });
}

let crashed = null;
try { await run(); } catch (e) { crashed = e; }
if (crashed) check(false, `checks ran to the end (${String(crashed.message || crashed).split('\n')[0]})`);
check(external.length === 0, `self-contained: no external requests${external.length ? ` (${external.slice(0, 3).join(' ')})` : ''}`);
check(jsErrors.length === 0, `no JS errors${jsErrors.length ? `: ${jsErrors.slice(0, 3).join(' | ')}` : ''}`);
await b.close();
console.log(failures.length ? `FAILED ${failures.length} check(s)` : 'ALL CHECKS PASSED');
process.exit(failures.length ? 1 : 0);
