// One sync, as the SDK does it (docs/client-sdk.md §4): GET /v1/me (role and scope now, where
// this device's chain stands on the server), heal a server that lost our change sets, push the
// outbox, upload files, pull. Only link and server failures are retried, with backoff and jitter
// (and at least the Retry-After the server asked for); a refusal ends the sync at once. Every
// step persists its progress, so a retry or a later sync continues where this one stopped.
import { req } from './idb.js';
import { err, asDeviceError } from './errors.js';
import { push, refill } from './push.js';
import { pull } from './pull.js';
import { uploadAll } from './attachments.js';
import { Backoff, sleep } from './backoff.js';

const KEEP_SENT_MS = 30 * 24 * 3600 * 1000; // keep sent change sets 30 days after their receipt (§9.3)
export const MAX_ATTEMPTS = 4;

// dev: the Device (store, session, schema, identity, tuning, _changed, _emit).
export async function runSync(dev, { onProgress, signal } = {}) {
  const report = { accepted: 0, rejected: 0, duplicates: 0, resent: 0, uploaded: 0, pulled: 0,
    pushed: 0, bytesSent: 0, bytesReceived: 0, serverLogBehind: false, attempts: 0 };
  const backoff = new Backoff({ initialMs: 1_000, maxMs: 30_000 });
  for (;;) {
    report.attempts++;
    try {
      await round(dev, report, onProgress, signal);
      report.pushed = report.accepted + report.rejected;
      await dev.store.setMeta('lastSync', { at: Date.now(), error: null });
      return report;
    } catch (thrown) {
      if (signal && signal.aborted) throw err('cancelled', 'sync cancelled', 'Đã hủy đồng bộ');
      const e = asDeviceError(thrown);
      if (!e.retryable || report.attempts >= MAX_ATTEMPTS) {
        await dev.store.setMeta('lastSync', { at: (await dev.store.getMeta('lastSync'))?.at || null, error: errorInfo(e) }).catch(() => {});
        throw e;
      }
      dev.session.forget();
      await sleep(backoff.next(e.retryAfterMs), signal);
    }
  }
}

const errorInfo = (e) => ({ code: e.code, message: e.message });

async function round(dev, report, onProgress, signal) {
  const me = await dev.refreshIdentity(signal, report); // first: it may fetch the schema, change the scope, follow a new server key
  const sc = {
    store: dev.store, session: dev.session, schema: dev.schema, serverKey: dev.principal.server_key, oldServerKeys: dev.oldServerKeys,
    device: dev.principal.device, tuning: dev.tuning, report, signal,
    progress: (p) => { const e = { bytes: report.bytesSent + report.bytesReceived, ...p }; onProgress && onProgress(e); dev._emit('sync', e); },
    changed: (tables) => dev._changed(tables),
    refreshSchema: () => dev.refreshSchema(),
  };
  await prune(dev.store);
  // The server's chain of this device ends below what we hold receipts for: it lost them (§5.5).
  if (typeof me.seq === 'number' && me.seq < await dev.store.lastReceiptSeq()) {
    await dev.store.tx(['meta'], 'readwrite', async (s) => { await req(s.meta.put(true, 'heal')); await req(s.meta.delete('pull')); });
    await refill(sc, me.seq + 1);
  }
  for (let pass = 0; pass < 3; pass++) {
    await push(sc);
    await uploadAll(sc);
    const { behind } = await pull(sc);
    if (!behind) return;
    // A pull head showed the log went back: heal (push the newest kept) and pull from the start.
  }
}

// Sent change sets leave the store 30 days after their receipt, by the phone's clock and by the
// server's (a phone whose clock is ahead cannot prune early). The newest one always stays: it is
// what a server that lost data is asked about. Receipts stay for ever.
async function prune(store) {
  await store.tx(['outbox'], 'readwrite', async (s) => {
    const all = await req(s.outbox.getAll());
    const settled = all.filter((e) => (e.state === 'accepted' && !e.active) || (e.state === 'rejected' && e.dismissed));
    if (!settled.length) return;
    const newest = Math.max(...all.filter((e) => e.state === 'accepted' || e.state === 'rejected').map((e) => e.seq));
    const serverNow = Math.max(0, ...all.map((e) => e.serverAt || 0));
    for (const e of settled) {
      if (e.seq === newest) continue;
      if (Date.now() - e.settledAt > KEEP_SENT_MS && serverNow - (e.serverAt || 0) > KEEP_SENT_MS) await req(s.outbox.delete(e.seq));
    }
  });
}
