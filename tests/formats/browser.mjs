// Headless Debian chromium through npm playwright-core (no browser
// download), set up so a validator never touches the real home, never goes
// to the network and never hangs:
//   - a fresh --user-data-dir and a scratch HOME/XDG dirs, removed on close;
//   - the offline flags of output-formats.md §2.3;
//   - a watchdog that kills the browser and exits 2 after `seconds`.
// env CHROMIUM=/path overrides /usr/bin/chromium.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// openBrowser({seconds, viewport, webgl}) -> {page, context, close()}
export async function openBrowser({ seconds = 60, viewport = { width: 1200, height: 700 }, webgl = false, name = 'validator' } = {}) {
  const scratch = mkdtempSync(path.join(process.env.TMPDIR || tmpdir(), 'pyspy-chromium-'));
  const home = path.join(scratch, 'home');
  for (const d of ['home', 'home/.config', 'home/.cache', 'tmp']) mkdirSync(path.join(scratch, d), { recursive: true });
  let context = null;
  const cleanup = () => { try { rmSync(scratch, { recursive: true, force: true }); } catch { /* best effort */ } };
  const watchdog = setTimeout(async () => {
    console.error(`${name}: TIMEOUT after ${seconds} s`);
    try { if (context) await Promise.race([context.close(), new Promise((r) => setTimeout(r, 3000))]); } catch { /* exiting */ }
    cleanup();
    process.exit(2);
  }, seconds * 1000);
  watchdog.unref();
  const args = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    '--disable-default-apps', '--disable-extensions', '--no-default-browser-check', '--mute-audio'];
  // speedscope draws with WebGL: SwiftShader, software only.
  if (webgl) args.push('--enable-unsafe-swiftshader', '--use-angle=swiftshader');
  context = await chromium.launchPersistentContext(path.join(scratch, 'user-data'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args,
    timeout: 30000,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_CACHE_HOME: path.join(home, '.cache'), TMPDIR: path.join(scratch, 'tmp') },
  });
  context.setDefaultTimeout(15000);
  const page = context.pages()[0] || await context.newPage();
  return {
    page,
    context,
    scratch,
    async close() {
      clearTimeout(watchdog);
      try { await Promise.race([context.close(), new Promise((r) => setTimeout(r, 5000))]); } catch { /* closing anyway */ }
      cleanup();
    },
  };
}
