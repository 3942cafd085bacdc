// The browser as an enrolled device, against a real tram-server on loopback, in Debian's
// chromium: enrolment, a write that survives an offline reload, push with a receipt verified
// here independently (node:crypto), the pull that brings the row back as server state, a
// resumable chunked attachment upload, a write refused before signing, notices over the
// WebSocket, and scope: another commune's device never receives these rows.
//
//   cd web && node --test test/e2e/device.test.mjs    (TRAM_E2E_LOGS=1: the pages' consoles and the
//   server's log; TRAM_KEEP_TEMP=1: keep the data directory, the profiles and the bundled page)
// Longer than ~400 lines: one server and browser for twelve cases of the device library, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { blake2b } from '@noble/hashes/blake2.js';
import { schemaVersion } from '../unit/golden.mjs';
import {
  startServer, bundleTestPage, launchBrowser, setOffline, throttle, reload, waitFor, inPage, withTimeout, WEB_DIR,
} from './harness.mjs';

const MINH = { id: 'minh', role: 'official', units: ['03808'], name: 'Lò Văn Minh' };
const LAN = { id: 'lan', role: 'official', units: ['03646'], name: 'Cầm Thị Lan' };

let srv, web, A, B, page, pageB;
const shared = {};

// Runs fn(dev, ...args) in the page on the device `name`; returns its plain result or throws
// with the device error's code (page errors keep their code and {vi, en} message).
async function onDev(p, name, fn, ...args) {
  const src = `(async () => { const dev = await T.open(${JSON.stringify(name)});
    try { return T.json({ ok: await (${fn.toString()})(dev, ...${JSON.stringify(args)}) }); } catch (e) { return T.fail(e); } })()`;
  const r = await inPage(p, src);
  if (r.error) throw Object.assign(new Error(`${r.error.code}: ${JSON.stringify(r.error.message)}\n${r.error.stack}`), r.error);
  return r.ok;
}

// Ed25519 verification with node:crypto, independent of the web code under test.
function verifyEd25519(keyHex, message, sigHex) {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(keyHex, 'hex')]);
  return verify(null, Buffer.from(message), createPublicKey({ key: der, format: 'der', type: 'spki' }), Buffer.from(sigHex, 'hex'));
}

before(async () => {
  const dir = join(WEB_DIR, 'test/e2e/pages');
  web = await bundleTestPage(join(dir, 'device-page.js'), { files: { 'page-sw.js': readFileSync(join(dir, 'page-sw.js'), 'utf8') } });
  srv = await startServer({ web, users: [MINH, LAN] });
  A = await launchBrowser();
  page = await A.open(srv.url + '/');
  await waitFor(() => page.evaluate(() => window.T && window.T.swReady && !!navigator.serviceWorker.controller), { what: 'the service worker to control the page' })
    .catch(async () => { await reload(page); return waitFor(() => page.evaluate(() => !!navigator.serviceWorker.controller), { what: 'service worker control' }); });
});

after(async () => {
  if (process.env.TRAM_E2E_LOGS) console.log([...(A?.logs || []), ...(B?.logs || []), ...(srv?.log || [])].join('\n'));
  await A?.close();
  await B?.close();
  await srv?.stop();
  if (web && !process.env.TRAM_KEEP_TEMP) rmSync(web, { recursive: true, force: true });
});

