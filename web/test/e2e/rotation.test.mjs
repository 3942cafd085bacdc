// A server that rotates its signing key (`tram-server admin rotate-key`): the browser follows the
// statement signed by the key it pinned at enrolment (protocol.md §4), with no user action, keeps
// the old key for the receipts it signed (a change set carried as a bundle before the rotation and
// pushed after it is answered with its first receipt, signed by the old key), and verifies new
// receipts with the new key. A key
// replaced without a statement, or with one signed by the new key itself (forged), is refused:
// nothing is sent, the reports stay in the outbox, and the sync bar says so in plain words.
// The real tram-server on loopback and Debian's chromium.
//
//   cd web && node --test test/e2e/rotation.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, buildApp, appWithDeviceApi, deviceCall, launchBrowser, reload, setOffline } from './harness.mjs';
import { phone, syncNow, shot, go, waitText } from './phone.mjs';

const MINH = { id: 'minh', role: 'official', units: ['03808'], name: 'Lò Văn Minh' };
let srv, web, A, page;
const keys = {};

before(async () => {
  web = await appWithDeviceApi(await buildApp());
  srv = await startServer({ web, users: [MINH] });
  A = await launchBrowser();
  page = await phone(A, srv.url + '/');
});

after(async () => {
  if (process.exitCode) console.log([...(A?.logs || []), ...(srv?.log || [])].join('\n'));
  await A?.close();
  await srv?.stop();
  if (web && !process.env.TRAM_KEEP_TEMP) rmSync(web, { recursive: true, force: true });
});

// A draft report for xã Mường La (each call a new row).
const writeReport = (narrative) => deviceCall(page, 'default', async (dev, text) => {
  const links = await dev.query('indicator_unit', (x) => x.unit_code === '03808');
  const w = await dev.write([{ t: 'progress_report', k: 'put', f: { unit_code: '03808', indicator: links[0].indicator, period: '2026-H1',
    value: 50, progress: 'on_track', narrative: text, author: 'Lò Văn Minh', recorded_on: '2026-06-03', status: 'draft' } }]);
  return w.seq;
}, narrative);
const receiptServers = () => deviceCall(page, 'default', async (dev) => (await dev.receipts()).map((r) => [r.seq, JSON.parse(r.body).server]));

test('the browser enrols, pins the server key and gets a receipt signed by it', async () => {
  keys.k0 = srv.serverKey;
  const code = await srv.enrolCode('minh');
  const p = await deviceCall(page, 'default', (dev, c) => dev.enroll(c), code);
  assert.equal(p.server_key, keys.k0);
  await reload(page); // the app's own handle opens the enrolled device
  await page.waitForSelector('.syncbar .sync-btn');
  await syncNow(page, 90_000);
  assert.equal(await writeReport('Trước khi đổi khóa'), 1);
  assert.match(await syncNow(page), /Đã đồng bộ xong/);
  assert.deepEqual(await receiptServers(), [[1, keys.k0]]);
});

test('a report carried as a bundle is receipted by the old key while the phone does not know it', async () => {
  // No signal: otherwise the app would send the report itself (it retries while the outbox
  // waits) and race the bundle. The phone stays offline until after the rotation.
  await setOffline(page, true);
  assert.equal(await writeReport('Gửi nhờ trước khi đổi khóa'), 2);
  const b = await deviceCall(page, 'default', (dev) => dev.exportBundle());
  assert.equal(b.count, 1);
  const file = join(srv.root, 'minh.bundle');
  writeFileSync(file, b.text);
  await srv.cli('admin', 'import-bundle', '--data', srv.data, '--in', file, '--out', file + '.receipts');
  const r = JSON.parse(readFileSync(file + '.receipts', 'utf8'));
  assert.deepEqual([r.server, r.response.results[0].status], [keys.k0, 'accepted']);
  // The phone never sees these receipts: it will send seq 2 again after the rotation.
});

