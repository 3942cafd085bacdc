// The end-to-end harness: a real tram-server on loopback in a temporary data directory (seeded,
// with users and enrolment codes), the web files it serves with --web, and Debian's chromium
// driven by puppeteer-core, one user-data directory per browser profile so that each profile is
// its own device. Every wait is bounded: a hung server or browser fails the test, never hangs it.
//
// Used by device.test.mjs, the UI tests, the CI scenario and bench/budgets.mjs:
//   const srv = await startServer({ web: distDir, users: [{ id, role, units, name }] });
//   const code = await srv.enrolCode('minh');
//   const b = await launchBrowser();  const page = await b.open(srv.url + '/');
//   await setOffline(page, true); …; await b.close(); await srv.stop();
//   const tuan = fieldDevice(dir); await tuan.run('init', '--server', srv.url, '--code', code);
//   await deviceCall(page, 'default', (dev) => dev.outbox());   // with appWithDeviceApi(dist)
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIR = resolve(here, '../..');
export const REPO = resolve(WEB_DIR, '..');
// CTest sets TRAM_SERVER_BIN and TRAM_FIELD_BIN (the build under test, e.g. the ASan one).
export const SERVER_BIN = process.env.TRAM_SERVER_BIN || process.env.TRAM_SERVER || join(REPO, 'build/dev/server/tram-server');
export const FIELD_BIN = process.env.TRAM_FIELD_BIN || join(REPO, 'build/dev/examples/field-app/tram-field');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// ---- bounded waiting ------------------------------------------------------------------------

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls fn until it returns a truthy value (returned), or fails after `timeout` ms.
export async function waitFor(fn, { timeout = 15_000, interval = 100, what = 'condition' } = {}) {
  const until = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > until) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

export const tempDir = (prefix) => mkdtempSync(join(tmpdir(), prefix));

// ---- the server -------------------------------------------------------------------------------

