// Sessions (protocol §3, §5.2–5.3): a challenge signed with the device key buys a token good for
// an hour. The token lives in memory only: sessions live in the server's memory too, so a
// restart of either side simply means a new challenge. A 401 `unauthenticated` opens a new
// session and repeats the request once (§5.4); push is idempotent, so repeating it is safe.
import { utf8, toHex } from '../core/bytes.js';
import { request } from './http.js';
import { httpError } from './errors.js';

export class Session {
  // key: { publicKeyHex, sign(u8) -> Promise<u8(64)> } from core keys.openDeviceKey
  constructor(baseUrl, key) {
    this.baseUrl = baseUrl;
    this.key = key;
    this.token = null;
    this.opening = null;
  }

  forget() { this.token = null; }

  // One opening at a time: parallel requests that all got 401 share the new token.
  async ensure(signal) {
    if (this.token) return this.token;
    if (!this.opening) {
      this.opening = this.#open(signal).finally(() => { this.opening = null; });
    }
    return this.opening;
  }

  async #open(signal) {
    const device = this.key.publicKeyHex;
    const c = await this.post('/v1/auth/challenge', { device }, signal);
    const sig = await this.key.sign(utf8(`tram-session-v1:${c.challenge}`));
    const s = await this.post('/v1/auth/session', { device, challenge: c.challenge, signature: toHex(sig) }, signal);
    this.token = s.token;
    return s.token;
  }

  // An unauthenticated JSON POST (enrolment, challenge, session): the answer's JSON, or a DeviceError.
  async post(path, body, signal) {
    const r = await request(this.baseUrl, path, { method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' }, signal });
    if (r.status !== 200) throw httpError(r.status, r.text(), r.headers);
    return r.json();
  }

  // An authenticated request; returns the raw answer whatever its status (except a second 401).
  async call(path, init = {}) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.ensure(init.signal);
      const headers = { ...(init.headers || {}), Authorization: `Bearer ${token}` };
      const r = await request(this.baseUrl, path, { ...init, headers });
      if (r.status === 401 && attempt === 0 && isExpired(r)) { this.token = null; continue; }
      return r;
    }
  }

  // An authenticated JSON call: the answer's JSON when 200, else a DeviceError.
  async json(path, init = {}) {
    const r = await this.call(path, init);
    if (r.status !== 200) throw httpError(r.status, r.text(), r.headers);
    return r.json();
  }
}

// Only `unauthenticated` means "open a new session"; `unknown_device` is final.
function isExpired(r) {
  try { return r.json().error.code === 'unauthenticated'; } catch { return true; }
}
