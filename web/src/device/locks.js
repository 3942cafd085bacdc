// Mutual exclusion across the tabs of one browser profile (Web Locks), so two tabs never sign two
// change sets at one sequence number and never sync at once. Without Web Locks (old browsers),
// a promise chain serialises this tab, and the compare-and-set on the chain head in write.js
// still keeps two tabs from storing two change sets at one seq.
const chains = new Map();

export function withLock(name, fn) {
  if (typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request) {
    return navigator.locks.request(name, () => fn());
  }
  const prev = chains.get(name) || Promise.resolve();
  const run = prev.then(fn, fn);
  chains.set(name, run.catch(() => {}));
  return run;
}
