// A local write: checked, signed, and stored with its outbox entry and the moved chain head in
// ONE IndexedDB transaction (what the SDK's commit() does in one SQLite transaction). So a crash
// or a reload either keeps the write with its outbox entry, or neither, and never uses a
// sequence number without storing what was signed at it.
//
// Signing is asynchronous (WebCrypto), and an IndexedDB transaction cannot stay open across it.
// So: read the chain head and the rows (one read transaction), check and sign outside, then store
// in a write transaction that first checks the chain head is still the one signed on (another
// tab may have written meanwhile; Web Locks make that rare). If it moved, the signature is thrown
// away unsent (never stored, so never a fork) and the write is redone on the new head.
import { encodeChangeSet, changeSetId, ChangeSetError } from '../core/changeset.js';
import { checkOps, opToWire } from '../core/schema.js';
import { Hlc } from '../core/hlc.js';
import { toHex } from '../core/bytes.js';
import { req } from './idb.js';
import { err, WriteRefused } from './errors.js';
import { uuidv7 } from './values.js';
import { overlayRow, plain, basesFor } from './view.js';
import { withLock } from './locks.js';

// dev: { store, schema, principal, key, name }. ops: [{ t, id?, k, f: { fieldName: plainValue } }].
export function write(dev, opsIn) {
  const ops = normalise(dev.schema, opsIn);
  return withLock(`tram:${dev.name}:write`, async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const snap = await readState(dev.store, ops);
      const made = await make(dev, ops, snap);
      if (await save(dev.store, made, snap.chain)) {
        return { id: made.id, seq: made.seq, ids: ops.map((o) => o.id) };
      }
    }
    throw err('busy', 'another tab keeps writing: try again', 'Một thẻ khác đang ghi dữ liệu, hãy thử lại');
  });
}

// Ids for new rows and the default op kind; everything else is core checkOps' job. Text values
// are NFC before they are checked, so a pattern or max_length sees what will be signed.
function normalise(schema, opsIn) {
  if (!Array.isArray(opsIn) || opsIn.length === 0) {
    throw new WriteRefused([{ code: 'invalid_value', message: { vi: 'Không có thay đổi nào để lưu', en: 'nothing to write' } }]);
  }
  return opsIn.map((op) => {
    const out = { t: op.t, id: op.id || uuidv7(), k: op.k || 'put' };
    if (out.k === 'put') {
      out.f = {};
      for (const [name, v] of Object.entries(op.f || {})) {
        if (v !== undefined) out.f[name] = typeof v === 'string' ? v.normalize('NFC') : v;
      }
    }
    return out;
  });
}

async function readState(store, ops) {
  return store.tx(['meta', 'rows', 'outbox'], 'readonly', async (s) => {
    const chain = (await req(s.meta.get('chain'))) || { seq: 0, id: null };
    const hlc = await req(s.meta.get('hlc'));
    const entries = await store.active(s);
    const views = new Map();
    const load = async (t, id) => {
      const key = `${t}\u0000${id}`;
      if (!views.has(key)) views.set(key, overlayRow((await req(s.rows.get([t, id]))) || null, entries, t, id));
      return views.get(key);
    };
    for (const op of ops) await load(op.t, op.id);
    // The indicator a report's value is checked against (core checkOps, schema-format.md §9.1).
    for (const op of ops) {
      const code = op.f?.indicator ?? plain(views.get(`${op.t}\u0000${op.id}`))?.indicator;
      if (typeof code === 'string' && code) await load('indicator', code);
    }
    return { chain, hlc, views };
  });
}

async function make(dev, ops, { chain, hlc, views }) {
  const { schema, principal, key } = dev;
  const view = (t, id) => views.get(`${t}\u0000${id}`) || null;
  // The rules the server's authorize() applies, against the rows as this device sees them.
  const problems = checkOps(schema, principal, ops, (t, id) => {
    const r = view(t, id);
    return r ? { ...plain(r), _deleted: r.deleted } : null;
  });
  if (problems && problems.length) throw new WriteRefused(problems);

  const wireOps = ops.map((op) => {
    const w = opToWire(schema, op);
    const written = Object.keys(op.f || {}).map((name) => [name, schema.field(op.t, name).id]);
    const b = basesFor(view(op.t, op.id), written);
    if (Object.keys(b).length) w.b = b;
    return w;
  });

  const clock = new Hlc(hlc || {});
  const cs = {
    device: key.publicKeyHex, seq: chain.seq + 1, prev: chain.id || null, hlc: clock.tick(Date.now()),
    author: principal.user, schema: schema.id, schema_v: schema.version, ops: wireOps,
  };
  let bytes;
  try {
    bytes = encodeChangeSet(cs); // checks every rule a receiver's decoder does, and the 1 MiB limit
  } catch (e) {
    if (!(e instanceof ChangeSetError)) throw e;
    throw new WriteRefused([{ code: e.code, message: e.code === 'too_large'
      ? { vi: 'Thay đổi quá lớn (tối đa 1 MiB): hãy chia nhỏ', en: e.message }
      : { vi: `Không tạo được thay đổi: ${e.message}`, en: e.message } }]);
  }
  const id = changeSetId(bytes);
  const sig = toHex(await key.sign(bytes));
  const attachments = [];
  for (const op of ops) {
    for (const [name, v] of Object.entries(op.f || {})) {
      if (v && schema.field(op.t, name).type === 'attachment') attachments.push(String(v).toLowerCase());
    }
  }
  return { seq: cs.seq, id, bytes, sig, ops, hlc: clock.toJSON(), attachments };
}

// Stores the change set, its outbox entry, the chain head and the clock at once; false when the
// chain head moved since it was read (then nothing is stored).
async function save(store, made, chainRead) {
  return store.tx(['meta', 'outbox', 'attachments'], 'readwrite', async (s) => {
    const chain = (await req(s.meta.get('chain'))) || { seq: 0, id: null };
    if (chain.seq !== chainRead.seq || (chain.id || null) !== (chainRead.id || null)) return false;
    await req(s.outbox.add({
      seq: made.seq, id: made.id, bytes: made.bytes, sig: made.sig, ops: made.ops,
      rows: made.ops.map((o) => [o.t, o.id]), state: 'waiting', active: 1, createdAt: Date.now(),
    }));
    await req(s.meta.put({ seq: made.seq, id: made.id }, 'chain'));
    // Never lower the clock: a sync may have raised it to a receipt's time meanwhile (push.js).
    const clock = new Hlc((await req(s.meta.get('hlc'))) || {});
    clock.observe(made.hlc.wall, made.hlc.counter);
    await req(s.meta.put(clock.toJSON(), 'hlc'));
    // Files this change set names: they may be uploaded once it is accepted (protocol §14.5).
    for (const hash of made.attachments) {
      const a = await req(s.attachments.get(hash));
      if (a && !(a.named || []).includes(made.seq)) await req(s.attachments.put({ ...a, named: [...(a.named || []), made.seq] }));
    }
    return true;
  });
}
