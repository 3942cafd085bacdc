// Automatic sync: when the link comes back (`online`), when the server sends a notice, when the
// app returns to the foreground, and on a timer: retrying with backoff while work is waiting (an
// outbox entry or a file not yet uploaded) or the last sync failed, otherwise a slow periodic
// sync as the fallback for lost notices (§15.3). A notice that arrives during a sync asks for one
// more sync after it: the running pull may have passed the rows the notice is about.
import { Backoff } from './backoff.js';
import { Notices } from './notices.js';

const IDLE_MS = 5 * 60_000;

export class Auto {
  constructor(dev) {
    this.dev = dev;
    this.backoff = new Backoff({ initialMs: 5_000, maxMs: 10 * 60_000 });
    this.timer = null;
    this.again = false;
    this.running = false;
    this.notices = new Notices(dev.baseUrl, dev.session, () => this.kick('notice'));
    this.onOnline = () => { this.notices.kick(); this.kick('online'); };
    this.onVisible = () => { if (document.visibilityState === 'visible') this.kick('visible'); };
  }

  start() {
    if (this.running) return;
    this.running = true;
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.notices.start();
    this.kick('start');
  }

  stop() {
    this.running = false;
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.notices.stop();
    clearTimeout(this.timer);
    this.timer = null;
  }

  // Sync now (or once more after the running one), then plan the next one.
  async kick(reason) {
    if (!this.running) return;
    if (this.dev._syncing) {
      // One more sync after the running one (whoever started it), however many notices came.
      if (!this.again) {
        this.again = true;
        this.dev._syncing.catch(() => {}).finally(() => { this.again = false; this.kick('again'); });
      }
      return;
    }
    clearTimeout(this.timer);
    let failed = false, retryAfterMs = 0;
    if (navigator.onLine === false) failed = true;
    else {
      try { await this.dev.sync({ reason }); this.backoff.reset(); } catch (e) { failed = true; retryAfterMs = e.retryAfterMs || 0; }
    }
    if (!this.running || this.again) return;
    const waiting = await this.dev.hasWork().catch(() => true);
    const delay = failed || waiting ? this.backoff.next(retryAfterMs) : IDLE_MS;
    this.timer = setTimeout(() => this.kick('timer'), delay);
  }
}
