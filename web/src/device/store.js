// The device's IndexedDB database: one per device name, so two profiles or two named devices in
// one browser never share a chain. Protocol §10 lists what a client must keep; this is where.
//
//   meta         key → value: 'identity' (principal, pinned server key, key record), 'enrolment'
//                (a key made but not yet confirmed enrolled, §5.4), 'schema' (the JSON text),
//                'chain' {seq, id} (the last change set signed and stored), 'hlc', 'pull'
//                {after, snapshot, fresh}, 'head' {server_seq} (highest verified), 'heal'
//   rows         server row images as core wire.parsePage gives them, key [t, id]
//   outbox       every signed change set, key seq: bytes, sig, id, ops, state; kept 30 days
//                after its receipt to heal a server that lost it (§9.3). `active` (1/0) marks
//                the entries whose ops are still laid over the server's rows
//   receipts     verified receipts, key seq (the proof; never pruned)
//   resent       receipts of change sets sent again to a server that had lost them
//   conflicts    conflict records that name one of our change sets, key [t, id, field, loser]
//   attachments  files under their hash with the upload's progress
import { openDb, inTx, req } from './idb.js';

const VERSION = 1;

export const STORES = ['meta', 'rows', 'outbox', 'receipts', 'resent', 'conflicts', 'attachments'];

export async function openStore(name) {
  const db = await openDb(`tram-device-${name}`, VERSION, (db, old) => {
    if (old < 1) {
      db.createObjectStore('meta');
      db.createObjectStore('rows', { keyPath: ['t', 'id'] }).createIndex('t', 't');
      const o = db.createObjectStore('outbox', { keyPath: 'seq' });
      o.createIndex('id', 'id', { unique: true });
      o.createIndex('active', 'active');
      o.createIndex('state', 'state');
      db.createObjectStore('receipts', { keyPath: 'seq' }).createIndex('id', 'id');
      db.createObjectStore('resent', { keyPath: ['seq', 'server_seq'] });
      db.createObjectStore('conflicts', { keyPath: ['t', 'id', 'field', 'loser'] });
      db.createObjectStore('attachments', { keyPath: 'hash' });
    }
  });
  // Another tab upgrading the database (a newer app version) must not be blocked by this one.
  db.onversionchange = () => db.close();
  return new Store(db);
}

export class Store {
  constructor(db) { this.db = db; }

  tx(names, mode, fn, opts) { return inTx(this.db, names, mode, fn, opts); }

  getMeta(key) { return this.tx(['meta'], 'readonly', (s) => req(s.meta.get(key))); }
  setMeta(key, value) { return this.tx(['meta'], 'readwrite', (s) => req(s.meta.put(value, key))); }

  async getAll(store, query, index) {
    return this.tx([store], 'readonly', (s) => req((index ? s[store].index(index) : s[store]).getAll(query)));
  }

  // The change sets whose ops are laid over the server's rows (pending, or accepted but not yet
  // seen in a pull), in chain order.
  active(s) { return req(s.outbox.index('active').getAll(1)).then((a) => a.sort((x, y) => x.seq - y.seq)); }

  // The newest receipted seq: the server's chain must reach at least this far (§9.3).
  async lastReceiptSeq() {
    return this.tx(['receipts'], 'readonly', async (s) => {
      const c = await req(s.receipts.openCursor(null, 'prev'));
      return c ? c.value.seq : 0;
    });
  }

  // Is this change-set id one of ours? Outbox entries (kept 30 days) and receipts (kept for ever).
  static async isOurs(s, id) {
    if (!id) return false;
    if (s.outbox && await req(s.outbox.index('id').count(id))) return true;
    return s.receipts ? (await req(s.receipts.index('id').count(id))) > 0 : false;
  }

  close() { this.db.close(); }

  static async destroy(name) {
    await new Promise((resolve, reject) => {
      const r = indexedDB.deleteDatabase(`tram-device-${name}`);
      r.onsuccess = resolve; r.onerror = () => reject(r.error); r.onblocked = resolve;
    });
  }
}
