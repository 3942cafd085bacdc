// Store and forward in the browser (protocol.md §16): an official without signal exports the
// outbox as a bundle file from "Chờ gửi"; the administrator imports it on the administrator's
// page (POST /v1/admin/bundles) and gets the receipts file; the official, still offline, imports
// it and the outbox settles with verified receipts. The bundle is checked here independently
// (node:crypto: the device's signature over `tram-bundle-v1:` ‖ body), and the same bundle given
// to `tram-server admin import-bundle` answers "duplicate" with the same receipts. The real
// tram-server and Debian's chromium.
//
//   cd web && node --test test/e2e/bundle.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, buildApp, appWithDeviceApi, deviceCall, launchBrowser, setOffline, reload, tempDir, waitFor } from './harness.mjs';
import { phone, syncNow, shot, go, waitText, clickText } from './phone.mjs';

const MINH = { id: 'minh', role: 'official', units: ['03808'], name: 'Lò Văn Minh' };
let srv, web, A, X, minh, admin, files;
const shared = {};

before(async () => {
  web = await appWithDeviceApi(await buildApp());
  srv = await startServer({ web, users: [MINH] });
  [A, X] = await Promise.all([launchBrowser(), launchBrowser()]);
  files = tempDir('tram-bundle-');
});

after(async () => {
  if (process.exitCode) console.log([...(A?.logs || []), ...(X?.logs || [])].join('\n'));
  await Promise.all([A, X].map((b) => b?.close()));
  await srv?.stop();
  if (!process.env.TRAM_KEEP_TEMP) for (const d of [web, files]) if (d) rmSync(d, { recursive: true, force: true });
});

function verifyEd25519(keyHex, message, sigHex) {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(keyHex, 'hex')]);
  return verify(null, Buffer.from(message), createPublicKey({ key: der, format: 'der', type: 'spki' }), Buffer.from(sigHex, 'hex'));
}
// Taps the link that offers a file (a blob: URL with `download`) and returns the saved file's
// text, as chromium saved it into `files` (DevTools' offline mode blocks fetch() of blob: URLs
// in the page, not the download itself).
async function download(page, sel) {
  const name = await page.$eval(sel, (a) => a.download);
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: files });
  rmSync(join(files, name), { force: true });
  await page.$eval(sel, (a) => a.click());
  return waitFor(() => { try { return readFileSync(join(files, name), 'utf8') || null; } catch { return null; } }, { what: `the download of ${name}` });
}

test('offline, the official exports the two waiting reports as a bundle signed by the phone', async () => {
  minh = await phone(A, srv.url + '/');
  await deviceCall(minh, 'default', (dev, c) => dev.enroll(c), await srv.enrolCode('minh'));
  await reload(minh);
  await minh.waitForSelector('.syncbar .sync-btn');
  assert.match(await syncNow(minh, 90_000), /Đã đồng bộ xong/);
  shared.device = await deviceCall(minh, 'default', (dev) => dev.principal.device);
  await setOffline(minh, true);
  for (const [ind, text] of [['CT-CAPNUOC-XA', 'Nước sạch về bản Nà Lốc.'], ['CT-BACSI-TRAMYTE', 'Trạm y tế có 01 bác sĩ.']]) {
    await deviceCall(minh, 'default', (dev, i, n) => dev.write([{ t: 'progress_report', k: 'put', f: { unit_code: '03808', indicator: i, period: '2026-H1',
      value: 1, progress: 'on_track', narrative: n, author: 'Lò Văn Minh', recorded_on: '2026-06-03', status: 'submitted' } }]), ind, text);
  }
  await go(minh, '#/outbox?tab=waiting');
  await minh.waitForSelector('details.bundle-card[open]'); // open by itself: offline with work waiting
  await minh.click('button.export-bundle');
  await minh.waitForSelector('a.file-link');
  await waitText(minh, '.bundle-out', 'Đã xuất 2 thay đổi vào gói');
  assert.match(await minh.$eval('a.file-link', (a) => a.download), /^tram-minh-\d{4}-\d\d-\d\d-1-2\.bundle$/);
  await shot(minh, 'bundle-1-export', { full: true });
  const text = await download(minh, 'a.file-link');
  const b = JSON.parse(text);
  assert.deepEqual(Object.keys(b), ['v', 'kind', 'device', 'created_ms', 'body', 'sig']);
  assert.equal(b.kind, 'tram-bundle');
  assert.equal(b.device, shared.device);
  assert.ok(verifyEd25519(b.device, 'tram-bundle-v1:' + b.body, b.sig), 'signed by the device key over tram-bundle-v1: ‖ body');
  const body = JSON.parse(b.body);
  assert.equal(body.changesets.length, 2);
  const outbox = await deviceCall(minh, 'default', (dev) => dev.outbox());
  assert.deepEqual(outbox.map((e) => e.state), ['waiting', 'waiting'], 'an export sends nothing');
  shared.bundle = join(files, 'minh.bundle');
  writeFileSync(shared.bundle, text);
});

