// The sync protocol's messages (docs/protocol.md), as engine/src/wire.cpp reads them and
// wire_writer.cpp writes them: the push body (§7.1), pull and snapshot pages (§8.2, §8.3),
// receipts (§9.1), signed heads (§9.2), the session's signed text (§5.3) and the log chain (§9).
import { concat, fromHex, toBase64, toHex, utf8 } from './bytes.js';
import { blake2b256 } from './hash.js';
import { JsonError, parseJson } from './json.js';
import { verifySignature } from './keys.js';
import { isValidDate } from './values.js';

/** A message that is not what the protocol says, or that does not verify. */
export class WireError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'WireError';
    this.code = code; // malformed | schema_mismatch | bad_signature | mismatch
  }
}
const bad = (message) => {
  throw new WireError('malformed', message);
};

const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEX128 = /^[0-9a-fA-F]{128}$/;
const isInt = (v) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function parse(text, what) {
  try {
    return parseJson(text);
  } catch (e) {
    if (e instanceof JsonError) bad(`${what}: not JSON (${e.message})`);
    throw e;
  }
}

// ---- push (§7.1) and session (§5.3) ---------------------------------------------------------

/** {"changesets":[{"cs": base64 of the bytes, "sig": hex}, …]}: byte for byte write_push_body. */
export function pushBody(items) {
  const parts = items.map(({ bytes, sig }) => {
    const hex = typeof sig === 'string' ? sig.toLowerCase() : toHex(sig);
    if (!HEX128.test(hex)) throw new TypeError('pushBody: a signature is 128 hex digits');
    return `{"cs":"${toBase64(bytes)}","sig":"${hex}"}`;
  });
  return `{"changesets":[${parts.join(',')}]}`;
}

/** What a device signs to open a session: the ASCII bytes `tram-session-v1:<challenge>`. */
export function sessionMessage(challenge) {
  return utf8('tram-session-v1:' + challenge);
}

// ---- heads, receipts and the log (§9) ---------------------------------------------------------

/** The text a head signature covers: `tram-head-v1:<server_seq>:<log hex>`. */
export function headSignedText(serverSeq, logHex) {
  return `tram-head-v1:${BigInt(serverSeq)}:${logHex.toLowerCase()}`;
}

/** Whether `head` ({server_seq, log, sig}) is signed by the server key. */
export async function verifyHead(head, serverKeyHex) {
  if (!isObj(head) || !isInt(head.server_seq) || head.server_seq < 0) return false;
  if (typeof head.log !== 'string' || !HEX64.test(head.log) || typeof head.sig !== 'string' || !HEX128.test(head.sig)) return false;
  return verifySignature(serverKeyHex, utf8(headSignedText(head.server_seq, head.log)), head.sig);
}

/**
 * log_hash(n) = BLAKE2b-256(log_hash(n−1) ‖ n as 8 bytes big-endian ‖ id ‖ 'a' or 'r'): lets a
 * device check that consecutive receipts chain (§9).
 */
export function logHash(prevLogHex, serverSeq, idHex, accepted) {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setBigUint64(0, BigInt(serverSeq));
  return toHex(blake2b256(concat(fromHex(prevLogHex), n, fromHex(idHex), Uint8Array.of(accepted ? 0x61 : 0x72))));
}

/**
 * Checks a receipt {body, sig} (§9.1): the signature over the exact body bytes with the PINNED
 * server key, then that it names that server, this device, the seq sent and the id of the bytes
 * sent. Returns the parsed body (with `accepted`); throws WireError otherwise.
 */
export async function verifyReceipt(receipt, serverKeyHex, { id, device, seq } = {}) {
  if (id === undefined || device === undefined || seq === undefined) {
    throw new TypeError('verifyReceipt: give the id, device and seq the receipt must name');
  }
  if (!isObj(receipt) || typeof receipt.body !== 'string' || typeof receipt.sig !== 'string' || !HEX128.test(receipt.sig)) {
    bad('receipt: expected {body: string, sig: 128 hex digits}');
  }
  if (!(await verifySignature(serverKeyHex, utf8(receipt.body), receipt.sig))) {
    throw new WireError('bad_signature', "receipt: the signature does not verify with the server's key");
  }
  const r = parse(receipt.body, 'receipt');
  const hex = (k) => isObj(r) && typeof r[k] === 'string' && HEX64.test(r[k]);
  if (!isObj(r) || r.v !== 1 || !hex('server') || !isInt(r.server_seq) || !hex('id') || !hex('device') || !isInt(r.seq) ||
      typeof r.status !== 'string' || !isInt(r.received_at_ms) || typeof r.clock_ahead !== 'boolean' || !hex('log')) {
    bad('receipt: the body lacks a member of §9.1');
  }
  const mismatch = (what) => {
    throw new WireError('mismatch', `receipt: names ${what}`);
  };
  if (r.server.toLowerCase() !== serverKeyHex.toLowerCase()) throw new WireError('bad_signature', 'receipt: names another server key');
  if (r.device.toLowerCase() !== device.toLowerCase()) mismatch('another device');
  if (BigInt(r.seq) !== BigInt(seq)) mismatch(`seq ${r.seq}, not ${seq}`);
  if (r.id.toLowerCase() !== id.toLowerCase()) mismatch('another change set');
  return { ...r, accepted: r.status === 'accepted', body: receipt.body, sig: receipt.sig };
}

// ---- pull and snapshot pages (§8.2, §8.3) -----------------------------------------------------