function run(args, { timeout = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(SERVER_BIN, args, { timeout, maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      if (e) reject(new Error(`tram-server ${args.join(' ')} failed: ${e.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

// users: [{ id, role, units: ['03808'] | undefined, allUnits: bool, name }]
export async function startServer({ web, users = [], seed = true, extraArgs = [] } = {}) {
  if (!existsSync(SERVER_BIN)) throw new Error(`no tram-server at ${SERVER_BIN}: build it first (make)`);
  const root = tempDir('tram-e2e-');
  const data = join(root, 'data');
  if (seed) await run(['seed', '--data', data], { timeout: 120_000 });
  else mkdirSync(data, { recursive: true });
  for (const u of users) {
    const args = ['admin', 'create-user', '--data', data, '--id', u.id, '--role', u.role];
    if (u.units && u.units.length) args.push('--units', u.units.join(','));
    if (u.allUnits) args.push('--all-units');
    if (u.name) args.push('--name', u.name);
    await run(args);
  }
  const srv = { root, data, url: null, port: null, serverKey: null, proc: null, log: [] };
  await serve(srv, web, extraArgs);
  srv.enrolCode = (user) => run(['admin', 'enrol-code', '--data', data, '--user', user]).then((out) => out.split(/\s+/).find((w) => /^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/.test(w)));
  srv.cli = (...args) => run(args);
  srv.adminToken = () => run(['admin', 'token', '--data', data]);
  // Stop and start on the same port (the web page's origin stays the same).
  srv.stopServer = () => stopProc(srv);
  srv.restart = async () => { await stopProc(srv); await serve(srv, web, extraArgs, srv.port); };
  srv.stop = async ({ keep = false } = {}) => {
    await stopProc(srv);
    if (!keep && !process.env.TRAM_KEEP_TEMP) rmSync(root, { recursive: true, force: true });
  };
  return srv;
}

async function serve(srv, web, extraArgs, port = 0) {
  const args = ['serve', '--data', srv.data, '--listen', `127.0.0.1:${port}`, ...(web ? ['--web', web] : []), ...extraArgs];
  const proc = spawn(SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  srv.proc = proc;
  let out = '';
  proc.stderr.on('data', (d) => { srv.log.push(d.toString()); if (srv.log.length > 2000) srv.log.shift(); });
  const exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  srv.exited = exited;
  await withTimeout(new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d.toString();
      const m = out.match(/listening on [^\s]*:(\d+)/);
      const k = out.match(/server key ([0-9a-f]{64})/);
      if (m && k) resolve();
    });
    exited.then((code) => reject(new Error(`tram-server exited ${code} before listening:\n${srv.log.join('')}`)));
  }), 30_000, 'tram-server to listen');
  srv.port = Number(out.match(/listening on [^\s]*:(\d+)/)[1]);
  srv.serverKey = out.match(/server key ([0-9a-f]{64})/)[1];
  srv.url = `http://127.0.0.1:${srv.port}`;
}

async function stopProc(srv) {
  const p = srv.proc;
  if (!p || p.exitCode !== null) return;
  p.kill('SIGTERM');
  try {
    await withTimeout(srv.exited, 15_000, 'tram-server to stop');
  } catch {
    p.kill('SIGKILL');
    await withTimeout(srv.exited, 5_000, 'tram-server to die');
  }
}

// ---- the web files ----------------------------------------------------------------------------

// The app as `npm run build` makes it (web/dist).
export async function buildApp() {
  await new Promise((resolve, reject) => {
    execFile(process.execPath, ['build.mjs'], { cwd: WEB_DIR, timeout: 120_000 }, (e, _out, err) => (e ? reject(new Error(`build.mjs: ${e.message}\n${err}`)) : resolve()));
  });
  return join(WEB_DIR, 'dist');
}

// A test page of its own: `entry` bundled with esbuild into a temporary directory with an
// index.html that loads it (no inline script: the server's CSP forbids it) and any extra files
// ({ name: content }). Returns the directory, for --web.
export async function bundleTestPage(entry, { files = {}, title = 'tram test' } = {}) {
  const { build } = await import('esbuild');
  const dir = tempDir('tram-web-');
  await build({ entryPoints: { 'test-page': entry }, bundle: true, format: 'esm', target: 'es2022', outdir: dir, logLevel: 'warning', sourcemap: 'inline' });
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="/test-page.js"></script><body></body>`);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

// The built app (dist) plus the device library as a module of its own, /tram-test-device.js, so
// that a test can reach the browser's device from page context (deviceCall below) on the real
// app's pages: a copy in a temporary directory, for --web. The app's files are unchanged.
export async function appWithDeviceApi(dist) {
  const { build } = await import('esbuild');
  const dir = tempDir('tram-web-');
  cpSync(dist, dir, { recursive: true });
  await build({ entryPoints: { 'tram-test-device': join(WEB_DIR, 'src/device/device.js') }, bundle: true, format: 'esm', target: 'es2022', outdir: dir, logLevel: 'warning' });
  return dir;
}

// Runs fn(dev, ...args) in the page, on the device `name` of this browser ('default' is the
// app's own), opened by the library from /tram-test-device.js (appWithDeviceApi): a second
// handle on the same IndexedDB as the app's. Returns fn's result as JSON (BigInts as strings,
// bytes as their length); a thrown error comes back as an Error with the device's code,
// { vi, en } message and problems. The module is fetched from the server the first time: call
// it once while online before relying on it offline.
export function deviceCall(page, name, fn, ...args) {
  return deviceCallWithin(60_000, page, name, fn, ...args);
}

// deviceCall bounded by `ms` instead of a minute (a sync over a slow link; the browser must be
// launched with a protocolTimeout at least as long).
export async function deviceCallWithin(ms, page, name, fn, ...args) {
  const src = `(async () => {
    const json = (v) => JSON.parse(JSON.stringify(v ?? null, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? '<' + x.length + ' bytes>' : x)));
    window.__tramTest = window.__tramTest || { devices: {} };
    const T = window.__tramTest;
    if (!T.Device) T.Device = (await import('/tram-test-device.js')).Device;
    if (!T.devices[${JSON.stringify(name)}]) T.devices[${JSON.stringify(name)}] = await T.Device.open({ baseUrl: location.origin, name: ${JSON.stringify(name)} });
    const dev = T.devices[${JSON.stringify(name)}];
    try { return { ok: json(await (${fn.toString()})(dev, ...${JSON.stringify(args)})) }; }
    catch (e) { return { error: { code: e.code || e.name, message: e.message, problems: e.problems ? json(e.problems) : undefined, stack: String(e.stack || '') } }; }
  })()`;
  const r = await withTimeout(page.evaluate(src), ms, `deviceCall(${fn.name || 'fn'})`);
  if (r.error) throw Object.assign(new Error(`${r.error.code}: ${JSON.stringify(r.error.message)}\n${r.error.stack}`), r.error);
  return r.ok;
}

// ---- tram-field, the command-line device ------------------------------------------------------

// A tram-field device with its own home directory and wrapping key (TRAM_FIELD_KEY): run(...args)
// resolves with stdout, json(...args) with the parsed --json answer. Every call is bounded.
export function fieldDevice(home, { key = randomBytes(32).toString('hex') } = {}) {
  if (!existsSync(FIELD_BIN)) throw new Error(`no tram-field at ${FIELD_BIN}: build it first (make)`);
  const run = (...args) => new Promise((resolve, reject) => {
    execFile(FIELD_BIN, ['--home', home, ...args], { timeout: 60_000, maxBuffer: 16 << 20, env: { ...process.env, TRAM_FIELD_KEY: key } }, (e, stdout, stderr) => {
      if (e) reject(Object.assign(new Error(`tram-field ${args.join(' ')} failed: ${e.message}\n${stdout}\n${stderr}`), { stdout, stderr }));
      else resolve(stdout);
    });
  });
  return { home, run, json: async (...args) => JSON.parse(await run(...args, '--json')) };
}

// ---- the browser ------------------------------------------------------------------------------

// One chromium with its own profile directory: its own IndexedDB, so its own device.
export async function launchBrowser({ profileDir = tempDir('tram-chromium-'), headless = true, protocolTimeout = 60_000 } = {}) {
  const browser = await withTimeout(puppeteer.launch({
    executablePath: CHROMIUM,
    headless,
    userDataDir: profileDir,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--disable-gpu'],
    protocolTimeout,
  }), 60_000, 'chromium to start');
  const logs = [];
  return {
    browser,
    profileDir,
    logs,
    // A page at `url`, its console kept in `logs` (printed when a test fails).
    async open(url) {
      const page = await browser.newPage();
      page.setDefaultTimeout(30_000);
      page.on('console', (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
      await withTimeout(page.goto(url, { waitUntil: 'load' }), 30_000, `loading ${url}`);
      return page;
    },
    async close({ keepProfile = false } = {}) {
      await withTimeout(browser.close(), 20_000, 'chromium to close').catch(() => browser.process()?.kill('SIGKILL'));
      if (!keepProfile && !process.env.TRAM_KEEP_TEMP) rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

// Offline and online as the phone sees it: no network at all (navigator.onLine false, the
// `offline` and `online` events fire), through the DevTools protocol.
export async function setOffline(page, offline) {
  await page.setOfflineMode(offline);
}

// A slow link (bytes per second each way, latency in ms), or the normal one with null.
export async function throttle(page, conditions) {
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', conditions
    ? { offline: false, latency: conditions.latency ?? 50, downloadThroughput: conditions.down ?? conditions.bps, uploadThroughput: conditions.up ?? conditions.bps }
    : { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  return cdp;
}

// Reloads, bounded; works offline when a service worker serves the page.
export async function reload(page) {
  await withTimeout(page.reload({ waitUntil: 'load' }), 30_000, 'reloading the page');
}

// Evaluates fn in the page, bounded in time.
export function inPage(page, fn, ...args) {
  return withTimeout(page.evaluate(fn, ...args), 60_000, `page.evaluate(${fn.name || 'fn'})`);
}
