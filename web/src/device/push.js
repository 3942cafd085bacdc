// Push (protocol §7): the outbox in chain order, in batches that adapt to the link (start small,
// double while requests are fast, halve on a slow one, a timeout or a 413), every receipt verified
// with the pinned server key before its entry is settled. "An item has a receipt exactly when its
// change set is in the device's chain" (§7.3): only a verified receipt settles an entry; an item
// without one leaves it pending and stops the push with the server's code.
//
// Healing a server that lost data (§9.3): change sets stay in the outbox store 30 days after
// their receipt; a seq_gap at or below a receipted seq, a /v1/me seq below it, or a log head that
// went back makes the device send them again, same bytes and signatures.
import { Hlc } from '../core/hlc.js';
import { pushBody, verifyReceipt, verifyHead } from '../core/wire.js';
import { req } from './idb.js';
import { err, httpError } from './errors.js';
import { noteHead } from './heads.js';

export const SLOW_MS = 8_000;          // a push slower than this halves the batch
const BATCH_MIN = 1, BATCH_MAX = 500;  // 500: the server's limit per push (§1.1)
const BUDGET_BYTES = 2 << 20;          // keep one push well under the 8 MiB body limit (base64 adds a third)

export const isPending = (e) => e.state === 'waiting' || e.state === 'sent';

export async function push(sc) {
  await healIfNeeded(sc);
  await pushOutbox(sc);
  await healIfNeeded(sc); // an answer's head showed that the log went back
}

async function pushOutbox(sc) {
  let refills = 0;
  let after = 0;
  const all = (await sc.store.getAll('outbox', 1, 'active')).filter(isPending);
  const total = all.length;
  let done = 0;
  sc.progress({ phase: 'push', done, total });
  for (;;) {
    const pending = (await sc.store.getAll('outbox', 1, 'active')).filter((e) => isPending(e) && e.seq > after).sort((a, b) => a.seq - b.seq);
    if (!pending.length) return;
    const batch = takeBatch(pending, sc.tuning.batch);
    await markSent(sc.store, batch);
    const { answer, ms } = await send(sc, batch);
    if (!answer) continue; // 413: the batch was halved
    const outcome = await record(sc, batch, answer);
    if (outcome.refusal) {
      const gap = outcome.refusal.code === 'seq_gap' ? outcome.refusal.expected_seq : 0;
      if (gap && refills < 3 && gap <= await sc.store.lastReceiptSeq()) {
        refills++;
        await refill(sc, gap);
        after = 0;
        continue;
      }
      throw refusalError(outcome.refusal);
    }
    adapt(sc.tuning, ms);
    after = batch[batch.length - 1].seq;
    done += batch.length;
    sc.progress({ phase: 'push', done: Math.min(done, total), total });
  }
}

function takeBatch(pending, size) {
  const out = [];
  let bytes = 0;
  for (const e of pending) {
    if (out.length >= size || (out.length && bytes + e.bytes.length > BUDGET_BYTES)) break;
    out.push(e);
    bytes += e.bytes.length;
  }
  return out;
}

function adapt(tuning, ms) {
  if (ms < SLOW_MS / 4) tuning.batch = Math.min(BATCH_MAX, tuning.batch * 2);
  else if (ms > SLOW_MS) tuning.batch = Math.max(BATCH_MIN, Math.floor(tuning.batch / 2));
}

async function markSent(store, batch) {
  await store.tx(['outbox'], 'readwrite', async (s) => {
    for (const e of batch) {
      const cur = await req(s.outbox.get(e.seq));
      if (cur && cur.state === 'waiting') await req(s.outbox.put({ ...cur, state: 'sent', sentAt: Date.now() }));
    }
  });
}

// One POST /v1/push. Returns { answer, ms }, or { answer: null } after a 413 split.
async function send(sc, batch) {
  const body = pushBody(batch.map((e) => ({ bytes: e.bytes, sig: e.sig })));
  let r;
  try {
    r = await sc.session.call('/v1/push', { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, signal: sc.signal });
  } catch (e) {
    if (e.timedOut) sc.tuning.batch = Math.max(BATCH_MIN, Math.floor(sc.tuning.batch / 2)); // a weak link: smaller requests
    throw e;
  }
  sc.report.bytesSent += body.length;
  sc.report.bytesReceived += r.bytes.length;
  if (r.status === 413) {
    if (batch.length === 1) throw err('too_large', 'the server refused a change set as too large', 'Máy chủ từ chối: thay đổi quá lớn');
    sc.tuning.batch = Math.max(BATCH_MIN, Math.floor(batch.length / 2));
    return { answer: null };
  }
  if (r.status !== 200) throw httpError(r.status, r.text(), r.headers);
  const answer = r.json();
  if (!Array.isArray(answer.results)) throw err('malformed', 'push: unexpected answer', 'Máy chủ trả lời không đúng định dạng');
  if (answer.head && !(await verifyHead(answer.head, sc.serverKey))) throw badKey('push: the log head is not signed by the pinned server key');
  return { answer, ms: r.ms };
}

