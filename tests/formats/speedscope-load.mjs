#!/usr/bin/env node
// Load a profile (folded stacks, speedscope JSON, or anything else
// speedscope imports) into the real speedscope web app shipped in the npm
// `speedscope` package (dist/release/index.html), in headless chromium,
// the way the package's own CLI does it: index.html#localProfilePath=<a js
// file calling speedscope.loadFileFromBase64(name, base64)>.
// Fails on speedscope's error alerts ("Unrecognized format", ...), its
// "Something went wrong" screen, JS errors, or when nothing is rendered.
//
// usage: node speedscope-load.mjs FILE [--expect-title TEXT] [--screenshot PNG] [--seconds N]
//   prints 'OK title="<name> - speedscope"'
//   exit 0 loaded, 1 rejected, 2 timeout/usage
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { openBrowser } from './browser.mjs';

const usage = 'usage: speedscope-load.mjs FILE [--expect-title TEXT] [--screenshot PNG] [--seconds N]';
const args = process.argv.slice(2);
let file = null, png = null, seconds = 45, expectTitle = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--screenshot') png = args[++i];
  else if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (args[i] === '--expect-title') expectTitle = args[++i];
  else if (!file) file = args[i];
  else { console.error(usage); process.exit(2); }
}
if (!file) { console.error(usage); process.exit(2); }

const require = createRequire(import.meta.url);
const app = path.join(path.dirname(require.resolve('speedscope/package.json')), 'dist/release/index.html');
let data;
try { data = readFileSync(file); } catch (e) { console.error(`speedscope-load: ${e.message}`); process.exit(2); }

const b = await openBrowser({ seconds, webgl: true, name: 'speedscope-load' });
const { page } = b;
const loader = path.join(b.scratch, 'profile.js');
const name = path.basename(file);
writeFileSync(loader, `speedscope.loadFileFromBase64(${JSON.stringify(name)}, ${JSON.stringify(data.toString('base64'))});\n`);

const alerts = [], jsErrors = [], consoleErrors = [];
page.on('dialog', (d) => { alerts.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
page.on('pageerror', (e) => jsErrors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
// Nothing but the app's own files may be requested.
const external = [];
page.on('request', (r) => { if (!r.url().startsWith('file:')) external.push(r.url()); });

let rc = 1, why = '';
try {
  await page.goto(`file://${app}#localProfilePath=${loader}`);
  const deadline = Date.now() + (seconds - 10) * 1000;
  let st = null;
  for (;;) {
    st = await page.evaluate(() => ({
      title: document.title,
      text: document.body ? document.body.innerText : '',
      canvases: document.querySelectorAll('canvas').length,
    }));
    if (alerts.length) { why = 'speedscope alert'; break; }
    if (jsErrors.length) { why = 'JS error'; break; }
    if (/Something went wrong/i.test(st.text)) { why = 'speedscope: "Something went wrong"'; break; }
    if (st.title.endsWith(' - speedscope') && st.canvases > 0) {
      // Give late failures (e.g. while drawing) a moment to show up.
      await page.waitForTimeout(500);
      if (alerts.length || jsErrors.length) { why = alerts.length ? 'speedscope alert' : 'JS error'; break; }
      if (expectTitle !== null && st.title !== `${expectTitle} - speedscope`) {
        why = `title "${st.title}", expected "${expectTitle} - speedscope"`;
        break;
      }
      rc = 0;
      break;
    }
    if (Date.now() > deadline) { rc = 2; why = `nothing rendered (title "${st.title}")`; break; }
    await page.waitForTimeout(150);
  }
  if (external.length && rc === 0) { rc = 1; why = `requested non-local URLs: ${external.slice(0, 3).join(' ')}`; }
  if (png) await page.screenshot({ path: png });
  if (rc === 0) console.log(`OK title="${st.title}"`);
} catch (e) {
  why = `playwright: ${e.message.split('\n')[0]}`;
  rc = 1;
}
for (const a of alerts) console.error(`ALERT: ${a}`);
for (const e of jsErrors) console.error(`JS ERROR: ${e}`);
if (rc !== 0) {
  for (const e of consoleErrors.slice(0, 5)) console.error(`console error: ${e.slice(0, 300)}`);
  console.error(`FAIL ${name}: ${why}`);
}
await b.close();
process.exit(rc);
