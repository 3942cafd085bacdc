// Change sets, format version 1 (docs/changeset-format.md): the canonical encoder, byte for byte
// the C++ reference (engine/src/changeset_encode.cpp, golden files in tests/golden/), the
// validation it runs before anything is signed (changeset_validate.cpp), and a strict decoder.
//
// The model:
//   cs = { device: hex64, seq, prev: hex64|null, hlc: [wallMs, counter], author, schema, schema_v,
//          ops: [{ t, id, k: 'put'|'del', f: { [fieldId]: value }, b: { [fieldId]: writer16 } }] }
//   value = null | [tag, v]: ['i', Number|BigInt] ['r', Number] ['t', string] ['b', bool]
//                            ['d', 'YYYY-MM-DD'] ['a', hex64]
// Integers: seq, hlc and schema_v are Numbers (all below 2^53 by the format's limits). An "i"
// value is a Number when it is a safe integer and must be a BigInt beyond ±(2^53−1): a Number
// there may already have been rounded, so the encoder refuses it rather than sign a guess.
import { utf8, fromUtf8, toHex } from './bytes.js';
import { blake2b256 } from './hash.js';
import { JsonError, JsonNumber, parseJson } from './json.js';
import {
  formatReal, isNfc, isValidDate, isValidRowId, isValidSchemaId, isValidTableName, isWellFormed,
  MAX_I64, MIN_I64, parseFieldId, utf8Length,
} from './values.js';

/** The format's limits (ChangeSetLimits); a receiver may lower them, never raise them. */
export const LIMITS = Object.freeze({
  maxBytes: 1 << 20,
  maxOps: 2000,
  maxFieldsPerOp: 256,
  maxTextBytes: 32 * 1024,
  maxNameBytes: 64,
  maxAuthorBytes: 128,
  maxDepth: 5,
});

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 − 1, the seq limit
const MAX_WALL_MS = 2 ** 47 - 1;
const MAX_COUNTER = 65535;
const MAX_SCHEMA_V = 4294967295;

/** A refusal with the engine's code (changeset-format.md §11.1) and where it is. */
export class ChangeSetError extends Error {
  constructor(code, where, what) {
    super(`${where}: ${what}`);
    this.name = 'ChangeSetError';
    this.code = code;
    this.where = where;
  }
}

const fail = (code, where, what) => {
  throw new ChangeSetError(code, where, what);
};

// ---- validation and encoding ------------------------------------------------------------

const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;

// A 32-byte key or id given as hex (either case) or bytes, as lowercase hex: the C++ model holds
// bytes, so it always writes lowercase.
function hex32(v, where) {
  if (v instanceof Uint8Array && v.length === 32) return toHex(v);
  if (typeof v === 'string' && HEX64.test(v)) return v.toLowerCase();
  return fail('invalid_value', where, 'expected 64 hex digits');
}

function checkText(s, max, where) {
  if (typeof s !== 'string') fail('wrong_type', where, 'expected a string');
  if (!isWellFormed(s)) fail('invalid_utf8', where, 'not UTF-8 (a lone surrogate)');
  if (utf8Length(s) > max) fail('too_large', where, `longer than ${max} bytes`);
  if (!isNfc(s)) fail('not_normalized', where, 'text must be in Unicode NFC');
}

// C++ json::append_string: only " \ and control characters are escaped, UTF-8 as is.
function quote(s) {
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(run, i);
    run = i + 1;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else out += '\\u00' + c.toString(16).padStart(2, '0');
  }
  return out + s.slice(run) + '"';
}

// One value, checked and encoded: "null" or ["tag",v].
function encodeValue(value, limits, where) {
  if (value === null) return 'null';
  if (!Array.isArray(value)) return fail('wrong_type', where, 'a value is null or [tag, v]');
  if (value.length !== 2) return fail('invalid_value', where, 'a value is [tag, v]');
  const [tag, v] = value;
  switch (tag) {
    case 'i': {
      let text;
      if (typeof v === 'bigint') {
        if (v < MIN_I64 || v > MAX_I64) fail('out_of_range', where, 'integers are 64-bit');
        text = v.toString();
      } else if (typeof v === 'number' && Number.isInteger(v)) {
        if (!Number.isSafeInteger(v)) fail('out_of_range', where, 'an integer beyond 2^53 must be given as a BigInt');
        text = String(v); // -0 is "0", as int64 0
      } else {
        fail('wrong_type', where, 'expected an integer');
      }
      return `["i",${text}]`;
    }
    case 'r':
      if (typeof v !== 'number') fail('wrong_type', where, 'expected a number');
      if (!Number.isFinite(v)) fail('out_of_range', where, 'reals must be finite');
      return `["r",${formatReal(v)}]`;
    case 't':
      checkText(v, limits.maxTextBytes, where);
      return `["t",${quote(v)}]`;
    case 'b':
      if (typeof v !== 'boolean') fail('wrong_type', where, 'expected true or false');
      return `["b",${v}]`;
    case 'd':
      if (typeof v !== 'string') fail('wrong_type', where, 'expected "YYYY-MM-DD"');
      if (!isValidDate(v)) fail('invalid_value', where, 'not a date 0001-01-01..9999-12-31');
      return `["d","${v}"]`;
    case 'a':
      return `["a","${hex32(v, where)}"]`;
    default:
      return fail('invalid_value', where, `unknown tag ${JSON.stringify(tag)}`);
  }
}