test('enrolment pins the server key, fetches the schema and the first sync takes the snapshot', async () => {
  const code = await srv.enrolCode('minh');
  assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  assert.equal(await onDev(page, 'default', (dev) => dev.state), 'new');
  // Typed carelessly: lower case, no dashes. The device puts it right.
  const principal = await onDev(page, 'default', (dev, c) => dev.enroll(c), code.toLowerCase().replace(/-/g, ''));
  assert.equal(principal.user, 'minh');
  assert.equal(principal.role, 'official');
  assert.deepEqual(principal.units, ['03808']);
  assert.equal(principal.name, 'Lò Văn Minh');
  assert.equal(principal.server_key, srv.serverKey, 'the pinned key is the server key');
  assert.equal(await onDev(page, 'default', (dev) => [dev.state, dev.schema.id, dev.schema.version].join(' ')), `ready sonla-2026 ${schemaVersion()}`);

  // A second sync called while one runs gets the same promise.
  const r = await onDev(page, 'default', async (dev) => {
    const phases = new Set();
    const p1 = dev.sync({ onProgress: (p) => phases.add(p.phase) });
    const p2 = dev.sync();
    const report = await p1;
    return { same: p1 === p2, report, phases: [...phases] };
  });
  assert.equal(r.same, true, 'a second sync() returns the running one');
  assert.ok(r.report.pulled > 100, `the snapshot brought the reference rows (${r.report.pulled})`);
  assert.ok(r.phases.includes('pull'));

  const ref = await onDev(page, 'default', async (dev) => {
    // A percent indicator: the reports below carry 87.5 (a count would refuse it, schema-format.md §9.1).
    const links = await dev.query('indicator_unit', (x) => x.unit_code === '03808' && x.indicator === 'CT-CAPNUOC-XA');
    const periods = await dev.query('reporting_period');
    const units = await dev.query('unit');
    return { indicator: links[0]?.indicator, period: periods.find((p) => p.id === '2026-H1' || p.code === '2026-H1')?.id, units: units.length };
  });
  assert.ok(ref.indicator, 'an indicator expected of commune 03808');
  assert.ok(ref.period, 'the period 2026-H1');
  assert.ok(ref.units > 50, 'the province units');
  Object.assign(shared, ref);
});

test('a write made offline survives a reload, then syncs with a verified receipt and comes back as server state', async () => {
  await setOffline(page, true);
  assert.equal(await page.evaluate(() => navigator.onLine), false);
  const w = await onDev(page, 'default', (dev, ind, per) => dev.write([{ t: 'progress_report', k: 'put', f: {
    unit_code: '03808', indicator: ind, period: per, value: 87.5, progress: 'on_track',
    narrative: 'Nước sạch đã về bản Nà Lốc', author: 'Lò Văn Minh', recorded_on: '2026-06-03', status: 'draft' } }]), shared.indicator, shared.period);
  assert.equal(w.seq, 1);
  assert.equal(w.ids.length, 1);
  shared.report = w.ids[0];
  shared.cs1 = w.id;

  // Offline reload: the service worker serves the page, IndexedDB still holds the write.
  await reload(page);
  await waitFor(() => page.evaluate(() => !!window.T), { what: 'the test page after the offline reload' });
  assert.equal(await page.evaluate(() => navigator.onLine), false);
  const kept = await onDev(page, 'default', async (dev, id) => ({ row: await dev.get('progress_report', id), outbox: await dev.outbox() }), shared.report);
  assert.equal(kept.row._pending, true);
  assert.equal(kept.row.narrative, 'Nước sạch đã về bản Nà Lốc');
  assert.equal(kept.row.value, 87.5);
  assert.deepEqual(kept.outbox.map((e) => [e.seq, e.state]), [[1, 'waiting']]);

  // Offline, a sync fails with a retryable code (it is not attempted for long: the test bounds it).
  const off = await onDev(page, 'default', async (dev) => {
    try { await dev.sync(); return null; } catch (e) { return { code: e.code, retryable: e.retryable, vi: e.message.vi }; }
  });
  assert.equal(off.code, 'offline');
  assert.equal(off.retryable, true);
  assert.ok(off.vi.length > 0, 'a Vietnamese message');

  await setOffline(page, false);
  const report = await onDev(page, 'default', (dev) => dev.sync());
  assert.equal(report.accepted, 1);
  assert.equal(report.rejected, 0);
  const after = await onDev(page, 'default', async (dev, id) => ({
    outbox: await dev.outbox(), row: await dev.get('progress_report', id), server: await dev.serverRow('progress_report', id),
    principal: dev.principal,
  }), shared.report);
  const e = after.outbox[0];
  assert.equal(e.state, 'accepted');
  assert.ok(e.receipt, 'the receipt is kept');
  // The receipt verifies here, with node:crypto, against the key the server printed.
  assert.ok(verifyEd25519(srv.serverKey, e.receipt.body, e.receipt.sig), 'receipt signature');
  const body = JSON.parse(e.receipt.body);
  assert.equal(body.status, 'accepted');
  assert.equal(body.id, shared.cs1);
  assert.equal(body.seq, 1);
  assert.equal(body.device, after.principal.device);
  assert.equal(body.server, srv.serverKey);
  // The pull brought the row back as the server holds it, written by our change set.
  assert.ok(after.server, 'the server image of the row');
  assert.equal(after.server.cells.narrative.value, 'Nước sạch đã về bản Nà Lốc');
  assert.equal(after.server.cells.narrative.writer, shared.cs1);
  assert.equal(after.row._pending, false);
  assert.equal(after.row.value, 87.5);
});

