// Store and forward (protocol §16), as the SDK's export_bundle / import_receipts
// (client-sdk/src/bundle.cpp): with no signal before a deadline, the outbox leaves the phone as a
// file (a push body signed as a whole by the device key) that someone carries to the office, where
// an administrator imports it (`tram-server admin import-bundle`, or POST /v1/admin/bundles from
// the administrator's page); the receipt bundle comes back the same way and settles the outbox
// with the same verified receipts a push would have given. Nothing is marked as sent by an
// export: the next sync sends the same change sets again and is answered `duplicate`.
// Bundle version 2 (§16.1) carries the evidence photos the server has not confirmed, so that the
// reports do not arrive without them; the server checks each one against its hash.
import { pushBody } from '../core/wire.js';
import { toHex, toBase64, utf8 } from '../core/bytes.js';
import { blake2b256 } from '../core/hash.js';
import { err } from './errors.js';
import { req } from './idb.js';
import { record, isPending } from './push.js';

export const BUNDLE_PREFIX = 'tram-bundle-v1:';
const HEX64 = /^[0-9a-f]{64}$/;

// The files a bundle carries (§16.1): every file still in the upload queue (waiting or part
// uploaded) that a pending change set names, or an accepted one whose upload had not finished:
// what the next online sync would upload. Not a file no change set names yet (a photo taken for
// a report not saved: the server would leave it out), nor one only rejected change sets name.
// A file kept from before files remembered their change sets (no `named`) is carried.
async function carriedFiles(store, outbox) {
  const state = new Map(outbox.map((e) => [e.seq, e.state]));
  const live = (seq) => { const s = state.get(seq); return s === 'waiting' || s === 'sent' || s === 'accepted'; };
  return (await store.getAll('attachments'))
    .filter((a) => (a.state === 'waiting' || a.state === 'uploading') && a.blob && (!a.named || a.named.some(live)))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)); // the SDK's order (a std::set of hex)
}

// dev: the Device (store, key, principal). onProgress({ done, total }) after each photo packed.
// → { text, count, seqs, files, fileBytes }: the bundle's JSON text, byte for byte what the SDK
// writes for the same change sets, files and time: version 1 without files, version 2 with them.
export async function exportBundle(dev, nowMs = Date.now(), onProgress = () => {}) {
  const outbox = await dev.store.getAll('outbox');
  const pending = outbox.filter(isPending).sort((a, b) => a.seq - b.seq);
  if (!pending.length) throw err('nothing_pending', 'the outbox is empty: nothing to bundle', 'Không có gì đang chờ gửi');
  const body = pushBody(pending.map((e) => ({ bytes: e.bytes, sig: e.sig })));
  const sig = toHex(await dev.key.sign(utf8(BUNDLE_PREFIX + body)));
  const queued = await carriedFiles(dev.store, outbox);
  const files = [];
  let fileBytes = 0;
  onProgress({ done: 0, total: queued.length });
  for (const [i, a] of queued.entries()) {
    const bytes = new Uint8Array(await a.blob.arrayBuffer());
    // A local copy that no longer hashes to its name would make the server refuse the whole
    // bundle (§16.2): leave it out, as the SDK leaves out a file gone from the phone.
    if (toHex(blake2b256(bytes)) === a.hash) {
      files.push(`{"hash":"${a.hash}","size":${bytes.length},"data":"${toBase64(bytes)}"}`);
      fileBytes += bytes.length;
    }
    onProgress({ done: i + 1, total: queued.length });
  }
  const v = files.length ? 2 : 1;
  const text = `{"v":${v},"kind":"tram-bundle","device":"${dev.principal.device}","created_ms":${Math.floor(nowMs)},"body":${JSON.stringify(body)},"sig":"${sig}"` +
    (files.length ? `,"files":[${files.join(',')}]}` : '}');
  return { text, count: pending.length, seqs: pending.map((e) => e.seq), files: files.length, fileBytes };
}

// The receipt bundle's text → the sync report's counts ({ accepted, rejected, duplicates, … }).
// Checks that it names this device and a server key this device trusts (pinned, or one it followed
// away from), then verifies each receipt as a push would (pusher record) and settles the outbox in
// one transaction. Importing the same receipts twice changes nothing. Its head is not noted: a
// receipt bundle is old news by nature, and must not look like a server that went back.
export async function importReceipts(dev, text) {
  let o;
  try { o = JSON.parse(text); } catch { o = null; }
  const results = o?.response?.results;
  if (!o || o.kind !== 'tram-receipts' || typeof o.device !== 'string' || typeof o.server !== 'string' || !Array.isArray(results)) {
    throw err('malformed', 'this is not a receipt bundle', 'Tệp này không phải tệp biên nhận của máy chủ tỉnh');
  }
  if (o.device.toLowerCase() !== dev.principal.device) {
    throw err('device_mismatch', 'the receipts are for another device', 'Tệp biên nhận này là của một thiết bị khác');
  }
  const server = o.server.toLowerCase();
  if (!HEX64.test(server) || (server !== dev.principal.server_key && !(dev.oldServerKeys || []).includes(server))) {
    throw err('bad_signature', `the receipts are signed by server key ${server.slice(0, 16)}…, which this device does not trust: another server, or a key rotated since this device last synced (sync once to follow it, then import again)`,
      'Biên nhận được ký bằng một khóa máy chủ mà thiết bị chưa biết: hãy đồng bộ một lần khi có mạng rồi nhập lại');
  }
  // Items name their change set by seq and id when they carry a receipt; the others (refused
  // without one) leave the outbox as it is, and the next sync sends them.
  const batch = [];
  for (const item of results) {
    if (!item || !Number.isSafeInteger(item.index) || !item.receipt || !Number.isSafeInteger(item.seq)) continue;
    const entry = await dev.store.tx(['outbox'], 'readonly', (s) => req(s.outbox.get(item.seq)));
    if (!entry) continue; // pruned long ago: settled already
    if (typeof item.id === 'string' && item.id.toLowerCase() !== entry.id) {
      throw err('mismatch', `receipt for seq ${item.seq} names another change set`, 'Biên nhận không khớp với thay đổi trên thiết bị này');
    }
    batch[item.index] = entry;
  }
  const report = { accepted: 0, rejected: 0, duplicates: 0, resent: 0, uploaded: 0, pulled: 0, pushed: 0, bytesSent: 0, bytesReceived: 0 };
  const sc = { store: dev.store, serverKey: dev.principal.server_key, oldServerKeys: dev.oldServerKeys || [], device: dev.principal.device,
    report, changed: (tables) => dev._changed(tables) };
  await record(sc, batch, { results, head: null });
  report.pushed = report.accepted + report.rejected;
  // The photos the server stored from the bundle (§16.3) leave the upload queue: not sent again.
  const stored = (Array.isArray(o.files) ? o.files : [])
    .filter((f) => f && f.stored === true && typeof f.hash === 'string' && HEX64.test(f.hash.toLowerCase()))
    .map((f) => f.hash.toLowerCase());
  if (stored.length) {
    await dev.store.tx(['attachments'], 'readwrite', async (s) => {
      for (const hash of stored) {
        const a = await req(s.attachments.get(hash));
        if (!a || (a.state !== 'waiting' && a.state !== 'uploading')) continue; // done already: count it once
        await req(s.attachments.put({ ...a, state: 'complete', offset: a.size, completedAt: Date.now() }));
        report.uploaded++;
      }
    });
    if (report.uploaded) dev._changed(new Set()); // the status bar's count of photos to send
  }
  return report;
}