test('the administrator imports the bundle on the administrator\'s page and gets the receipts file', async () => {
  admin = await phone(X, `${srv.url}/#/admin`);
  await admin.waitForSelector('#token');
  await admin.type('#token', await srv.adminToken());
  await admin.click('form button[type=submit]');
  await admin.waitForSelector('#uid');
  await clickText(admin, 'a.tab', 'Nhập gói');
  const input = await admin.waitForSelector('#bundle-file');
  await input.uploadFile(shared.bundle);
  await waitText(admin, '.bundle-result', 'Đã nhập gói của thiết bị');
  assert.match(await admin.$eval('.bundle-result', (e) => e.textContent), /2 thay đổi được nhận, 0 bị từ chối/);
  assert.equal(await admin.$eval('a.file-link', (a) => a.download), 'minh.receipts');
  await shot(admin, 'bundle-2-admin-import', { full: true });
  const receipts = await download(admin, 'a.file-link');
  const r = JSON.parse(receipts);
  assert.equal(r.kind, 'tram-receipts');
  assert.equal(r.device, shared.device);
  assert.equal(r.server, srv.serverKey);
  assert.deepEqual(r.response.results.map((x) => x.status), ['accepted', 'accepted']);
  shared.receipts = join(files, 'minh.receipts');
  writeFileSync(shared.receipts, receipts);
  // The same bundle through the command line: the server already has it, same receipts.
  const cli = join(files, 'cli.receipts');
  await srv.cli('admin', 'import-bundle', '--data', srv.data, '--in', shared.bundle, '--out', cli);
  const again = JSON.parse(readFileSync(cli, 'utf8'));
  assert.deepEqual(again.response.results.map((x) => x.status), ['duplicate', 'duplicate']);
  assert.deepEqual(again.response.results.map((x) => x.receipt.body), r.response.results.map((x) => x.receipt.body));
});

test('still offline, the official imports the receipts file: the outbox settles with verified receipts', async () => {
  // A receipts file for another device is refused, in plain words.
  const other = JSON.parse(readFileSync(shared.receipts, 'utf8'));
  other.device = 'ab'.repeat(32);
  const wrong = join(files, 'wrong.receipts');
  writeFileSync(wrong, JSON.stringify(other));
  await (await minh.$('#receipts-file')).uploadFile(wrong);
  await waitText(minh, '.bundle-card .error', 'của một thiết bị khác');

  // Forged: a receipt whose body was changed no longer verifies; nothing is settled.
  const forged = JSON.parse(readFileSync(shared.receipts, 'utf8'));
  forged.response.results[0].receipt.body = forged.response.results[0].receipt.body.replace('"accepted"', '"rejected"');
  const bad = join(files, 'forged.receipts');
  writeFileSync(bad, JSON.stringify(forged));
  await (await minh.$('#receipts-file')).uploadFile(bad);
  await waitText(minh, '.bundle-card .error', 'Chữ ký của máy chủ không hợp lệ');
  assert.deepEqual((await deviceCall(minh, 'default', (dev) => dev.outbox())).map((e) => e.state), ['waiting', 'waiting']);

  await (await minh.$('#receipts-file')).uploadFile(shared.receipts);
  await waitText(minh, '.toast', 'Đã nhận biên nhận: 2 thay đổi được tỉnh nhận, 0 bị từ chối');
  await waitText(minh, '.card.empty', 'Mọi thay đổi đã được gửi lên tỉnh'); // the outbox redrew: nothing waits
  await shot(minh, 'bundle-3-receipts-imported', { full: true });
  const outbox = await deviceCall(minh, 'default', (dev) => dev.outbox());
  assert.deepEqual(outbox.map((e) => e.state), ['accepted', 'accepted']);
  const receipts = await deviceCall(minh, 'default', (dev) => dev.receipts());
  assert.deepEqual(receipts.map((x) => [x.seq, x.status]), [[1, 'accepted'], [2, 'accepted']]);
  await go(minh, '#/outbox?tab=receipts');
  await minh.waitForSelector('article.receipt');
  assert.equal(await minh.$$eval('article.receipt', (l) => l.length), 2);
  assert.match(await minh.$eval('article.receipt', (e) => e.textContent), /Đã kiểm tra chữ ký số của máy chủ tỉnh/);
  // Imported twice: nothing changes.
  await go(minh, '#/outbox?tab=waiting');
  await minh.waitForSelector('#receipts-file');
  await minh.evaluate(() => document.querySelectorAll('.toast').forEach((e) => e.remove()));
  await (await minh.$('#receipts-file')).uploadFile(shared.receipts);
  await waitText(minh, '.toast', 'Không có gì mới');
  // Back online, the sync has nothing to send and brings the rows back as the server's.
  await setOffline(minh, false);
  assert.match(await syncNow(minh), /Đã đồng bộ xong/);
  const info = await deviceCall(minh, 'default', (dev) => dev.info());
  assert.equal(info.pending, 0);
});
