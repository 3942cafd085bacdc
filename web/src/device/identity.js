// Who this device is: enrolment (protocol §5.1, §5.4), the principal the server states now
// (§5.5), the server keys it trusts (the pinned one, followed through signed key statements, §4,
// and the earlier ones it passed through), and the schema kept for offline use.
//
// Enrolment is retry-safe: the key is stored BEFORE the server hears of it, so an answer lost on
// the way back is retried with the same key. A retry then gets either 200 (the first try was not
// committed) or 409 already_enrolled (it was): either way the key is enrolled, and /v1/me (with a
// session, which proves the key) says for whom. A new key would only find the code used.
import { createDeviceKey, openDeviceKey } from '../core/keys.js';
import { followKeyStatements, KeyStatementError } from '../core/keystatements.js';
import { req } from './idb.js';
import { err, httpError } from './errors.js';
import { Session } from './session.js';
import { request } from './http.js';

// Upper-case what was typed and put the dashes back (§5.1: the server compares the exact string).
export function normaliseCode(typed) {
  const c = String(typed || '').toUpperCase().replace(/[^A-Z0-9]/g, '');
  return c.length === 16 ? `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8, 12)}-${c.slice(12)}` : String(typed || '').trim();
}

// keyBackend: 'auto' (WebCrypto Ed25519 when the browser has it), or 'noble' to force the
// passphrase-wrapped fallback (tests of the fallback on a browser that has WebCrypto).
export async function enroll(store, baseUrl, typedCode, { passphrase, keyBackend = 'auto' } = {}) {
  const code = normaliseCode(typedCode);
  let pending = await store.getMeta('enrolment');
  if (!pending) {
    const made = await createDeviceKey({ passphrase, backend: keyBackend });
    pending = { publicKeyHex: made.publicKeyHex, record: made.record, createdAt: Date.now() };
    await store.setMeta('enrolment', pending);
  }
  let key;
  try {
    key = await openDeviceKey(pending.record, { passphrase });
  } catch (e) {
    throw err('bad_passphrase', `the key made for this enrolment does not open: ${e.message}`, 'Mật khẩu không đúng');
  }
  const session = new Session(baseUrl, key);
  let stated;
  try {
    stated = await session.post('/v1/enroll', { code, public_key: pending.publicKeyHex });
  } catch (e) {
    if (e.code !== 'already_enrolled') throw e; // the key stays stored: the next try reuses it
    stated = await session.json('/v1/me');
  }
  const principal = principalOf(stated);
  if (principal.device !== pending.publicKeyHex) {
    throw err('enrolment_mismatch', 'the server enrolled another key', 'Máy chủ đã đăng ký một khóa khác');
  }
  const schemaText = await fetchSchema(baseUrl).catch(() => null); // fetched again at the next sync if this fails
  await store.tx(['meta'], 'readwrite', async (s) => {
    await req(s.meta.put({ principal, publicKeyHex: pending.publicKeyHex, record: pending.record, enrolledAt: Date.now() }, 'identity'));
    if (schemaText) await req(s.meta.put(schemaText, 'schema'));
    await req(s.meta.put({ seq: 0, id: null }, 'chain'));
    await req(s.meta.delete('enrolment'));
  });
  return { principal, key, session, schemaText };
}

// The principal as the app sees it; `server_key` is the key pinned at enrolment.
export function principalOf(j, pinned) {
  return { user: j.user, role: j.role, units: j.units || [], all_units: !!j.all_units, name: j.name || '',
    device: j.device, server_key: pinned || j.server_key };
}

// GET /v1/schema: public, the newest schema JSON of the server (the same file as schemas/…/vN.json).
export async function fetchSchema(baseUrl) {
  const r = await request(baseUrl, '/v1/schema');
  if (r.status !== 200) throw httpError(r.status, r.text(), r.headers);
  const text = r.text();
  JSON.parse(text); // only JSON is kept
  return text;
}

