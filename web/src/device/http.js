// One HTTP request with a deadline. A link failure or a timeout becomes a retryable `offline`
// DeviceError; an HTTP answer is returned as it is (the caller decides what a status means).
import { offline, err } from './errors.js';

export const DEFAULT_TIMEOUT_MS = 30_000; // the server gives each response 30 s (protocol §1.1)

export async function request(baseUrl, path, { method = 'GET', headers = {}, body, timeoutMs = DEFAULT_TIMEOUT_MS, signal } = {}) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
  const onAbort = () => ac.abort(signal.reason);
  if (signal) signal.aborted ? ac.abort(signal.reason) : signal.addEventListener('abort', onAbort, { once: true });
  const t0 = performance.now();
  try {
    const res = await fetch(baseUrl + path, { method, headers, body, signal: ac.signal, cache: 'no-store', credentials: 'omit' });
    // Read the body under the same deadline: a response that stalls half-way is a failed link.
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, bytes, ms: performance.now() - t0,
      text() { return new TextDecoder().decode(bytes); },
      json() { return JSON.parse(new TextDecoder().decode(bytes)); } };
  } catch (e) {
    if (signal && signal.aborted) throw err('cancelled', 'cancelled', 'Đã hủy');
    const timedOut = ac.signal.reason && ac.signal.reason.name === 'TimeoutError';
    throw Object.assign(offline(timedOut ? `no answer within ${Math.round(timeoutMs / 1000)} s` : `no connection: ${e.message}`),
      { timedOut, ms: performance.now() - t0 });
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
  }
}