test('a write outside the commune is refused before signing, and uses no sequence number', async () => {
  const refused = await onDev(page, 'default', async (dev, ind, per) => {
    try {
      await dev.write([{ t: 'progress_report', k: 'put', f: { unit_code: '03646', indicator: ind, period: per, progress: 'on_track',
        author: 'Lò Văn Minh', recorded_on: '2026-06-03', status: 'draft' } }]);
      return null;
    } catch (e) { return { code: e.code, problems: e.problems, outbox: (await dev.outbox()).length }; }
  }, shared.indicator, shared.period);
  assert.ok(refused, 'the write was refused');
  assert.equal(refused.code, 'write_refused');
  assert.ok(refused.problems.some((p) => p.code === 'forbidden_scope' && p.message.vi && p.message.en), JSON.stringify(refused.problems));
  assert.equal(refused.outbox, 1, 'nothing was stored');
  // 150 on the report's percent indicator (an edit: the indicator comes from the stored row, its
  // range from the indicator row in this browser's store), refused in the official's words.
  const over = await onDev(page, 'default', async (dev, id) => {
    try {
      await dev.write([{ t: 'progress_report', id, k: 'put', f: { value: 150 } }]);
      return null;
    } catch (e) { return { code: e.code, problems: e.problems, outbox: (await dev.outbox()).length }; }
  }, shared.report);
  assert.ok(over, 'the write was refused');
  assert.deepEqual(over.problems.map((p) => [p.code, p.message.vi, p.message.en]),
    [['invalid_value', 'Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)', 'Result: a percentage must be from 0 to 100 (entered 150)']]);
  assert.equal(over.outbox, 1, 'nothing was stored');
  // An edit of the report: the next sequence number is 2, and its bases name what it edits.
  const w = await onDev(page, 'default', (dev, id) => dev.write([{ t: 'progress_report', id, k: 'put', f: { value: 90 } }]), shared.report);
  assert.equal(w.seq, 2, 'seq 2 follows seq 1: the refusal used none');
  const report = await onDev(page, 'default', (dev) => dev.sync());
  assert.equal(report.accepted, 1, 'the server accepted the edit (its bases and chain link are right)');
  const row = await onDev(page, 'default', (dev, id) => dev.get('progress_report', id), shared.report);
  assert.equal(row.value, 90);
  assert.equal(row._pending, false);
});

test('an attachment of 300 KB uploads in chunks and resumes after a reload mid-upload', async () => {
  const size = 300_000;
  const made = await onDev(page, 'default', async (dev, size, report) => {
    const blob = T.randomBlob(size, 'image/jpeg');
    const hash = await dev.attach(blob, 'image/jpeg');
    const w = await dev.write([{ t: 'evidence', k: 'put', f: { report, unit_code: '03808', file: hash, caption: 'Bể nước bản Nà Lốc', content_type: 'image/jpeg' } }]);
    return { hash, seq: w.seq, evidence: w.ids[0] };
  }, size, shared.report);
  shared.hash = made.hash;
  shared.evidence = made.evidence;

  // A slow link (48 KB/s): the upload takes seconds, long enough to cut it half-way. The offsets
  // of the chunks are read from the server's own request log.
  const puts = () => srv.log.join('').split('\n').filter((l) => l.includes('"method":"PUT"') && l.includes(made.hash))
    .map((l) => Number(new URL(JSON.parse(l).path, srv.url).searchParams.get('offset')));
  const cdp = await throttle(page, { bps: 48_000, latency: 20 });
  await page.evaluate(() => { window.running = window.dev.sync().catch((e) => e); });
  const partial = await waitFor(async () => {
    const files = await onDev(page, 'default', (dev) => dev.attachments());
    const f = files.find((x) => x.hash === made.hash);
    return f && f.offset > 0 && f.offset < size ? f : null;
  }, { timeout: 40_000, what: 'a first chunk to be stored on the server' });
  assert.equal(partial.state, 'uploading');
  // The link drops in the middle of a chunk and the page is reloaded (offline: the service worker
  // serves it); then the link returns.
  await setOffline(page, true);
  await throttle(page, null);
  await cdp.detach();
  await reload(page);
  await waitFor(() => page.evaluate(() => !!window.T), { what: 'the page after the reload' });
  await setOffline(page, false);
  const held = (await onDev(page, 'default', (dev, hash) => dev.getJson(`/v1/attachments/${hash}/status`), made.hash)).received;
  assert.ok(held > 0 && held < size, `the server holds part of the file (${held} bytes)`);
  const before = puts().length;

  const report = await onDev(page, 'default', (dev) => dev.sync());
  assert.equal(report.uploaded, 1);
  const offsets = puts();
  assert.equal(offsets[before], held, `the upload resumed where the server stood, not from 0 (offsets ${offsets.join(',')})`);
  assert.ok(offsets.slice(before).every((o) => o >= held), `no byte below ${held} was sent again (offsets ${offsets.join(',')})`);
  assert.equal(offsets[0], 0);
  assert.ok(offsets.length >= 3, `several chunks (${offsets.join(',')})`);
  const files = await onDev(page, 'default', (dev) => dev.attachments());
  assert.equal(files.find((x) => x.hash === made.hash).state, 'complete');

  // The server holds the whole file, byte for byte: its BLAKE2b-256 is the name.
  const got = await onDev(page, 'default', async (dev, hash) => {
    const st = await dev.getJson(`/v1/attachments/${hash}/status`);
    const res = await dev.fetchAuthed(`/v1/attachments/${hash}`);
    return { st, status: res.status, bytes: Array.from(new Uint8Array(await res.arrayBuffer())) };
  }, made.hash);
  assert.deepEqual(got.st, { hash: made.hash, received: size, complete: true });
  assert.equal(got.status, 200);
  assert.equal(Buffer.from(blake2b(Uint8Array.from(got.bytes), { dkLen: 32 })).toString('hex'), made.hash);
});

