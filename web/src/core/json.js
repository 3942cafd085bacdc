// A strict JSON reader for what JSON.parse cannot do here:
// - integers beyond 2^53 (pull ranks are signed 64-bit, docs/protocol.md §1) are kept exact,
//   as BigInt, instead of being rounded;
// - a duplicate member name is an error, not "last one wins" (changeset-format.md §7);
// - nesting depth is bounded (the change-set format allows 5);
// - optionally each number is returned as its token, so that "1.0" and "1" can be told apart
//   (an integer member written with a fraction is wrong_type, not 1).
// Internal to core/ (changeset.js and wire.js use it).

export class JsonError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'JsonError';
    this.code = code; // malformed_json | too_deep | duplicate_key | out_of_range
  }
}

/** A number exactly as written, for readers that must know its spelling. */
export class JsonNumber {
  constructor(raw) {
    this.raw = raw;
  }
  get isInteger() {
    return !/[.eE]/.test(this.raw);
  }
  /** The integer as BigInt; only for integer tokens. */
  toBigInt() {
    return BigInt(this.raw);
  }
  toNumber() {
    return Number(this.raw);
  }
}

const MAX_U64 = (1n << 64n) - 1n;
const MIN_I64 = -(1n << 63n);

/**
 * Parses `text`. Objects come back with a null prototype (a member named "__proto__" is data).
 * options.maxDepth: deepest nesting allowed (root container = 1), else too_deep.
 * options.tokens: numbers as JsonNumber; otherwise integers are Numbers when safe, else BigInt,
 * and other numbers are Numbers.
 */
export function parseJson(text, { maxDepth = 1000, tokens = false } = {}) {
  let i = 0;
  const n = text.length;
  const fail = (code, what) => {
    throw new JsonError(code, `${what} at offset ${i}`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };

  const SLOW = /[\\\x00-\x1f]/; // a backslash or a control character: take the careful path
  function string() {
    // text[i] is the opening quote. Fast path: most strings have no escape.
    const end = text.indexOf('"', i + 1);
    if (end > 0) {
      const s = text.slice(i + 1, end);
      if (!SLOW.test(s)) {
        i = end + 1;
        return s;
      }
    }
    i++;
    let out = '';
    let run = i;
    for (;;) {
      if (i >= n) fail('malformed_json', 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('malformed_json', 'control character in a string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(run, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const u = hex4();
          if (u >= 0xd800 && u <= 0xdbff) {
            // A high surrogate must be followed by an escaped low one (simdjson: else malformed).
            if (text[i] !== '\\' || text[i + 1] !== 'u') fail('malformed_json', 'lone surrogate escape');
            i += 2;
            const lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail('malformed_json', 'lone surrogate escape');
            out += String.fromCharCode(u, lo);
          } else if (u >= 0xdc00 && u <= 0xdfff) {
            fail('malformed_json', 'lone surrogate escape');
          } else {
            out += String.fromCharCode(u);
          }
          break;
        }
        default:
          fail('malformed_json', 'bad escape');
      }
      run = i;
    }
  }

  function hex4() {
    const h = text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('malformed_json', 'bad \\u escape');
    i += 4;
    return parseInt(h, 16);
  }

  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  function number() {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail('malformed_json', 'bad number');
    const raw = m[0];
    i += raw.length;
    const isInt = !/[.eE]/.test(raw);
    if (isInt) {
      // The engine reads 64-bit integers; anything wider is out of range wherever it is.
      if (raw.length > 18) {
        const b = BigInt(raw);
        if (b > MAX_U64 || b < MIN_I64) fail('out_of_range', 'integer beyond 64 bits');
      }
    } else if (!Number.isFinite(Number(raw))) {
      fail('out_of_range', 'number beyond the double range');
    }
    if (tokens) return new JsonNumber(raw);
    if (!isInt) return Number(raw);
    const v = Number(raw);
    return Number.isSafeInteger(v) ? v : BigInt(raw);
  }

  function literal(word, v) {
    if (text.startsWith(word, i)) {
      i += word.length;
      return v;
    }
    return fail('malformed_json', 'unexpected token');
  }

  function value(depth) {
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x7b) { // {
      if (depth + 1 > maxDepth) fail('too_deep', 'nesting too deep');
      i++;
      const obj = Object.create(null);
      ws();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== 0x22) fail('malformed_json', 'expected a member name');
        const k = string();
        ws();
        if (text.charCodeAt(i) !== 0x3a) fail('malformed_json', "expected ':'");
        i++;
        const v = value(depth + 1);
        if (k in obj) fail('duplicate_key', `member "${k}" twice`); // null prototype: own members only
        obj[k] = v;
        ws();
        const d = text.charCodeAt(i++);
        if (d === 0x2c) continue; // ,
        if (d === 0x7d) return obj; // }
        i--;
        fail('malformed_json', "expected ',' or '}'");
      }
    }
    if (c === 0x5b) { // [
      if (depth + 1 > maxDepth) fail('too_deep', 'nesting too deep');
      i++;
      const arr = [];
      ws();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        const d = text.charCodeAt(i++);
        if (d === 0x2c) continue; // ,
        if (d === 0x5d) return arr; // ]
        i--;
        fail('malformed_json', "expected ',' or ']'");
      }
    }
    if (c === 0x22) return string();
    if (c === 0x74) return literal('true', true);
    if (c === 0x66) return literal('false', false);
    if (c === 0x6e) return literal('null', null);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number();
    return fail('malformed_json', i >= n ? 'unexpected end' : 'unexpected character');
  }

  const root = value(0);
  ws();
  if (i !== n) fail('malformed_json', 'content after the JSON value');
  return root;
}