const badKey = (en) => err('bad_signature', en, 'Chữ ký của máy chủ không hợp lệ: không tin dữ liệu này');

// A receipt signed by the pinned key, or by a key this device followed away from (protocol §4):
// a receipts file made before a rotation and imported after it (bundle.js). The server signs the
// answers of a live push with its current key, duplicates included.
async function verifyTrusted(sc, receipt, expected) {
  try {
    return await verifyReceipt(receipt, sc.serverKey, expected);
  } catch (e) {
    if (e.code !== 'bad_signature') throw e;
    for (const k of sc.oldServerKeys || []) {
      try { return await verifyReceipt(receipt, k, expected); } catch {}
    }
    throw e;
  }
}

// Verifies every receipt (WebCrypto, outside any transaction), then records them, their entries'
// new states and the head in one transaction. Returns { refusal } for the first item refused
// without a receipt.
export async function record(sc, batch, answer) {
  const verified = [];
  let refusal = null;
  for (const item of answer.results) {
    const entry = batch[item.index];
    if (!entry) continue;
    if (!item.receipt) {
      if (!refusal && item.status === 'rejected') refusal = { ...item, seq: entry.seq };
      continue;
    }
    let body;
    try {
      body = await verifyTrusted(sc, item.receipt, { id: entry.id, device: sc.device, seq: entry.seq });
    } catch (e) {
      throw badKey(`the receipt for change set #${entry.seq} does not verify: ${e.message}`); // proves nothing: stop
    }
    verified.push({ entry, item, body });
  }
  const touched = new Set();
  await sc.store.tx(['meta', 'outbox', 'receipts'], 'readwrite', async (s) => {
    await noteHead(s, answer.head);
    // A signed receipt's time is a floor for this device's clock: its next change set is never
    // dated before the last server time it saw (HybridClock::raise_to; docs/operations.md §8).
    const seenAt = Math.max(0, ...verified.map(({ body }) => (Number.isInteger(body.received_at_ms) ? body.received_at_ms : 0)));
    if (seenAt) {
      const clock = new Hlc((await req(s.meta.get('hlc'))) || {});
      if (seenAt > clock.wall) {
        clock.observe(seenAt, 0);
        await req(s.meta.put(clock.toJSON(), 'hlc'));
      }
    }
    for (const { entry, item, body } of verified) {
      const cur = await req(s.outbox.get(entry.seq));
      if (!cur || !isPending(cur)) continue; // settled already (a duplicate answer)
      const accepted = body.status === 'accepted';
      await req(s.receipts.put({ seq: entry.seq, id: entry.id, server_seq: body.server_seq, status: body.status,
        code: body.code || null, message: item.message || null, received_at_ms: body.received_at_ms,
        clock_ahead: !!body.clock_ahead, body: item.receipt.body, sig: item.receipt.sig }));
      // An accepted change set stays laid over the rows until a pull shows the server's image
      // (view.js); a rejected one leaves the view at once: that is the local undo.
      await req(s.outbox.put({ ...cur, state: accepted ? 'accepted' : 'rejected', active: accepted ? 1 : 0,
        code: body.code || null, message: item.message || null, settledAt: Date.now(), serverAt: body.received_at_ms }));
      if (body.clock_ahead) await req(s.meta.put(true, 'clock_ahead'));
      accepted ? sc.report.accepted++ : sc.report.rejected++;
      if (item.status === 'duplicate') sc.report.duplicates++;
      for (const [t] of cur.rows) touched.add(t);
    }
  });
  if (touched.size) sc.changed(touched);
  return { refusal };
}