// A value in the change-set encoding as a page carries it: [raw, plain].
function value(v, where) {
  if (v === null) return [null, null];
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string') bad(`${where}: expected null or [tag, v]`);
  const [tag, x] = v;
  const ok =
    (tag === 'i' && isInt(x)) || (tag === 'r' && (typeof x === 'number' || typeof x === 'bigint')) ||
    (tag === 't' && typeof x === 'string') || (tag === 'b' && typeof x === 'boolean') ||
    (tag === 'd' && isValidDate(x)) || (tag === 'a' && typeof x === 'string' && HEX64.test(x));
  if (!ok) bad(`${where}: a [${JSON.stringify(tag)}, v] that does not fit its tag`);
  const plain = tag === 'r' ? Number(x) : tag === 'a' ? x.toLowerCase() : x;
  return [[tag, plain], plain];
}

/**
 * A pull (§8.2) or snapshot (§8.3) page as
 * { next, more, cursor, head, writers, rows: [{ v, t, id, deleted, liveness, cells, conflicts }] }:
 *   cells: { [fieldName]: { value, raw, rank, writer } } for the cells ever written (a cleared
 *     one has value null); never-written fields are absent. rank is a BigInt (it exceeds 2^53),
 *     writer the full 64-hex id of the change set that wrote it (its first 16 digits are the
 *     base `b` of a later edit).
 *   liveness: { value: 0 alive | 1 deleted, rank, writer } (cell 0), or null.
 *   conflicts: [{ fieldId, field /* name, null for liveness *\/, winner, loser, value, raw }].
 * Rows of tables this schema does not know are skipped; a row whose cell count does not fit its
 * table throws WireError('schema_mismatch') (the two sides disagree on the schema).
 */
export function parsePage(jsonText, schema) {
  const root = parse(jsonText, 'page');
  if (!isObj(root) || !Array.isArray(root.rows) || !Array.isArray(root.writers) || !isInt(root.next) ||
      typeof root.more !== 'boolean' || !isObj(root.head)) {
    bad('page: expected rows, writers, next, more and head');
  }
  const h = root.head;
  if (!isInt(h.server_seq) || typeof h.log !== 'string' || !HEX64.test(h.log) || typeof h.sig !== 'string' || !HEX128.test(h.sig)) {
    bad('page: head is not {server_seq, log, sig}');
  }
  const writers = root.writers.map((w) => {
    if (typeof w !== 'string' || !HEX64.test(w)) bad('page: a writer is not 64 hex digits');
    return w.toLowerCase();
  });
  const writer = (k, where) => {
    if (!isInt(k) || k < 0 || k >= writers.length) bad(`${where}: writer index out of range`);
    return writers[Number(k)];
  };
  const rows = [];
  for (const r of root.rows) {
    if (!isObj(r) || !isInt(r.v) || typeof r.t !== 'string' || typeof r.id !== 'string' || !Array.isArray(r.c)) {
      bad('page: a row is not {v, t, id, c}');
    }
    const table = schema.table(r.t);
    if (!table) continue; // a table of a newer schema: this device cannot show it
    if (r.c.length !== table.fields.length + 1) {
      throw new WireError('schema_mismatch', `page: ${r.t} has ${r.c.length} cells, this schema ${table.fields.length + 1}`);
    }
    const where = `page: ${r.t}/${r.id}`;
    let common = null; // the row's common rank and writer: cells written by them travel bare
    if (r.w !== undefined) {
      if (!isInt(r.r)) bad(`${where}: r and w do not fit`);
      common = { rank: BigInt(r.r), writer: writer(r.w, where) };
    }
    const cell = (c) => {
      if (c === null) return null;
      if (!Array.isArray(c)) bad(`${where}: a cell is null or [value, rank, writer]`);
      if (common && c.length === 2 && typeof c[0] === 'string') {
        const [raw, plain] = value(c, where);
        return { value: plain, raw, rank: common.rank, writer: common.writer };
      }
      if (c.length !== 3 || !isInt(c[1])) bad(`${where}: a cell is null or [value, rank, writer]`);
      const [raw, plain] = value(c[0], where);
      return { value: plain, raw, rank: BigInt(c[1]), writer: writer(c[2], where) };
    };
    const live = cell(r.c[0]);
    const cells = {};
    table.fields.forEach((f, k) => {
      const got = cell(r.c[k + 1]);
      if (got) cells[f.name] = got;
    });
    const conflicts = [];
    if (r.x !== undefined) {
      if (!Array.isArray(r.x)) bad(`${where}: x is not an array`);
      for (const e of r.x) {
        if (!Array.isArray(e) || e.length !== 4 || !isInt(e[0]) || e[0] < 0) bad(`${where}: a conflict is not [field, winner, loser, value]`);
        const [raw, plain] = value(e[3], where);
        const fieldId = Number(e[0]);
        conflicts.push({
          fieldId, field: fieldId === 0 ? null : schema.field(table, fieldId)?.name ?? null,
          winner: writer(e[1], where), loser: writer(e[2], where), value: plain, raw,
        });
      }
    }
    rows.push({
      v: r.v, t: r.t, id: r.id,
      deleted: live !== null && live.value === 1,
      liveness: live && { value: Number(live.value), rank: live.rank, writer: live.writer },
      cells, conflicts,
    });
  }
  return {
    next: root.next, more: root.more, cursor: typeof root.cursor === 'string' ? root.cursor : null,
    head: { server_seq: h.server_seq, log: h.log.toLowerCase(), sig: h.sig.toLowerCase() },
    writers, rows,
  };
}
