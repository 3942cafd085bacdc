// Bytes as Uint8Array: hex, base64 and UTF-8, the forms keys, ids, signatures and change sets
// travel in (docs/protocol.md §1). Strict readers: a malformed input throws instead of being
// repaired, because a repaired id or signature would silently name something else.

const HEX = '0123456789abcdef';

/** Lowercase hex of the bytes (the protocol's and the golden files' form). */
export function toHex(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i++) s += HEX[u8[i] >> 4] + HEX[u8[i] & 15];
  return s;
}

/** Bytes of a hex string (either case, even length). Throws on anything else. */
export function fromHex(s) {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new TypeError('fromHex: not an even number of hex digits');
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Standard base64 (RFC 4648 §4) with `=` padding, no line breaks: the push body's `cs`. */
export function toBase64(u8) {
  let s = '';
  let i = 0;
  for (; i + 2 < u8.length; i += 3) {
    const n = (u8[i] << 16) | (u8[i + 1] << 8) | u8[i + 2];
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (i < u8.length) {
    const n = (u8[i] << 16) | ((i + 1 < u8.length ? u8[i + 1] : 0) << 8);
    s += B64[n >> 18] + B64[(n >> 12) & 63];
    s += i + 1 < u8.length ? B64[(n >> 6) & 63] + '=' : '==';
  }
  return s;
}

/** Bytes of standard padded base64. Throws on other alphabets, whitespace or bad padding. */
export function fromBase64(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0) throw new TypeError('fromBase64: length is not a multiple of 4');
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = s.charCodeAt(i + k);
      const isPad = c === 61 && i + k >= s.length - pad;
      const v = isPad ? 0 : c < 128 ? B64_INDEX[c] : -1;
      if (v < 0) throw new TypeError('fromBase64: not base64');
      n = (n << 6) | v;
    }
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of a string. Lone surrogates would become U+FFFD: callers that sign text check
 *  `isWellFormed` first (changeset.js does). */
export function utf8(s) {
  return encoder.encode(s);
}

/** The string of UTF-8 bytes; throws on malformed UTF-8 (a BOM is kept as U+FEFF, not dropped). */
export function fromUtf8(u8) {
  return strictDecoder.decode(u8);
}

/** One Uint8Array of several. */
export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Byte-wise equality (not constant time: only public data is compared). */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
