// Store and forward (protocol §16), as the SDK's export_bundle / import_receipts
// (client-sdk/src/bundle.cpp): with no signal before a deadline, the outbox leaves the phone as a
// file (a push body signed as a whole by the device key) that someone carries to the office, where
// an administrator imports it (`tram-server admin import-bundle`, or POST /v1/admin/bundles from
// the administrator's page); the receipt bundle comes back the same way and settles the outbox
// with the same verified receipts a push would have given. Nothing is marked as sent by an
// export: the next sync sends the same change sets again and is answered `duplicate`.
import { pushBody } from '../core/wire.js';
import { toHex, utf8 } from '../core/bytes.js';
import { err } from './errors.js';
import { req } from './idb.js';
import { record, isPending } from './push.js';

export const BUNDLE_PREFIX = 'tram-bundle-v1:';
const HEX64 = /^[0-9a-f]{64}$/;

// dev: the Device (store, key, principal). → { text, count, seqs }: the bundle's JSON text, byte
// for byte what the SDK writes for the same change sets and time.
export async function exportBundle(dev, nowMs = Date.now()) {
  const pending = (await dev.store.getAll('outbox')).filter(isPending).sort((a, b) => a.seq - b.seq);
  if (!pending.length) throw err('nothing_pending', 'the outbox is empty: nothing to bundle', 'Không có gì đang chờ gửi');
  const body = pushBody(pending.map((e) => ({ bytes: e.bytes, sig: e.sig })));
  const sig = toHex(await dev.key.sign(utf8(BUNDLE_PREFIX + body)));
  const text = `{"v":1,"kind":"tram-bundle","device":"${dev.principal.device}","created_ms":${Math.floor(nowMs)},"body":${JSON.stringify(body)},"sig":"${sig}"}`;
  return { text, count: pending.length, seqs: pending.map((e) => e.seq) };
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
  return report;
}
