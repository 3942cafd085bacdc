// Following the server's key statements (docs/protocol.md §4), as the C++ SDK does
// (client-sdk/src/identity.cpp follow_server_key): a server that rotates its signing key
// (`tram-server admin rotate-key`) or moves (`admin move`) publishes a statement signed by the
// key devices trust now. A device walks them from the key it PINNED, never from what the server
// claims: a statement applies when its `from` is the current key and that key signed it; it moves
// to its `to`. The walk must arrive at the key the server advertises, or nothing new is trusted.
import { utf8 } from './bytes.js';
import { verifySignature } from './keys.js';

export const STATEMENT_PREFIX = 'tram-key-statement-v1:';
const MAX_STATEMENTS = 4096;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEX128 = /^[0-9a-fA-F]{128}$/;

export class KeyStatementError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'KeyStatementError';
    this.code = code; // malformed | untrusted_key
    Object.assign(this, extra);
  }
}

/** One statement `{ body, sig }` parsed: `{ body, sig, from, to, address, at_ms }`, or null when it is not one. */
export function parseKeyStatement(item) {
  if (!item || typeof item.body !== 'string' || typeof item.sig !== 'string' || !HEX128.test(item.sig)) return null;
  let o;
  try { o = JSON.parse(item.body); } catch { return null; }
  if (!o || typeof o !== 'object' || Array.isArray(o) || o.v !== 1 || o.kind !== 'tram-key-statement') return null;
  if (typeof o.from !== 'string' || !HEX64.test(o.from) || typeof o.to !== 'string' || !HEX64.test(o.to)) return null;
  if (typeof o.address !== 'string' || !Number.isSafeInteger(o.at_ms)) return null;
  return { body: item.body, sig: item.sig.toLowerCase(), from: o.from.toLowerCase(), to: o.to.toLowerCase(), address: o.address, at_ms: o.at_ms };
}

/**
 * The answer of GET /v1/server-key (`{ key, statements }`) walked from `pinnedHex`. Returns
 * `{ key, applied, rotated, address, addressAt, count }`: the key to pin (the advertised one),
 * the statements followed in order (their `from` keys are the ones to keep for old receipts),
 * whether the key changed, the address of the last followed statement naming one (or null), and
 * how many statements the server listed. Throws KeyStatementError 'untrusted_key' when no chain
 * of statements signed by trusted keys leads to the advertised key (unsigned, forged, or a key
 * replaced without a statement), and 'malformed' for an answer without a key.
 */
export async function followKeyStatements(pinnedHex, answer) {
  if (!answer || typeof answer.key !== 'string' || !HEX64.test(answer.key)) throw new KeyStatementError('malformed', 'server-key: unexpected answer');
  const advertised = answer.key.toLowerCase();
  const list = Array.isArray(answer.statements) ? answer.statements.slice(0, MAX_STATEMENTS) : []; // absent: a server from before statements
  const statements = list.map(parseKeyStatement).filter(Boolean);
  const pinned = pinnedHex.toLowerCase();
  let k = pinned;
  const applied = [];
  const used = new Set();
  for (let progress = true; progress;) {
    progress = false;
    for (let i = 0; i < statements.length; i++) {
      const st = statements[i];
      if (used.has(i) || st.from !== k) continue;
      if (!(await verifySignature(k, utf8(STATEMENT_PREFIX + st.body), st.sig))) continue;
      used.add(i);
      applied.push(st);
      k = st.to;
      progress = true;
    }
  }
  if (k !== advertised) {
    throw new KeyStatementError('untrusted_key', `the server now signs with key ${advertised.slice(0, 16)}…, and no key statement signed by a key this device trusts leads to it from the key it pinned (${pinned.slice(0, 16)}…)`,
      { advertised, pinned });
  }
  let move = null;
  for (const st of applied) if (st.address) move = st;
  if (move && !/^https?:\/\//.test(move.address)) move = null;
  return { key: k, applied, rotated: k !== pinned, address: move ? move.address : null, addressAt: move ? move.at_ms : 0, count: list.length };
}
