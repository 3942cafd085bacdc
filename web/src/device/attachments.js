// Attachments (protocol §14): a file is named by the BLAKE2b-256 of its bytes, kept in IndexedDB
// under that name until the server says "complete", and uploaded in chunks once a change set
// naming it has been accepted (before that the server answers 404: nothing names it yet).
// Resumable: the server counts what it holds for this device (GET …/status), the device resumes
// there after a cut or a reload; a 409 names the right offset. Chunk sizes adapt to the link so
// that each chunk stays well inside the server's 30 s per request.
import { blake2b256 } from '../core/hash.js';
import { toHex } from '../core/bytes.js';
import { req } from './idb.js';
import { err, httpError } from './errors.js';

export const MAX_FILE = 26_214_400; // 25 MiB, the server's limit per attachment
export const CHUNK_START = 64 << 10; // the server's tests use 64 KiB (§14.5)
const CHUNK_MIN = 16 << 10, CHUNK_MAX = 1 << 20;
const FAST_MS = 2_000, SLOW_MS = 10_000;

export async function hashBlob(blob) {
  return toHex(blake2b256(new Uint8Array(await blob.arrayBuffer())));
}

export async function attach(store, blob, contentType) {
  if (blob.size > MAX_FILE) throw err('too_large', `the file is ${blob.size} bytes; at most 25 MiB`, 'Tệp quá lớn (tối đa 25 MiB)');
  const hash = await hashBlob(blob);
  const type = contentType || blob.type || 'application/octet-stream';
  await store.tx(['attachments'], 'readwrite', async (s) => {
    const old = await req(s.attachments.get(hash));
    // The same bytes attached twice are one file; keep the upload's progress.
    if (!old) {
      await req(s.attachments.put({ hash, blob: new Blob([blob], { type }), size: blob.size, contentType: type,
        offset: 0, state: 'waiting', named: [], createdAt: Date.now() }));
    }
  });
  return hash;
}

// Uploads every file that a change set accepted by the server names. Progress in bytes.
export async function uploadAll(sc) {
  const ready = await uploadable(sc.store, ['accepted']);
  if (!ready.length) return;
  const total = ready.reduce((n, a) => n + a.size, 0);
  let base = 0;
  sc.progress({ phase: 'upload', done: 0, total, bytes: 0 });
  for (const a of ready) {
    await uploadOne(sc, a, (sent) => sc.progress({ phase: 'upload', done: base + sent, total, bytes: base + sent }));
    base += a.size;
  }
}

// Files still to upload whose naming change set (when we know it) is in one of `states`. A file
// whose every naming change set was rejected cannot be uploaded (the server answers 404) and is
// left out, so it does not keep the automatic sync retrying.
export async function uploadable(store, states) {
  const files = (await store.getAll('attachments')).filter((a) => a.state === 'waiting' || a.state === 'uploading');
  if (!files.length) return [];
  const state = new Map((await store.getAll('outbox')).map((e) => [e.seq, e.state]));
  return files.filter((a) => !a.named || !a.named.length || a.named.some((seq) => states.includes(state.get(seq))));
}

async function uploadOne(sc, a, onBytes) {
  const path = `/v1/attachments/${a.hash}`;
  const st = await sc.session.call(`${path}/status`, { signal: sc.signal });
  if (st.status === 404) return; // no accepted change set names it yet (or it was rejected): later
  if (st.status !== 200) throw httpError(st.status, st.text(), st.headers);
  let { received: offset, complete } = st.json();
  let restarts = 0;
  while (!complete) {
    const len = Math.min(sc.tuning.chunk, a.size - offset);
    const final = offset + len >= a.size;
    const chunk = a.blob.slice(offset, offset + len);
    let r;
    try {
      r = await sc.session.call(`${path}?offset=${offset}${final ? '&final=1' : ''}`, {
        method: 'PUT', body: chunk, headers: { 'Content-Type': 'application/octet-stream' }, signal: sc.signal,
      });
    } catch (e) {
      if (e.timedOut) sc.tuning.chunk = Math.max(CHUNK_MIN, sc.tuning.chunk >> 1);
      throw e; // the sync retries; the next try asks /status where to resume
    }
    sc.report.bytesSent += len;
    if (r.status === 409) { offset = r.json().received; continue; }
    if (r.status === 422) {
      // The bytes did not hash to the name: the server dropped the partial upload. Check the
      // local copy; upload it again from 0 only if it still matches (§14.5).
      if (restarts++ || (await hashBlob(a.blob)) !== a.hash) {
        await setState(sc.store, a.hash, { state: 'damaged' });
        throw err('hash_mismatch', `the local copy of ${a.hash} is damaged`, 'Tệp đính kèm trên máy bị hỏng, không gửi được');
      }
      offset = 0;
      continue;
    }
    if (r.status === 413) {
      await setState(sc.store, a.hash, { state: 'failed' });
      throw err('too_large', 'the server refused the attachment as too large', 'Máy chủ từ chối: tệp quá lớn');
    }
    if (r.status !== 200) throw httpError(r.status, r.text(), r.headers);
    if (r.ms < FAST_MS) sc.tuning.chunk = Math.min(CHUNK_MAX, sc.tuning.chunk * 2);
    else if (r.ms > SLOW_MS) sc.tuning.chunk = Math.max(CHUNK_MIN, sc.tuning.chunk >> 1);
    const j = r.json();
    offset = j.received;
    complete = j.complete;
    if (final && !complete) throw err('hash_mismatch', `attachment ${a.hash} did not verify on the server`, 'Tệp đính kèm không khớp trên máy chủ');
    await setState(sc.store, a.hash, { state: complete ? 'complete' : 'uploading', offset });
    onBytes(offset);
  }
  await setState(sc.store, a.hash, { state: 'complete', offset: a.size, completedAt: Date.now() });
  sc.report.uploaded++;
  onBytes(a.size);
}

async function setState(store, hash, patch) {
  await store.tx(['attachments'], 'readwrite', async (s) => {
    const cur = await req(s.attachments.get(hash));
    if (cur) await req(s.attachments.put({ ...cur, ...patch }));
  });
}

// The file as an object URL: the local copy, or else downloaded with the session, checked against
// its name, and kept (so a photo seen once can be seen offline).
export async function attachmentUrl(store, session, hash) {
  const local = await store.tx(['attachments'], 'readonly', (s) => req(s.attachments.get(hash)));
  if (local && local.blob) return URL.createObjectURL(local.blob);
  const r = await session.call(`/v1/attachments/${hash}`);
  if (r.status !== 200) throw httpError(r.status, r.text(), r.headers);
  if (toHex(blake2b256(r.bytes)) !== hash) throw err('hash_mismatch', 'the downloaded file does not match its name', 'Tệp tải về không khớp');
  const blob = new Blob([r.bytes], { type: r.headers.get('Content-Type') || 'application/octet-stream' });
  await store.tx(['attachments'], 'readwrite', (s) => req(s.attachments.put({ hash, blob, size: blob.size,
    contentType: blob.type, offset: blob.size, state: 'downloaded', named: [], createdAt: Date.now() })));
  return URL.createObjectURL(blob);
}