function refusalError(r) {
  const vi = {
    seq_gap: `Máy chủ thiếu thay đổi #${r.expected_seq} của thiết bị này`,
    fork_detected: 'Chuỗi dữ liệu của thiết bị bị phân nhánh: thiết bị bị tạm khóa. Hãy liên hệ quản trị viên',
    device_quarantined: 'Thiết bị bị tạm khóa. Hãy liên hệ quản trị viên',
  }[r.code] || `Máy chủ từ chối thay đổi #${r.seq} (${r.code})`;
  const en = `${r.code}: ${r.message || ''}${r.code === 'seq_gap' ? ` (expected seq ${r.expected_seq})` : ''}`;
  return err(r.code === 'fork_detected' ? 'device_quarantined' : r.code, en, vi, { seq: r.seq, expected_seq: r.expected_seq, detail: r.detail });
}

// ---- healing (§9.3) ---------------------------------------------------------------------------

// Send the kept change sets from `from` up to the last receipted one again, in order.
export async function refill(sc, from) {
  const last = await sc.store.lastReceiptSeq();
  sc.report.serverLogBehind = true;
  const kept = (await sc.store.getAll('outbox', IDBKeyRange.bound(from, last))).filter((e) => !isPending(e));
  for (let i = 0; i < kept.length; i++) {
    if (kept[i].seq !== from + i) throw lostData(from, last, from + i);
  }
  if (kept.length < last - from + 1) throw lostData(from, last, from + kept.length);
  let size = sc.tuning.batch;
  for (let i = 0; i < kept.length;) {
    const batch = takeBatch(kept.slice(i), size);
    const { answer } = await send(sc, batch);
    if (!answer) { size = Math.max(1, Math.floor(batch.length / 2)); continue; }
    await recordResent(sc, batch, answer);
    i += batch.length;
  }
  await sc.store.setMeta('heal', false);
}

// After a head that went back: push the newest kept change set. `duplicate` means the server has
// this device's chain; a seq_gap names the first one it lacks.
async function healIfNeeded(sc) {
  if (!(await sc.store.getMeta('heal'))) return;
  const kept = (await sc.store.getAll('outbox')).filter((e) => !isPending(e)).sort((a, b) => b.seq - a.seq)[0];
  sc.report.serverLogBehind = true;
  if (!kept) { await sc.store.setMeta('heal', false); return; }
  const { answer } = await send(sc, [kept]);
  if (!answer) throw err('too_large', 'the server refused a change set as too large', 'Máy chủ từ chối: thay đổi quá lớn');
  const gap = await recordResent(sc, [kept], answer);
  if (gap) await refill(sc, gap);
  else await sc.store.setMeta('heal', false);
}

// Receipts of change sets sent again go to `resent`; the originals stay the proof. One that the
// restored server now refuses comes back as rejected, with the server's reason. Returns the
// expected_seq of a seq_gap, if any.
async function recordResent(sc, batch, answer) {
  let gap = 0;
  const verified = [];
  for (const item of answer.results) {
    const entry = batch[item.index];
    if (!entry) continue;
    if (!item.receipt) {
      if (item.code === 'seq_gap' && item.expected_seq) { gap = gap || item.expected_seq; continue; }
      throw refusalError({ ...item, seq: entry.seq });
    }
    let body;
    try { body = await verifyTrusted(sc, item.receipt, { id: entry.id, device: sc.device, seq: entry.seq }); } catch (e) {
      throw badKey(`the receipt for change set #${entry.seq}, sent again, does not verify: ${e.message}`);
    }
    verified.push({ entry, item, body });
  }
  await sc.store.tx(['meta', 'outbox', 'resent'], 'readwrite', async (s) => {
    await noteHead(s, answer.head);
    for (const { entry, item, body } of verified) {
      await req(s.resent.put({ seq: entry.seq, id: entry.id, server_seq: body.server_seq, status: body.status,
        code: body.code || null, message: item.message || null, received_at_ms: body.received_at_ms, body: item.receipt.body, sig: item.receipt.sig }));
      sc.report.resent++;
      const cur = await req(s.outbox.get(entry.seq));
      if (body.status !== 'accepted' && cur && cur.state === 'accepted') {
        await req(s.outbox.put({ ...cur, state: 'rejected', active: 0, code: body.code, message: item.message || null }));
        sc.report.rejected++;
      }
    }
  });
  return gap;
}

const lostData = (from, to, missing) => err('server_lost_data',
  `server_lost_data: the server no longer has change sets #${from}${to > from ? `–#${to}` : ''} of this device and this device no longer keeps #${missing} to send again; tell the administrator`,
  `Máy chủ đã mất các thay đổi #${from}${to > from ? `–#${to}` : ''} của thiết bị này và thiết bị không còn giữ #${missing} để gửi lại. Hãy báo quản trị viên`);
