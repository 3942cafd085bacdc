// The browser as an enrolled device, a peer of the C++ SDK: the public API of web/src/device/
// (web/README.md, "device/"). This file wires the parts together; each concept lives in its own
// file: store.js (IndexedDB), identity.js (enrolment, /v1/me), session.js, write.js, view.js,
// push.js, pull.js, attachments.js, notices.js, auto.js, sync.js.
import { Schema } from '../core/schema.js';
import { openDeviceKey, keyNeedsPassphrase, hasWebCryptoEd25519 } from '../core/keys.js';
import { req } from './idb.js';
import { openStore, Store } from './store.js';
import { err, httpError, asDeviceError } from './errors.js';
import { Session } from './session.js';
import { enroll, refresh, fetchSchema } from './identity.js';
import { write } from './write.js';
import { overlayRow, overlayTable, plain } from './view.js';
import { attach, attachmentUrl, uploadable, CHUNK_START } from './attachments.js';
import { runSync } from './sync.js';
import { exportBundle, importReceipts } from './bundle.js';
import { withLock } from './locks.js';
import { Auto } from './auto.js';

export { DeviceError, WriteRefused } from './errors.js';

export class Device {
  static async open({ baseUrl = location.origin, name = 'default' } = {}) {
    const dev = new Device(baseUrl, name, await openStore(name));
    await dev.#load();
    return dev;
  }

  // Removes a device's database (after the user confirms: its unsent writes go with it).
  static destroy(name = 'default') { return Store.destroy(name); }

