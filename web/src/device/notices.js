// "New data" notices over a WebSocket (protocol §15). A notice carries no data; it only says
// "pull". Browsers cannot set headers on a WebSocket, so the session token goes in ?token=
// (§15.1). The subscription keeps the scope it opened with and is closed (1008) when the token
// expires or the scope changes, so on every close we open a new session and subscribe again,
// with a growing delay. Notices are best effort; the caller keeps a slow periodic sync too.
import { Backoff } from './backoff.js';

export class Notices {
  // session: Session; onNotice(msg) for 'hello' and 'changes'.
  constructor(baseUrl, session, onNotice) {
    this.url = baseUrl.replace(/^http/, 'ws') + '/v1/notify?token=';
    this.session = session;
    this.onNotice = onNotice;
    this.backoff = new Backoff({ initialMs: 2_000, maxMs: 2 * 60_000 });
    this.ws = null;
    this.timer = null;
    this.stopped = true;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.#connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(1000); this.ws = null; }
  }

  async #connect() {
    if (this.stopped || this.ws) return;
    if (typeof navigator !== 'undefined' && navigator.onLine === false) return this.#retry();
    let token;
    try { token = await this.session.ensure(); } catch { return this.#retry(); }
    if (this.stopped) return;
    const ws = new WebSocket(this.url + token);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => { opened = true; };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.type === 'hello') this.backoff.reset();
      if (msg.type === 'hello' || msg.type === 'changes') this.onNotice(msg);
    };
    ws.onclose = (e) => {
      this.ws = null;
      // Refused at the upgrade (a dead token shows only as a failed connection) or closed for
      // policy (1008: expired token, changed scope): a new session before trying again.
      if (!opened || e.code === 1008) this.session.forget();
      this.#retry();
    };
    ws.onerror = () => {};
  }

  #retry() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#connect(), this.backoff.next());
  }

  // When the link comes back, try at once rather than after the backoff.
  kick() {
    if (this.stopped || this.ws) return;
    this.backoff.reset();
    clearTimeout(this.timer);
    this.#connect();
  }
}