test('a second device of the same user is told over the WebSocket and pulls the new row', async () => {
  const code = await srv.enrolCode('minh');
  await onDev(page, 'second', async (dev, c) => { await dev.enroll(c); await dev.sync(); dev.startAuto(); }, code);
  const w = await onDev(page, 'default', async (dev, id) => { const w = await dev.write([{ t: 'progress_report', id, k: 'put', f: { narrative: 'Đã sửa xong đường ống' } }]); await dev.sync(); return w; }, shared.report);
  assert.equal(w.seq, 4);
  // No sync call on 'second': the notice makes it pull (its periodic timer is minutes away).
  const row = await waitFor(async () => {
    const r = await onDev(page, 'second', (dev, id) => dev.get('progress_report', id), shared.report);
    return r && r.narrative === 'Đã sửa xong đường ống' ? r : null;
  }, { timeout: 20_000, what: 'the second device to receive the edit' });
  assert.equal(row._pending, false);
  await onDev(page, 'second', (dev) => dev.stopAuto());
});

test('an enrolment whose answer is lost is retried with the same key and completes', async () => {
  const code = await srv.enrolCode('minh');
  // The server enrols the key, but the answer never reaches the page (the connection is reset).
  const cdp = await page.createCDPSession();
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*/v1/enroll', requestStage: 'Response' }] });
  let cut = 0;
  cdp.on('Fetch.requestPaused', (e) => { cut++; cdp.send('Fetch.failRequest', { requestId: e.requestId, errorReason: 'ConnectionReset' }).catch(() => {}); });
  const first = await onDev(page, 'retry', async (dev, c) => {
    try { await dev.enroll(c); return null; } catch (e) { return { code: e.code, state: dev.state, key: (await dev.store.getMeta('enrolment')).publicKeyHex }; }
  }, code);
  await cdp.send('Fetch.disable');
  await cdp.detach();
  assert.equal(cut, 1);
  assert.equal(first.code, 'offline');
  assert.equal(first.state, 'new');
  assert.ok((await srv.cli('admin', 'devices', '--data', srv.data)).includes(first.key), 'the server did enrol the key');
  // Again, with the same code: 409 already_enrolled, then /v1/me says for whom. Same key.
  const second = await onDev(page, 'retry', async (dev, c) => { const p = await dev.enroll(c); await dev.sync(); return { p, state: dev.state }; }, code);
  assert.equal(second.state, 'ready');
  assert.equal(second.p.user, 'minh');
  assert.equal(second.p.device, first.key, 'the key stored before the first attempt');
  assert.equal(second.p.server_key, srv.serverKey);
});