// The members of `f` or `b` in ascending numeric order (object keys are strings).
function fieldEntries(obj, min, where) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) fail('wrong_type', where, 'expected an object');
  const out = [];
  for (const key of Object.keys(obj)) {
    const id = parseFieldId(key, min);
    if (id === null) fail('invalid_value', `${where}.${key}`, `field ids are ${min}..2^31-1 in canonical decimal`);
    out.push([id, obj[key]]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function checkInteger(v, min, max, where) {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail('wrong_type', where, 'expected an integer');
  if (v < min || v > max) fail('out_of_range', where, `must be ${min}..${max}`);
  return String(v);
}

/**
 * The canonical bytes of `cs` (changeset-format.md §6), after every check of validate() (§6.1)
 * and the encoded size: throws ChangeSetError instead of producing bytes a receiver would refuse.
 */
export function encodeChangeSet(cs, limits = LIMITS) {
  limits = { ...LIMITS, ...limits };
  const seq = checkInteger(cs.seq, 1, MAX_SAFE, '$.seq');
  if ((cs.seq === 1) !== (cs.prev === null || cs.prev === undefined)) {
    fail('invalid_value', '$.prev', 'must be null exactly when seq is 1');
  }
  if (!Array.isArray(cs.hlc) || cs.hlc.length !== 2) fail('invalid_value', '$.hlc', 'expected [wall_ms, counter]');
  const wall = checkInteger(cs.hlc[0], 0, MAX_WALL_MS, '$.hlc');
  const counter = checkInteger(cs.hlc[1], 0, MAX_COUNTER, '$.hlc');
  if (cs.author === '') fail('invalid_value', '$.author', 'must not be empty');
  checkText(cs.author, limits.maxAuthorBytes, '$.author');
  if (!isValidSchemaId(cs.schema, limits.maxNameBytes)) fail('invalid_value', '$.schema', 'not a schema id ([a-z0-9._-])');
  const schemaV = checkInteger(cs.schema_v, 0, MAX_SCHEMA_V, '$.schema_v');
  if (!Array.isArray(cs.ops)) fail('wrong_type', '$.ops', 'expected an array');
  if (cs.ops.length === 0) fail('invalid_value', '$.ops', 'a change set has at least one op');
  if (cs.ops.length > limits.maxOps) fail('too_large', '$.ops', `more than ${limits.maxOps} ops`);

  let out = `{"v":1,"device":"${hex32(cs.device, '$.device')}","seq":${seq},"prev":`;
  out += cs.seq === 1 ? 'null' : `"${hex32(cs.prev, '$.prev')}"`;
  out += `,"hlc":[${wall},${counter}],"author":${quote(cs.author)},"schema":${quote(cs.schema)},"schema_v":${schemaV},"ops":[`;
  cs.ops.forEach((op, i) => {
    const where = `$.ops[${i}]`;
    if (!isValidTableName(op.t, limits.maxNameBytes)) fail('invalid_value', `${where}.t`, 'not a table name');
    if (!isValidRowId(op.id, limits.maxNameBytes)) fail('invalid_value', `${where}.id`, 'not a row id');
    if (op.k !== 'put' && op.k !== 'del') fail('invalid_value', `${where}.k`, 'expected put or del');
    if (op.k === 'del' && op.f !== undefined && op.f !== null && Object.keys(op.f).length > 0) {
      fail('unknown_field', `${where}.f`, 'a delete carries no fields');
    }
    if (i) out += ',';
    out += `{"t":"${op.t}","id":"${op.id}","k":"${op.k}"`;
    if (op.k === 'put') {
      const fields = fieldEntries(op.f ?? {}, 1, `${where}.f`);
      if (fields.length > limits.maxFieldsPerOp) fail('too_large', `${where}.f`, 'too many fields');
      out += ',"f":{' + fields.map(([id, v]) => `"${id}":${encodeValue(v, limits, `${where}.f.${id}`)}`).join(',') + '}';
    }
    const bases = op.b === undefined || op.b === null ? [] : fieldEntries(op.b, 0, `${where}.b`);
    if (bases.length > limits.maxFieldsPerOp + 1) fail('too_large', `${where}.b`, 'too many bases');
    if (bases.length) {
      out += ',"b":{' + bases.map(([id, w]) => {
        if (typeof w !== 'string' || !HEX16.test(w)) fail('invalid_value', `${where}.b.${id}`, 'a writer id is 16 hex digits');
        return `"${id}":"${w.toLowerCase()}"`;
      }).join(',') + '}';
    }
    out += '}';
  });
  out += ']}';
  const bytes = utf8(out);
  if (bytes.length > limits.maxBytes) {
    fail('too_large', '$', `${bytes.length} bytes encoded, limit ${limits.maxBytes}: split the transaction`);
  }
  return bytes;
}

/** null when `cs` would encode, else the first refusal as { code, where, message }. */
export function validateChangeSet(cs, limits = LIMITS) {
  try {
    encodeChangeSet(cs, limits);
    return null;
  } catch (e) {
    if (e instanceof ChangeSetError) return { code: e.code, where: e.where, message: e.message };
    throw e;
  }
}

/** The change set's id: BLAKE2b-256 of exactly its bytes, lowercase hex. */
export function changeSetId(u8) {
  return toHex(blake2b256(u8));
}

/** The writer id of a change set id (its first 8 bytes): what an edit's base `b` names. */
export function writerIdOf(idHex) {
  return idHex.slice(0, 16).toLowerCase();
}

// ---- decoding ----------------------------------------------------------------------------

const TOP = ['v', 'device', 'seq', 'prev', 'hlc', 'author', 'schema', 'schema_v', 'ops'];
const OP_MEMBERS = ['t', 'id', 'k', 'f', 'b'];
const LOWER_HEX64 = /^[0-9a-f]{64}$/;
const LOWER_HEX16 = /^[0-9a-f]{16}$/;

function readInt(node, min, max, where) {
  if (!(node instanceof JsonNumber)) fail('wrong_type', where, 'expected an integer');
  if (!node.isInteger) fail('wrong_type', where, 'expected an integer, not a fraction or exponent');
  const b = node.toBigInt();
  if (b < BigInt(min) || b > BigInt(max)) fail('out_of_range', where, `must be ${min}..${max}`);
  return Number(b);
}

function readString(node, where) {
  if (typeof node !== 'string') fail('wrong_type', where, 'expected a string');
  return node;
}

function readHex64(node, where) {
  if (!LOWER_HEX64.test(readString(node, where))) fail('invalid_value', where, 'expected 64 lowercase hex digits');
  return node;
}

function isObject(node) {
  return node !== null && typeof node === 'object' && !Array.isArray(node) && !(node instanceof JsonNumber);
}

function readValue(node, limits, where) {
  if (node === null) return null;
  if (!Array.isArray(node)) fail('wrong_type', where, 'a value is null or [tag, v]');
  if (node.length !== 2) fail('invalid_value', where, 'a value is [tag, v]');
  const [tag, v] = node;
  if (typeof tag !== 'string') fail('wrong_type', where, 'the tag is a string');
  switch (tag) {
    case 'i': {
      if (!(v instanceof JsonNumber) || !v.isInteger) fail('wrong_type', where, 'expected an integer');
      const b = v.toBigInt();
      if (b < MIN_I64 || b > MAX_I64) fail('out_of_range', where, 'integers are 64-bit');
      return ['i', b >= BigInt(-MAX_SAFE) && b <= BigInt(MAX_SAFE) ? Number(b) : b];
    }
    case 'r':
      if (!(v instanceof JsonNumber)) fail('wrong_type', where, 'expected a number');
      return ['r', v.toNumber()];
    case 't':
      checkText(readString(v, where), limits.maxTextBytes, where);
      return ['t', v];
    case 'b':
      if (typeof v !== 'boolean') fail('wrong_type', where, 'expected true or false');
      return ['b', v];
    case 'd':
      if (!isValidDate(readString(v, where))) fail('invalid_value', where, 'not a real date YYYY-MM-DD');
      return ['d', v];
    case 'a':
      return ['a', readHex64(v, where)];
    default:
      return fail('invalid_value', where, `unknown tag ${JSON.stringify(tag)}`);
  }
}

function readOp(node, limits, where) {
  if (!isObject(node)) fail('wrong_type', where, 'an op is an object');
  for (const k of Object.keys(node)) if (!OP_MEMBERS.includes(k)) fail('unknown_field', `${where}.${k}`, 'unknown member');
  for (const k of ['t', 'id', 'k']) if (!(k in node)) fail('missing_field', where, `missing "${k}"`);
  const op = { t: readString(node.t, `${where}.t`), id: readString(node.id, `${where}.id`), k: readString(node.k, `${where}.k`) };
  if (!isValidTableName(op.t, limits.maxNameBytes)) fail('invalid_value', `${where}.t`, 'not a table name');
  if (!isValidRowId(op.id, limits.maxNameBytes)) fail('invalid_value', `${where}.id`, 'not a row id');
  if (op.k !== 'put' && op.k !== 'del') fail('invalid_value', `${where}.k`, 'expected put or del');
  if (op.k === 'put' && !('f' in node)) fail('missing_field', where, 'missing "f"');
  if (op.k === 'del' && 'f' in node) fail('unknown_field', `${where}.f`, 'a delete carries no fields');
  if (op.k === 'put') {
    if (!isObject(node.f)) fail('wrong_type', `${where}.f`, 'expected an object');
    const keys = Object.keys(node.f);
    if (keys.length > limits.maxFieldsPerOp) fail('too_large', `${where}.f`, 'too many fields');
    op.f = {};
    for (const key of keys) {
      if (parseFieldId(key, 1) === null) fail('invalid_value', `${where}.f.${key}`, 'not a field id');
      op.f[key] = readValue(node.f[key], limits, `${where}.f.${key}`);
    }
  }
  if ('b' in node) {
    if (!isObject(node.b)) fail('wrong_type', `${where}.b`, 'expected an object');
    const keys = Object.keys(node.b);
    if (keys.length > limits.maxFieldsPerOp + 1) fail('too_large', `${where}.b`, 'too many bases');
    op.b = {};
    for (const key of keys) {
      if (parseFieldId(key, 0) === null) fail('invalid_value', `${where}.b.${key}`, 'not a field id');
      if (!LOWER_HEX16.test(readString(node.b[key], `${where}.b.${key}`))) {
        fail('invalid_value', `${where}.b.${key}`, 'a writer id is 16 lowercase hex digits');
      }
      op.b[key] = node.b[key];
    }
  }
  return op;
}

/**
 * Parses and checks change-set bytes as a receiver does (§7), without repairing anything.
 * Returns the model (as encodeChangeSet takes it); throws ChangeSetError with the decoder's code.
 */
export function decodeChangeSet(u8, limits = LIMITS) {
  limits = { ...LIMITS, ...limits };
  if (u8.length > limits.maxBytes) fail('too_large', '$', `more than ${limits.maxBytes} bytes`);
  let text, root;
  try {
    text = fromUtf8(u8);
  } catch {
    fail('invalid_utf8', '$', 'not UTF-8');
  }
  try {
    root = parseJson(text, { maxDepth: limits.maxDepth, tokens: true });
  } catch (e) {
    if (e instanceof JsonError) fail(e.code, '$', e.message);
    throw e;
  }
  if (!isObject(root)) fail('wrong_type', '$', 'expected an object');
  if (!('v' in root)) fail('missing_field', '$', 'missing "v"');
  if (readInt(root.v, 0, MAX_SAFE, '$.v') !== 1) fail('unsupported_version', '$.v', 'this reader knows version 1');
  for (const k of Object.keys(root)) if (!TOP.includes(k)) fail('unknown_field', `$.${k}`, 'unknown member');
  for (const k of TOP) if (!(k in root)) fail('missing_field', '$', `missing "${k}"`);

  const cs = {};
  cs.device = readHex64(root.device, '$.device');
  cs.seq = readInt(root.seq, 1, MAX_SAFE, '$.seq');
  cs.prev = root.prev === null ? null : readHex64(root.prev, '$.prev');
  if (!Array.isArray(root.hlc)) fail('wrong_type', '$.hlc', 'expected an array');
  if (root.hlc.length !== 2) fail('invalid_value', '$.hlc', 'expected [wall_ms, counter]');
  cs.hlc = [readInt(root.hlc[0], 0, MAX_WALL_MS, '$.hlc[0]'), readInt(root.hlc[1], 0, MAX_COUNTER, '$.hlc[1]')];
  cs.author = readString(root.author, '$.author');
  if (cs.author === '') fail('invalid_value', '$.author', 'must not be empty');
  checkText(cs.author, limits.maxAuthorBytes, '$.author');
  cs.schema = readString(root.schema, '$.schema');
  if (!isValidSchemaId(cs.schema, limits.maxNameBytes)) fail('invalid_value', '$.schema', 'not a schema id');
  cs.schema_v = readInt(root.schema_v, 0, MAX_SCHEMA_V, '$.schema_v');
  if (!Array.isArray(root.ops)) fail('wrong_type', '$.ops', 'expected an array');
  if (root.ops.length === 0) fail('invalid_value', '$.ops', 'a change set has at least one op');
  if (root.ops.length > limits.maxOps) fail('too_large', '$.ops', `more than ${limits.maxOps} ops`);
  cs.ops = root.ops.map((op, i) => readOp(op, limits, `$.ops[${i}]`));
  if ((cs.seq === 1) !== (cs.prev === null)) fail('invalid_value', '$.prev', 'must be null exactly when seq is 1');
  return cs;
}
