// Who this device is: enrolment (protocol §5.1, §5.4), the principal the server states now
// (§5.5), and the schema kept for offline use.
//
// Enrolment is retry-safe: the key is stored BEFORE the server hears of it, so an answer lost on
// the way back is retried with the same key. A retry then gets either 200 (the first try was not
// committed) or 409 already_enrolled (it was): either way the key is enrolled, and /v1/me (with a
// session, which proves the key) says for whom. A new key would only find the code used.
import { createDeviceKey, openDeviceKey } from '../core/keys.js';
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

// /v1/me at the start of each sync: an administrator may have changed the role or the units.
// Returns { me, principal, changed }. A server key other than the pinned one is refused: following
// signed key statements (§4) is not implemented in the web device yet.
export async function refresh(store, session, current) {
  const me = await session.json('/v1/me');
  if (me.server_key && me.server_key !== current.server_key) {
    throw err('server_key_changed', `the server now names key ${me.server_key.slice(0, 16)}…, not the one pinned at enrolment`,
      'Khóa của máy chủ đã thay đổi: thiết bị không tin khóa mới. Hãy liên hệ quản trị viên');
  }
  const principal = principalOf(me, current.server_key);
  const changed = JSON.stringify(principal) !== JSON.stringify(current);
  if (changed) {
    await store.tx(['meta'], 'readwrite', async (s) => {
      const id = await req(s.meta.get('identity'));
      await req(s.meta.put({ ...id, principal }, 'identity'));
    });
  }
  return { me, principal, changed };
}
