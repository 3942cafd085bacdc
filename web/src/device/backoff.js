// Exponential backoff with full jitter (a random wait between 0 and the cap, the cap doubling
// each time): many phones that lost the link at once do not come back in lockstep. A server's
// Retry-After is a floor, never shortened by the jitter.
export class Backoff {
  constructor({ initialMs = 1_000, maxMs = 5 * 60_000 } = {}) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.attempt = 0;
  }
  next(retryAfterMs = 0) {
    const cap = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt++, 20));
    return Math.max(retryAfterMs || 0, Math.floor(Math.random() * cap));
  }
  reset() { this.attempt = 0; }
}

export const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  if (signal) signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});