// /v1/me at the start of each sync: an administrator may have changed the role or the units, or
// the operator rotated the server's key or moved it. Returns { me, principal, changed, rotated,
// movedTo }. A server key other than the pinned one, or more key statements than this device has
// seen (`key_statements`, §5.5), makes it fetch GET /v1/server-key and follow the statements from
// its pinned key (core/keystatements.js, as the SDK does); a key no signed statement leads to is
// refused with `server_key_changed` and nothing is trusted or sent.
export async function refresh(store, session, current, { baseUrl = session.baseUrl, signal } = {}) {
  const me = await session.json('/v1/me');
  const identity = await store.getMeta('identity');
  const named = typeof me.server_key === 'string' ? me.server_key.toLowerCase() : null;
  const seen = identity.keyStatementsSeen || 0;
  // The stored key, not the caller's copy: another tab's device handle may have followed already.
  let pinned = (identity.principal.server_key || current.server_key).toLowerCase();
  let movedTo = identity.movedTo || null;
  if ((named && named !== pinned) || (Number.isSafeInteger(me.key_statements) && me.key_statements > seen)) {
    const followed = await followServerKey(store, baseUrl, pinned, signal);
    pinned = followed.key;
    movedTo = followed.movedTo;
  }
  const rotated = pinned !== current.server_key.toLowerCase();
  if (named && named !== pinned) throw untrusted(named, pinned);
  const principal = principalOf(me, pinned);
  const changed = JSON.stringify(principal) !== JSON.stringify(current);
  if (changed) {
    await store.tx(['meta'], 'readwrite', async (s) => {
      const id = await req(s.meta.get('identity'));
      await req(s.meta.put({ ...id, principal }, 'identity'));
    });
  }
  return { me, principal, changed, rotated, movedTo };
}

const untrusted = (advertised, pinned) => err('server_key_changed',
  `the server signs with key ${advertised.slice(0, 16)}…, and no key statement signed by a key this device trusts leads to it from the key it pinned (${pinned.slice(0, 16)}…): refusing to trust it`,
  'Khóa chữ ký của máy chủ đã thay đổi mà không có xác nhận của khóa cũ: thiết bị không tin máy chủ này và chưa gửi gì. Hãy báo quản trị hệ thống');

// GET /v1/server-key (public: what it says is trusted only through signatures) and the walk from
// the pinned key. Keeps, in one transaction: the new pinned key (in the principal), every key
// passed through (receipts they signed still verify: those kept here, and a receipts file an
// administrator made before the rotation and the phone imports after it), how many statements
// there were, and an address move. A move is only reported: the app lives at its own origin (its store, its service worker,
// a CSP that allows no other server), so the user is told to open the new address.
export async function followServerKey(store, baseUrl, pinnedHex, signal) {
  const r = await request(baseUrl, '/v1/server-key', { signal });
  if (r.status !== 200) throw httpError(r.status, r.text(), r.headers);
  let followed;
  try {
    followed = await followKeyStatements(pinnedHex, r.json());
  } catch (e) {
    if (e instanceof KeyStatementError && e.code === 'untrusted_key') throw untrusted(e.advertised, e.pinned);
    if (e instanceof KeyStatementError || e instanceof SyntaxError) throw err('malformed', `server-key: ${e.message}`, 'Máy chủ trả lời không đúng định dạng');
    throw e;
  }
  let movedTo = null;
  await store.tx(['meta'], 'readwrite', async (s) => {
    const id = await req(s.meta.get('identity'));
    const old = new Set(id.oldServerKeys || []);
    for (const st of followed.applied) if (st.from !== st.to) old.add(st.from);
    old.delete(followed.key); // a walk that came back to an earlier key
    movedTo = id.movedTo || null;
    const here = new URL(baseUrl).origin;
    if (followed.address && followed.addressAt > (movedTo?.at_ms || 0)) {
      movedTo = new URL(followed.address).origin === here ? null : { address: followed.address, at_ms: followed.addressAt };
    }
    await req(s.meta.put({ ...id, principal: { ...id.principal, server_key: followed.key }, oldServerKeys: [...old],
      keyStatementsSeen: followed.count, movedTo, keyStatements: followed.applied.length ? followed.applied.map(({ body, sig }) => ({ body, sig })) : id.keyStatements }, 'identity'));
  });
  return { key: followed.key, rotated: followed.rotated, movedTo };
}
