// Pull (protocol §8): a device that has never pulled takes the snapshot (§8.3: its rows in id
// order, resumable from any page's cursor), then pulls what changed since, page by page until
// `more` is false. Each page's rows, its conflict records and its cursor are stored in ONE
// transaction, so a cut costs at most the page in flight and never skips a row. Every page's
// signed head is verified with the pinned key. Page sizes adapt like push batches.
import { parsePage, verifyHead } from '../core/wire.js';
import { req } from './idb.js';
import { err, httpError } from './errors.js';
import { noteHead } from './heads.js';
import { Store } from './store.js';

const SLOW_MS = 8_000;
const PAGE_MIN = 50, PAGE_MAX = 1000; // 1000: the server's cap (§1.1)

export async function pull(sc) {
  // Accepted change sets laid over the rows until now: once this pull has reached the end, the
  // stored images include them (they were accepted before it started), so they leave the view.
  const toFold = (await sc.store.getAll('outbox', 1, 'active')).filter((e) => e.state === 'accepted').map((e) => e.seq);
  let pages = 0;
  let refreshed = false;
  for (;;) {
    const state = (await sc.store.getMeta('pull')) || { after: null, snapshot: '' };
    const snapshot = state.after === null;
    const limit = sc.tuning.page;
    const path = snapshot
      ? `/v1/snapshot?cursor=${encodeURIComponent(state.snapshot || '')}&limit=${limit}`
      : `/v1/pull?after=${state.after}&limit=${limit}`;
    const r = await sc.session.call(path, { signal: sc.signal });
    sc.report.bytesReceived += r.bytes.length;
    if (snapshot && r.status === 404 && !state.snapshot) {
      await sc.store.setMeta('pull', { after: 0, snapshot: '' }); // a server without snapshots (§8.3)
      continue;
    }
    if (r.status !== 200) throw httpError(r.status, r.text(), r.headers);
    let page;
    try {
      page = parsePage(r.text(), sc.schema);
    } catch (e) {
      // The server's schema has grown since this device fetched it (a row has more cells): take
      // the new one, once, and read the page again.
      if (e.code !== 'schema_mismatch' || refreshed) throw e;
      refreshed = true;
      sc.schema = await sc.refreshSchema();
      continue;
    }
    if (page.head && !(await verifyHead(page.head, sc.serverKey))) {
      throw err('bad_signature', 'pull: the log head is not signed by the pinned server key', 'Chữ ký của máy chủ không hợp lệ: không tin dữ liệu này');
    }
    if (r.ms < SLOW_MS / 4) sc.tuning.page = Math.min(PAGE_MAX, sc.tuning.page * 2);
    else if (r.ms > SLOW_MS) sc.tuning.page = Math.max(PAGE_MIN, Math.floor(sc.tuning.page / 2));
    const next = snapshot
      ? (page.more ? { after: null, snapshot: page.cursor } : { after: page.next, snapshot: '' })
      : { after: page.next, snapshot: '' };
    const last = !page.more;
    const behind = await applyPage(sc, page, next, last ? toFold : []);
    pages++;
    sc.report.pulled += page.rows.length;
    sc.progress({ phase: 'pull', done: sc.report.pulled, total: null, bytes: sc.report.bytesReceived });
    if (behind) { sc.report.serverLogBehind = true; return { behind: true }; } // heal, then pull again
    if (last) return { behind: false, pages };
  }
}

// The page's rows, the conflicts that involve us, the cursor and (on the last page) the folding of
// accepted change sets, in one transaction. Returns true when the page's head went back.
async function applyPage(sc, page, next, fold) {
  const tables = new Set();
  const behind = await sc.store.tx(['meta', 'rows', 'outbox', 'receipts', 'conflicts'], 'readwrite', async (s) => {
    if (await noteHead(s, page.head)) return true; // the pull state was reset: this page may be stale
    for (const row of page.rows) {
      const { conflicts, ...image } = row;
      await req(s.rows.put(image));
      tables.add(row.t);
      // A device keeps the conflict records where its own change set won or lost (§8.2 `x`).
      for (const c of conflicts || []) {
        const mineLost = await Store.isOurs(s, c.loser);
        if (mineLost || await Store.isOurs(s, c.winner)) {
          await req(s.conflicts.put({ t: row.t, id: row.id, field: c.fieldId, fieldName: c.field, winner: c.winner,
            loser: c.loser, value: c.value, mineLost, seenAt: Date.now() }));
        }
      }
    }
    await req(s.meta.put(next, 'pull'));
    for (const seq of fold) {
      const e = await req(s.outbox.get(seq));
      if (e && e.state === 'accepted' && e.active) await req(s.outbox.put({ ...e, active: 0 }));
    }
    return false;
  }, { durability: 'relaxed' });
  if (tables.size || fold.length) sc.changed(tables);
  return behind;
}
