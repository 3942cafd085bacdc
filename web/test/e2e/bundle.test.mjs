// Store and forward in the browser (protocol.md §16): an official without signal records two
// reports, one with a photo, and exports the outbox as a bundle file from "Chờ gửi" (version 2:
// the photo travels in it); the administrator imports it on the administrator's page
// (POST /v1/admin/bundles) and gets the receipts file; the official, still offline, imports it
// and the outbox settles with verified receipts and the photo leaves the upload queue. The bundle
// is checked here independently (node:crypto: the device's signature over `tram-bundle-v1:` ‖
// body; @noble/hashes: the photo's BLAKE2b-256), a copy with one byte of the photo changed is
// refused whole by the page and by `tram-server admin import-bundle`, and the same bundle given
// to the command line answers "duplicate" with the same receipts. Back online, the server serves
// the photo, byte for byte, and the sync uploads nothing. The real tram-server and Debian's
// chromium.
//
//   cd web && node --test test/e2e/bundle.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { blake2b } from '@noble/hashes/blake2.js';
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

const blake2b256Hex = (buf) => Buffer.from(blake2b(new Uint8Array(buf), { dkLen: 32 })).toString('hex');

test('offline, the official exports the two waiting reports and the photo as a bundle signed by the phone', async () => {
  minh = await phone(A, srv.url + '/');
  await deviceCall(minh, 'default', (dev, c) => dev.enroll(c), await srv.enrolCode('minh'));
  await reload(minh);
  await minh.waitForSelector('.syncbar .sync-btn');
  assert.match(await syncNow(minh, 90_000), /Đã đồng bộ xong/);
  shared.device = await deviceCall(minh, 'default', (dev) => dev.principal.device);
  await setOffline(minh, true);
  const reports = [];
  for (const [ind, text] of [['CT-CAPNUOC-XA', 'Nước sạch về bản Nà Lốc.'], ['CT-BACSI-TRAMYTE', 'Trạm y tế có 01 bác sĩ.']]) {
    reports.push((await deviceCall(minh, 'default', (dev, i, n) => dev.write([{ t: 'progress_report', k: 'put', f: { unit_code: '03808', indicator: i, period: '2026-H1',
      value: 1, progress: 'on_track', narrative: n, author: 'Lò Văn Minh', recorded_on: '2026-06-03', status: 'submitted' } }]), ind, text)).ids[0]);
  }
  // The photo of the first report (a PNG of the phone's screen will do), kept on the phone as the
  // report form keeps one: attached, then named by an evidence row in a signed change set.
  const png = await minh.screenshot({ encoding: 'base64' });
  shared.photo = Buffer.from(png, 'base64');
  shared.hash = await deviceCall(minh, 'default', async (dev, b64, report) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const hash = await dev.attach(new Blob([bytes], { type: 'image/png' }), 'image/png');
    await dev.write([{ t: 'evidence', k: 'put', f: { report, unit_code: '03808', file: hash, caption: 'Bể nước bản Nà Lốc', content_type: 'image/png' } }]);
    return hash;
  }, png, reports[0]);
  assert.equal(shared.hash, blake2b256Hex(shared.photo), 'the phone names the photo by its BLAKE2b-256');
  await go(minh, '#/outbox?tab=waiting');
  await minh.waitForSelector('details.bundle-card[open]'); // open by itself: offline with work waiting
  // Every progress line the export wrote ("Đang đóng gói ảnh 1/1…"), however briefly shown.
  await minh.evaluate(() => {
    window.__packing = [];
    new MutationObserver((records) => records.forEach((r) => {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (el?.classList.contains('packing') && el.textContent) window.__packing.push(el.textContent);
    })).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await minh.click('button.export-bundle');
  await minh.waitForSelector('a.file-link');
  await waitText(minh, '.bundle-out', 'Đã xuất 3 thay đổi và 1 ảnh minh chứng (');
  assert.ok((await minh.evaluate(() => window.__packing)).includes('Đang đóng gói ảnh 1/1…'), 'the export said which photo it was packing');
  assert.match(await minh.$eval('a.file-link', (a) => a.download), /^tram-minh-\d{4}-\d\d-\d\d-1-3\.bundle$/);
  await shot(minh, 'bundle-1-export', { full: true });
  const text = await download(minh, 'a.file-link');
  const b = JSON.parse(text);
  assert.deepEqual(Object.keys(b), ['v', 'kind', 'device', 'created_ms', 'body', 'sig', 'files']);
  assert.equal(b.v, 2, 'version 2: it carries a file');
  assert.equal(b.kind, 'tram-bundle');
  assert.deepEqual(b.files.map((f) => [f.hash, f.size]), [[shared.hash, shared.photo.length]]);
  assert.ok(Buffer.from(b.files[0].data, 'base64').equals(shared.photo), 'the photo\'s bytes, base64');
  assert.equal(b.device, shared.device);
  assert.ok(verifyEd25519(b.device, 'tram-bundle-v1:' + b.body, b.sig), 'signed by the device key over tram-bundle-v1: ‖ body');
  const body = JSON.parse(b.body);
  assert.equal(body.changesets.length, 3);
  const outbox = await deviceCall(minh, 'default', (dev) => dev.outbox());
  assert.deepEqual(outbox.map((e) => e.state), ['waiting', 'waiting', 'waiting'], 'an export sends nothing');
  assert.deepEqual((await deviceCall(minh, 'default', (dev) => dev.attachments())).map((a) => a.state), ['waiting']);
  shared.bundle = join(files, 'minh.bundle');
  writeFileSync(shared.bundle, text);
  // The same bundle with one byte of the photo changed (damaged on the USB stick, or altered):
  // the signature still verifies (it does not cover the files), only the hash can tell.
  const photo = Buffer.from(b.files[0].data, 'base64');
  photo[photo.length >> 1] ^= 0x01;
  shared.altered = join(files, 'altered.bundle');
  writeFileSync(shared.altered, JSON.stringify({ ...b, files: [{ ...b.files[0], data: photo.toString('base64') }] }));
});

test('the administrator imports the bundle on the administrator\'s page and gets the receipts file', async () => {
  admin = await phone(X, `${srv.url}/#/admin`);
  await admin.waitForSelector('#token');
  await admin.type('#token', await srv.adminToken());
  await admin.click('form button[type=submit]');
  await admin.waitForSelector('#uid');
  await clickText(admin, 'a.tab', 'Nhập gói');
  const input = await admin.waitForSelector('#bundle-file');
  // The altered copy first: refused whole, in plain words, by the page and by the command line.
  await input.uploadFile(shared.altered);
  await waitText(admin, '.bundle-error', 'có ảnh minh chứng trong gói bị thay đổi hoặc bị hỏng');
  await shot(admin, 'bundle-2a-admin-altered-photo', { full: true });
  await assert.rejects(srv.cli('admin', 'import-bundle', '--data', srv.data, '--in', shared.altered, '--out', join(files, 'altered.receipts')),
    /does not hash to its name/);
  // Nothing of it was applied: the real bundle's change sets are new to the server (accepted,
  // not duplicate) just below.
  await input.uploadFile(shared.bundle);
  await waitText(admin, '.bundle-result', 'Đã nhập gói của thiết bị');
  assert.match(await admin.$eval('.bundle-result', (e) => e.textContent), /3 thay đổi được nhận, 0 bị từ chối/);
  assert.match(await admin.$eval('.bundle-result', (e) => e.textContent), /Ảnh minh chứng: 1 ảnh đã lưu, 0 ảnh không lưu/);
  assert.equal(await admin.$eval('.bundle-error', (e) => e.textContent), '', 'the refusal is gone');
  assert.equal(await admin.$eval('a.file-link', (a) => a.download), 'minh.receipts');
  await shot(admin, 'bundle-2-admin-import', { full: true });
  const receipts = await download(admin, 'a.file-link');
  const r = JSON.parse(receipts);
  assert.equal(r.kind, 'tram-receipts');
  assert.equal(r.device, shared.device);
  assert.equal(r.server, srv.serverKey);
  assert.deepEqual(r.response.results.map((x) => x.status), ['accepted', 'accepted', 'accepted']);
  assert.deepEqual(r.files, [{ hash: shared.hash, stored: true }]);
  shared.receipts = join(files, 'minh.receipts');
  writeFileSync(shared.receipts, receipts);
  // The same bundle through the command line: the server already has it, same receipts.
  const cli = join(files, 'cli.receipts');
  await srv.cli('admin', 'import-bundle', '--data', srv.data, '--in', shared.bundle, '--out', cli);
  const again = JSON.parse(readFileSync(cli, 'utf8'));
  assert.deepEqual(again.response.results.map((x) => x.status), ['duplicate', 'duplicate', 'duplicate']);
  assert.deepEqual(again.files.map((f) => f.hash), [shared.hash], 'the photo, already held, is kept once');
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
  assert.deepEqual((await deviceCall(minh, 'default', (dev) => dev.outbox())).map((e) => e.state), ['waiting', 'waiting', 'waiting']);
  assert.deepEqual((await deviceCall(minh, 'default', (dev) => dev.attachments())).map((a) => a.state), ['waiting'], 'nor the photo');

  await (await minh.$('#receipts-file')).uploadFile(shared.receipts);
  await waitText(minh, '.toast', 'Đã nhận biên nhận: 3 thay đổi được tỉnh nhận, 0 bị từ chối. 1 ảnh minh chứng đã được lưu trên máy chủ tỉnh');
  await waitText(minh, '.card.empty', 'Mọi thay đổi đã được gửi lên tỉnh'); // the outbox redrew: nothing waits
  await shot(minh, 'bundle-3-receipts-imported', { full: true });
  const outbox = await deviceCall(minh, 'default', (dev) => dev.outbox());
  assert.deepEqual(outbox.map((e) => e.state), ['accepted', 'accepted', 'accepted']);
  assert.deepEqual((await deviceCall(minh, 'default', (dev) => dev.attachments())).map((a) => a.state), ['complete'], 'the photo left the upload queue');
  const receipts = await deviceCall(minh, 'default', (dev) => dev.receipts());
  assert.deepEqual(receipts.map((x) => [x.seq, x.status]), [[1, 'accepted'], [2, 'accepted'], [3, 'accepted']]);
  await go(minh, '#/outbox?tab=receipts');
  await minh.waitForSelector('article.receipt');
  assert.equal(await minh.$$eval('article.receipt', (l) => l.length), 3);
  assert.match(await minh.$eval('article.receipt', (e) => e.textContent), /Đã kiểm tra chữ ký số của máy chủ tỉnh/);
  // Imported twice: nothing changes.
  await go(minh, '#/outbox?tab=waiting');
  await minh.waitForSelector('#receipts-file');
  await minh.evaluate(() => document.querySelectorAll('.toast').forEach((e) => e.remove()));
  await (await minh.$('#receipts-file')).uploadFile(shared.receipts);
  await waitText(minh, '.toast', 'Không có gì mới');
  // Back online, the sync has nothing to send (not even the photo: no PUT for it in the server's
  // request log) and brings the rows back as the server's.
  await setOffline(minh, false);
  assert.match(await syncNow(minh), /Đã đồng bộ xong/);
  const info = await deviceCall(minh, 'default', (dev) => dev.info());
  assert.equal(info.pending, 0);
  assert.equal(info.uploads, 0);
  assert.ok(!srv.log.join('').split('\n').some((l) => l.includes('"method":"PUT"') && l.includes(shared.hash)), 'the photo was not uploaded again');
  // The server serves the photo the bundle carried, byte for byte: its BLAKE2b-256 is its name.
  const got = await deviceCall(minh, 'default', async (dev, hash) => {
    const st = await dev.getJson(`/v1/attachments/${hash}/status`);
    const res = await dev.fetchAuthed(`/v1/attachments/${hash}`);
    const u8 = new Uint8Array(await res.arrayBuffer());
    let bin = '';
    for (let i = 0; i < u8.length; i += 8192) bin += String.fromCharCode(...u8.subarray(i, i + 8192));
    return { st, status: res.status, b64: btoa(bin) };
  }, shared.hash);
  assert.equal(got.status, 200);
  assert.deepEqual(got.st, { hash: shared.hash, received: shared.photo.length, complete: true });
  const served = Buffer.from(got.b64, 'base64');
  assert.equal(blake2b256Hex(served), shared.hash);
  assert.ok(served.equals(shared.photo));
});