test('a key kept under a passphrase (the fallback without WebCrypto Ed25519) locks the device after a reload', async () => {
  const code = await srv.enrolCode('minh');
  const p = await onDev(page, 'wrapped', async (dev, c) => {
    await dev.enroll(c, { passphrase: 'Nà Lốc 2026', keyBackend: 'noble' });
    return { state: dev.state, needs: dev.needsPassphrase };
  }, code);
  assert.deepEqual(p, { state: 'ready', needs: true });
  await reload(page);
  await waitFor(() => page.evaluate(() => !!window.T), { what: 'the page after the reload' });
  const locked = await onDev(page, 'wrapped', async (dev) => {
    const state = dev.state;
    let wrong = null;
    try { await dev.unlock('sai mật khẩu'); } catch (e) { wrong = e.code; }
    let syncRefused = null;
    try { await dev.sync(); } catch (e) { syncRefused = e.code; }
    // The same passphrase typed in decomposed form (another keyboard) opens it too: NFC.
    await dev.unlock('Nà Lốc 2026'.normalize('NFD'));
    return { state, wrong, syncRefused, after: dev.state };
  });
  assert.deepEqual(locked, { state: 'locked', wrong: 'bad_passphrase', syncRefused: 'locked', after: 'ready' });
  const r = await onDev(page, 'wrapped', async (dev, id) => {
    await dev.sync();
    const w = await dev.write([{ t: 'progress_report', id, k: 'put', f: { proposals: 'Ký bằng khóa dự phòng' } }]);
    return { w, report: await dev.sync() };
  }, shared.report);
  assert.equal(r.w.seq, 1);
  assert.equal(r.report.accepted, 1, 'signed with the noble key, accepted by the server');
});

test('startAuto sends a write made offline as soon as the link returns', async () => {
  await onDev(page, 'default', (dev) => dev.startAuto());
  await setOffline(page, true);
  const w = await onDev(page, 'default', (dev, id) => dev.write([{ t: 'progress_report', id, k: 'put', f: { difficulties: 'Đường sạt lở' } }]), shared.report);
  await setOffline(page, false);
  await waitFor(async () => {
    const o = await onDev(page, 'default', (dev) => dev.outbox());
    return o.find((e) => e.seq === w.seq)?.state === 'accepted';
  }, { timeout: 20_000, what: 'the automatic sync after `online`' });
  await onDev(page, 'default', (dev) => dev.stopAuto());
});

test('a write the server refuses (the scope changed meanwhile) is undone locally and listed with its reason', async () => {
  await setOffline(page, true);
  const w = await onDev(page, 'default', (dev, ind, per) => dev.write([{ t: 'progress_report', k: 'put', f: {
    unit_code: '03808', indicator: ind, period: per, progress: 'at_risk', author: 'Lò Văn Minh', recorded_on: '2026-06-04', status: 'draft' } }]),
  shared.indicator, shared.period);
  assert.equal((await onDev(page, 'default', (dev, id) => dev.get('progress_report', id), w.ids[0]))._pending, true);
  // While the phone is offline, the administrator moves minh to another commune.
  await srv.cli('admin', 'create-user', '--data', srv.data, '--id', 'minh', '--role', 'official', '--units', '03646', '--name', MINH.name);
  await setOffline(page, false);
  try {
    const got = await onDev(page, 'default', async (dev, id) => {
      const report = await dev.sync();
      return { report, row: await dev.get('progress_report', id), rejections: await dev.rejections(), units: dev.principal.units, outbox: await dev.outbox() };
    }, w.ids[0]);
    assert.equal(got.report.rejected, 1);
    assert.deepEqual(got.units, ['03646'], 'the new scope, from /v1/me');
    assert.equal(got.row, null, 'the refused insert left the view');
    assert.equal(got.rejections.length, 1);
    assert.equal(got.rejections[0].seq, w.seq);
    assert.equal(got.rejections[0].code, 'forbidden_scope');
    assert.match(got.rejections[0].message, /03808/);
    const e = got.outbox.find((x) => x.seq === w.seq);
    assert.ok(verifyEd25519(srv.serverKey, e.receipt.body, e.receipt.sig), 'the rejection has a signed receipt');
    assert.equal(JSON.parse(e.receipt.body).status, 'rejected');
  } finally {
    await srv.cli('admin', 'create-user', '--data', srv.data, '--id', 'minh', '--role', 'official', '--units', '03808', '--name', MINH.name);
  }
  // The rejected change set holds its place in the chain: the next one follows it, and is accepted.
  const next = await onDev(page, 'default', async (dev, id) => {
    await dev.sync(); // the scope back
    const w2 = await dev.write([{ t: 'progress_report', id, k: 'put', f: { value: 91 } }]);
    const r = await dev.sync();
    await dev.dismissRejection(w2.seq - 1);
    return { seq: w2.seq, accepted: r.accepted, rejections: (await dev.rejections()).length };
  }, shared.report);
  assert.equal(next.seq, w.seq + 1);
  assert.equal(next.accepted, 1);
  assert.equal(next.rejections, 0, 'dismissed');
});