  constructor(baseUrl, name, store) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.name = name;
    this.store = store;
    this.state = 'new';
    this.principal = null;
    this.schema = null;
    this.key = null;
    this.session = null;
    this.record = null;
    this.needsPassphrase = false;
    this.oldServerKeys = []; // server keys this device followed away from (key statements, protocol §4)
    this.movedTo = null;     // { address, at_ms }: the server announced a new address (a statement)
    // Adaptive sizes, kept for the page's life: push batch, pull page, attachment chunk.
    this.tuning = { batch: 8, page: 200, chunk: CHUNK_START };
    this.listeners = new Map();
    this._syncing = null;
    this.auto = null;
  }

  async #load() {
    const [identity, schemaText] = await Promise.all([this.store.getMeta('identity'), this.store.getMeta('schema')]);
    if (schemaText) this.schema = new Schema(JSON.parse(schemaText));
    if (!identity) {
      // Without WebCrypto Ed25519 the key is kept under a passphrase: the enrolment form asks for one.
      this.needsPassphrase = !(await hasWebCryptoEd25519());
      return;
    }
    this.needsPassphrase = keyNeedsPassphrase(identity.record);
    this.principal = identity.principal;
    this.record = identity.record;
    this.oldServerKeys = identity.oldServerKeys || [];
    this.movedTo = identity.movedTo || null;
    if (keyNeedsPassphrase(identity.record)) { this.state = 'locked'; return; }
    this.#ready(await openDeviceKey(identity.record));
  }

  #ready(key, session = new Session(this.baseUrl, key)) {
    this.key = key;
    this.session = session;
    this.state = 'ready';
    this._emit('state', { state: this.state, principal: this.principal });
  }

  // ---- identity --------------------------------------------------------------------------------

  async enroll(code, { passphrase, keyBackend } = {}) {
    if (this.principal) throw err('already_enrolled', 'this browser is enrolled already', 'Trình duyệt này đã được đăng ký');
    let r;
    try { r = await enroll(this.store, this.baseUrl, code, { passphrase, keyBackend }); } catch (e) { throw asDeviceError(e); }
    this.principal = r.principal;
    this.record = (await this.store.getMeta('identity')).record;
    if (r.schemaText) this.schema = new Schema(JSON.parse(r.schemaText));
    this.needsPassphrase = keyNeedsPassphrase(this.record);
    this.#ready(r.key, r.session); // the session may hold a token already (after /v1/me)
    return this.principal;
  }

  async unlock(passphrase) {
    if (this.state !== 'locked') return;
    try {
      this.#ready(await openDeviceKey(this.record, { passphrase }));
    } catch (e) {
      throw err('bad_passphrase', `the passphrase does not open the key: ${e.message}`, 'Mật khẩu không đúng');
    }
  }

  // /v1/me: role and scope as the server holds them now; the schema if it is not here yet.
  // A rotated server key is followed through its signed statements (identity.js refresh).
  async refreshIdentity(signal, report) {
    this.#needReady();
    const { me, principal, changed, rotated, movedTo } = await refresh(this.store, this.session, this.principal, { baseUrl: this.baseUrl, signal });
    if (rotated) this.oldServerKeys = (await this.store.getMeta('identity')).oldServerKeys || [];
    if (report && rotated) report.serverKeyRotated = true;
    if (report && movedTo && movedTo.address !== this.movedTo?.address) report.serverMovedTo = movedTo.address; // once, when it is new
    this.movedTo = movedTo;
    if (changed) { this.principal = principal; this._emit('state', { state: this.state, principal }); }
    if (!this.schema) await this.refreshSchema();
    return me;
  }

  // GET /v1/schema, kept for offline use. Returns the schema now in use.
  async refreshSchema() {
    const text = await fetchSchema(this.baseUrl);
    const schema = new Schema(JSON.parse(text));
    if (!this.schema || schema.id !== this.schema.id || schema.version !== this.schema.version) {
      await this.store.setMeta('schema', text);
      this.schema = schema;
      this._emit('state', { state: this.state, principal: this.principal, schema: schema.version });
    }
    return this.schema;
  }

  #needReady() {
    if (this.state === 'new') throw err('not_enrolled', 'enrol this browser first', 'Hãy đăng ký trình duyệt này trước');
    if (this.state === 'locked') throw err('locked', 'unlock the device key first', 'Hãy mở khóa thiết bị trước');
  }

  #needSchema() {
    if (!this.schema) throw err('no_schema', 'the schema has not been fetched yet: sync once', 'Chưa tải cấu trúc dữ liệu: hãy đồng bộ một lần');
  }

  // ---- writing and reading -----------------------------------------------------------------------

  async write(ops) {
    this.#needReady();
    this.#needSchema();
    let r;
    try { r = await write(this, ops); } catch (e) { throw asDeviceError(e); }
    this._changed(new Set(ops.map((o) => o.t)));
    return r;
  }

  // Server state with this device's pending writes on top; null when absent or deleted
  // (unless { deleted: true }).
  async get(table, id, { deleted = false } = {}) {
    const row = await this.store.tx(['rows', 'outbox'], 'readonly', async (s) =>
      overlayRow((await req(s.rows.get([table, id]))) || null, await this.store.active(s), table, id));
    return !row || (row.deleted && !deleted) ? null : plain(row);
  }

  async query(table, pred, { deleted = false } = {}) {
    const rows = await this.store.tx(['rows', 'outbox'], 'readonly', async (s) =>
      overlayTable(table, await req(s.rows.index('t').getAll(table)), await this.store.active(s)));
    const out = [];
    for (const r of rows) {
      if (r.deleted && !deleted) continue;
      const p = plain(r);
      if (!pred || pred(p)) out.push(p);
    }
    return out;
  }

  // The server's image as last pulled (cells with value, rank and writer), or null.
  serverRow(table, id) { return this.store.tx(['rows'], 'readonly', (s) => req(s.rows.get([table, id]))).then((r) => r || null); }

  async outbox() {
    const [entries, receipts] = await Promise.all([this.store.getAll('outbox'), this.store.getAll('receipts')]);
    const bySeq = new Map(receipts.map((r) => [r.seq, r]));
    return entries.sort((a, b) => a.seq - b.seq).map((e) => ({
      seq: e.seq, id: e.id, state: e.state, code: e.code || null, message: e.message || null, ops: e.ops, rows: e.rows,
      createdAt: e.createdAt, settledAt: e.settledAt || null, receipt: bySeq.get(e.seq) || null, dismissed: !!e.dismissed,
    }));
  }

  receipts() { return this.store.getAll('receipts'); }
  conflicts() { return this.store.getAll('conflicts'); }

  async rejections() {
    return (await this.outbox()).filter((e) => e.state === 'rejected' && !e.dismissed);
  }

  // The user has seen a rejection (and perhaps written a fix): it leaves rejections().
  async dismissRejection(seq) {
    await this.store.tx(['outbox'], 'readwrite', async (s) => {
      const e = await req(s.outbox.get(seq));
      if (e && e.state === 'rejected') await req(s.outbox.put({ ...e, dismissed: true }));
    });
    this._changed(new Set());
  }

  // Outbox entries still to send, files still to upload.
  async hasWork() {
    const active = await this.store.getAll('outbox', 1, 'active');
    return active.some((e) => e.state === 'waiting' || e.state === 'sent') ||
      (await uploadable(this.store, ['waiting', 'sent', 'accepted'])).length > 0;
  }

  // What the status bar shows: counts, the last sync and its error, a clock the server judged ahead.
  async info() {
    const [entries, files, lastSync, clockAhead] = await Promise.all([this.store.getAll('outbox'),
      this.store.getAll('attachments'), this.store.getMeta('lastSync'), this.store.getMeta('clock_ahead')]);
    return {
      state: this.state, principal: this.principal, schema: this.schema && { id: this.schema.id, version: this.schema.version },
      pending: entries.filter((e) => e.state === 'waiting' || e.state === 'sent').length,
      rejected: entries.filter((e) => e.state === 'rejected' && !e.dismissed).length,
      uploads: files.filter((a) => a.state === 'waiting' || a.state === 'uploading').length,
      lastSyncAt: lastSync ? lastSync.at : null, lastError: lastSync ? lastSync.error : null, clockAhead: !!clockAhead,
      oldServerKeys: this.oldServerKeys, movedTo: this.movedTo,
    };
  }

  // ---- store and forward (protocol §16) --------------------------------------------------------

  // The outbox as a bundle file's text, signed by this device, with the photos still to upload:
  // { text, count, seqs, files, fileBytes }. onProgress({ done, total }) as the photos are packed.
  async exportBundle({ onProgress } = {}) {
    this.#needReady();
    return exportBundle(this, Date.now(), onProgress);
  }

  // The receipt bundle an administrator's import wrote: verified and settled like a push's answer
  // (under the sync lock: never at the same time as a push recording the same change sets).
  async importReceipts(text) {
    this.#needReady();
    return withLock(`tram:${this.name}:sync`, () => importReceipts(this, text));
  }

  // ---- attachments -----------------------------------------------------------------------------

  attach(blob, contentType) { return attach(this.store, blob, contentType); }

  attachmentUrl(hash) { return attachmentUrl(this.store, this.session, hash); }

  // Files kept here and how far their upload went (no bytes).
  async attachments() {
    return (await this.store.getAll('attachments')).map(({ blob, ...a }) => a);
  }

  // ---- sync ------------------------------------------------------------------------------------

  // One sync at a time: a second call while one runs gets the running one's promise. Across tabs
  // a Web Lock makes the second tab's sync wait for the first.
  sync({ onProgress, signal } = {}) {
    if (this._syncing) return this._syncing;
    this.#needReady();
    const run = withLock(`tram:${this.name}:sync`, () => runSync(this, { onProgress, signal }));
    this._syncing = run.then(
      (report) => { this._emit('sync', { done: true, ok: true, report }); return report; },
      (e) => { this._emit('sync', { done: true, ok: false, error: e }); throw e; },
    ).finally(() => { this._syncing = null; });
    return this._syncing;
  }

  startAuto() {
    this.#needReady();
    if (!this.auto) this.auto = new Auto(this);
    this.auto.start();
  }

  stopAuto() { if (this.auto) this.auto.stop(); }

  // fetch with the session token; a 401 unauthenticated opens a new session and repeats once.
  async fetchAuthed(path, init = {}) {
    this.#needReady();
    for (let attempt = 0; ; attempt++) {
      const token = await this.session.ensure();
      const headers = new Headers(init.headers || {});
      headers.set('Authorization', `Bearer ${token}`);
      const res = await fetch(this.baseUrl + path, { ...init, headers });
      if (res.status === 401 && attempt === 0) {
        const code = await res.clone().json().then((j) => j.error.code, () => 'unauthenticated');
        if (code === 'unauthenticated') { this.session.forget(); continue; }
      }
      return res;
    }
  }

  // fetchAuthed for JSON routes: the parsed answer, or a DeviceError with the server's code.
  async getJson(path) {
    const res = await this.fetchAuthed(path);
    const text = await res.text();
    if (res.status !== 200) throw httpError(res.status, text, res.headers);
    return JSON.parse(text);
  }

  // ---- events ----------------------------------------------------------------------------------

  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) { this.listeners.get(event)?.delete(fn); }

  _emit(event, data) {
    for (const fn of this.listeners.get(event) || []) {
      try { fn(data); } catch (e) { console.error(`tram device: a '${event}' listener failed`, e); }
    }
  }

  _changed(tables) { this._emit('change', { tables: [...tables] }); }

  close() {
    this.stopAuto();
    this.store.close();
  }
}