test('after `admin rotate-key` the next sync follows the signed statement to the new key', async () => {
  await srv.stopServer();
  const out = await srv.cli('admin', 'rotate-key', '--data', srv.data);
  assert.match(out, /server key rotated/);
  await srv.restart();
  keys.k1 = srv.serverKey;
  assert.notEqual(keys.k1, keys.k0);
  assert.equal(await writeReport('Sau khi đổi khóa'), 3);
  // The signal comes back: the app syncs (on its own, and from the button), following the
  // statement. seq 2 (already on the server through the bundle) is answered "duplicate", seq 3
  // is new; both receipts are signed by the new key, the first one's by the old key.
  await setOffline(page, false);
  assert.match(await syncNow(page), /Đã đồng bộ xong/);
  // The test's own handle on the device was opened before the app followed the key: open it
  // again from what the app stored.
  await page.evaluate(() => { delete window.__tramTest.devices.default; });
  const info = await deviceCall(page, 'default', async (dev) => { const i = await dev.info(); return { key: i.principal.server_key, old: i.oldServerKeys, pending: i.pending }; });
  assert.deepEqual(info, { key: keys.k1, old: [keys.k0], pending: 0 });
  assert.deepEqual(await receiptServers(), [[1, keys.k0], [2, keys.k1], [3, keys.k1]]);
  // The receipts file the office made before the rotation, imported now: signed by the old key,
  // which the device still trusts, so it verifies (nothing new to settle).
  const old = readFileSync(join(srv.root, 'minh.bundle.receipts'), 'utf8');
  const imported = await deviceCall(page, 'default', (dev, text) => dev.importReceipts(text), old);
  assert.deepEqual([imported.accepted, imported.rejected], [0, 0]);
  // The same file claiming a key the device never followed is refused.
  const stranger = old.replace(keys.k0, 'cd'.repeat(32));
  await assert.rejects(deviceCall(page, 'default', (dev, text) => dev.importReceipts(text), stranger), { code: 'bad_signature' });
  // It stays followed across a reload (kept in IndexedDB), and the app's own sync works.
  await reload(page);
  await page.waitForSelector('.syncbar .sync-btn');
  assert.match(await syncNow(page), /Đã đồng bộ xong/);
  assert.equal(await deviceCall(page, 'default', (dev) => dev.principal.server_key), keys.k1);
});

test('after `admin move`, the sync reports the new address and "Tôi" tells the official where to go', async () => {
  await srv.cli('admin', 'move', '--data', srv.data, '--address', 'https://tram.sonla.gov.vn:8443');
  await srv.stopServer();
  await srv.restart();
  assert.equal(srv.serverKey, keys.k1, 'a move alone keeps the key');
  const report = await deviceCall(page, 'default', (dev) => dev.sync());
  assert.equal(report.serverMovedTo, 'https://tram.sonla.gov.vn:8443');
  assert.equal(report.serverKeyRotated, undefined);
  await reload(page);
  await go(page, '#/me');
  await waitText(page, 'section.moved', 'Máy chủ tỉnh đã chuyển sang địa chỉ mới: https://tram.sonla.gov.vn:8443');
  assert.match(await syncNow(page), /Đã đồng bộ xong/, 'this address still works until the operator stops it');
});

// Ed25519 with node:crypto from a 32-byte seed (PKCS#8 of RFC 8410).
function keyFromSeed(seed) {
  const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  return { priv, pub };
}

test('a key replaced with a forged statement (signed by the new key, not the pinned one) is refused, and nothing is sent', async () => {
  await srv.stopServer();
  const seed = randomBytes(32);
  const evil = keyFromSeed(seed);
  writeFileSync(join(srv.data, 'server.key'), seed.toString('hex') + '\n');
  const list = JSON.parse(readFileSync(join(srv.data, 'key-statements.json'), 'utf8'));
  const body = JSON.stringify({ v: 1, kind: 'tram-key-statement', from: keys.k1, to: evil.pub, address: '', at_ms: Date.now() });
  list.push({ body, sig: sign(null, Buffer.from('tram-key-statement-v1:' + body), evil.priv).toString('hex') });
  writeFileSync(join(srv.data, 'key-statements.json'), JSON.stringify(list));
  await srv.restart();
  assert.equal(srv.serverKey, evil.pub);
  assert.equal(await writeReport('Khi máy chủ bị thay khóa'), 4);
  const said = await syncNow(page);
  assert.match(said, /Khóa chữ ký của máy chủ đã đổi mà không có xác nhận của khóa cũ/);
  await shot(page, 'rotation-refused');
  const r = await deviceCall(page, 'default', async (dev) => {
    try { await dev.sync(); return { synced: true }; } catch (e) { return { code: e.code }; }
  });
  assert.deepEqual(r, { code: 'server_key_changed' });
  const after = await deviceCall(page, 'default', async (dev) => ({ key: dev.principal.server_key, waiting: (await dev.outbox()).filter((e) => e.state === 'waiting').map((e) => e.seq) }));
  assert.deepEqual(after, { key: keys.k1, waiting: [4] }, 'still the followed key; the report waits, unsent');
  // The server never saw seq 4.
  const token = await srv.adminToken();
  const devices = (await (await fetch(`${srv.url}/v1/admin/devices`, { headers: { Authorization: `Bearer ${token}` } })).json()).devices;
  assert.equal(devices.find((d) => d.user === 'minh').seq, 3);
});
