// Promise wrappers for IndexedDB, nothing more. Awaiting a request's promise inside a
// transaction keeps the transaction alive (the continuation runs as a microtask of the request's
// success event); awaiting anything else (fetch, WebCrypto) would let it auto-commit, which is
// why signing and network calls always happen between transactions, never inside one.

export const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

export const done = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = () => reject(tx.error);
  tx.onabort = () => reject(tx.error || new DOMException('transaction aborted', 'AbortError'));
});

export function openDb(name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name, version);
    r.onupgradeneeded = (e) => upgrade(r.result, e.oldVersion, r.transaction);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new DOMException(`IndexedDB ${name} is blocked by another tab`, 'InvalidStateError'));
  });
}

// Runs fn(stores) in one transaction over `names` and resolves with fn's result once the
// transaction has committed: a caller never sees a result that a crash could still undo.
// Writes are 'strict' by default (flushed before the commit is reported): a saved write must
// survive a crash. A pulled page may pass { durability: 'relaxed' }: if it is lost, its cursor
// is lost with it and the page is simply fetched again.
export async function inTx(db, names, mode, fn, { durability = 'strict' } = {}) {
  const tx = db.transaction(names, mode, mode === 'readwrite' ? { durability } : undefined);
  const committed = done(tx);
  const stores = {};
  for (const n of names) stores[n] = tx.objectStore(n);
  let result;
  try {
    result = await fn(stores, tx);
  } catch (e) {
    try { tx.abort(); } catch { /* already finished */ }
    committed.catch(() => {});
    throw e;
  }
  await committed;
  return result;
}