test('thirty writes made offline leave in a few growing batches, all accepted, in chain order', async () => {
  const pushes = () => srv.log.join('').split('\n').filter((l) => l.includes('"path":"/v1/push"')).length;
  await setOffline(page, true);
  const seqs = await onDev(page, 'default', async (dev, id) => {
    const out = [];
    for (let i = 1; i <= 30; i++) out.push((await dev.write([{ t: 'progress_report', id, k: 'put', f: { value: 60 + i } }])).seq);
    return out;
  }, shared.report);
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), 'consecutive sequence numbers');
  // A fresh page starts with small batches (the sizes learnt earlier live as long as the page).
  await reload(page);
  await waitFor(() => page.evaluate(() => !!window.T), { what: 'the page after the reload' });
  await setOffline(page, false);
  const before = pushes();
  const r = await onDev(page, 'default', async (dev, id) => ({ report: await dev.sync(), row: await dev.get('progress_report', id) }), shared.report);
  assert.equal(r.report.accepted, 30);
  const n = pushes() - before;
  assert.ok(n >= 2 && n <= 4, `30 change sets in ${n} pushes (8, then 16, then the rest)`);
  assert.equal(r.row.value, 90, 'the last edit wins');
  assert.equal(r.row._pending, false);
});

test('a server restored from an older backup gets the lost change set again from the device', async () => {
  const backup = join(srv.root, 'backup.db');
  await srv.cli('admin', 'backup', '--data', srv.data, '--to', backup);
  const w = await onDev(page, 'default', async (dev, id) => {
    const w = await dev.write([{ t: 'progress_report', id, k: 'put', f: { proposals: 'Hỗ trợ thêm ống dẫn' } }]);
    await dev.sync();
    return w;
  }, shared.report);
  // The server loses it: stopped, restored from the backup taken before it, started again.
  await srv.stopServer();
  await srv.cli('admin', 'restore', '--data', srv.data, '--from', backup);
  await srv.restart();
  const report = await onDev(page, 'default', (dev) => dev.sync());
  assert.equal(report.serverLogBehind, true, 'the device saw that the server lost its change sets');
  assert.ok(report.resent >= 1, `the kept change set was sent again (${report.resent})`);
  const me = await onDev(page, 'default', (dev) => dev.getJson('/v1/me'));
  assert.equal(me.seq, w.seq, "the server's chain of this device is whole again");
  const row = await onDev(page, 'default', (dev, id) => dev.serverRow('progress_report', id), shared.report);
  assert.equal(row.cells.proposals.value, 'Hỗ trợ thêm ống dẫn', 'and the pull shows the restored edit');
});

test("another commune's device never receives this commune's rows or files", async () => {
  B = await launchBrowser();
  pageB = await B.open(srv.url + '/');
  await waitFor(() => pageB.evaluate(() => !!window.T), { what: 'the test page in the second browser' });
  const code = await srv.enrolCode('lan');
  const got = await onDev(pageB, 'default', async (dev, c, report, evidence, hash) => {
    await dev.enroll(c);
    const r = await dev.sync();
    const st = await dev.fetchAuthed(`/v1/attachments/${hash}/status`);
    return {
      pulled: r.pulled, principal: dev.principal,
      reports: (await dev.query('progress_report')).map((x) => x.id),
      evidence: (await dev.query('evidence')).map((x) => x.id),
      server: await dev.serverRow('progress_report', report),
      ev: await dev.serverRow('evidence', evidence),
      status: st.status,
      units: (await dev.query('unit')).length,
    };
  }, code, shared.report, shared.evidence, shared.hash);
  assert.equal(got.principal.user, 'lan');
  assert.ok(got.units > 50, 'reference data reaches every commune');
  assert.ok(!got.reports.includes(shared.report), 'the report of 03808 is not on the 03646 device');
  assert.deepEqual(got.evidence, []);
  assert.equal(got.server, null);
  assert.equal(got.ev, null);
  assert.equal(got.status, 404, 'the file does not exist for another commune');
});
