// The small rules values and names follow (docs/changeset-format.md §3–§6), shared by the
// encoder, the decoder and the schema checks, each written to give exactly the engine's answer.

/**
 * A real as the engine writes it: C++ std::to_chars(double) without a format, i.e. the fewest
 * characters that read back to the same double, in fixed or scientific notation, whichever is
 * shorter, fixed on a tie (48.5, 52, 0.001, 1e-04, 1e+05, 1e+20, 1e-07; -0 is 0). JavaScript's
 * Number#toString has the same shortest digits but switches notation at other points
 * (100000000000000000000 for 1e20, 0.0001, 1e-7, 100000), so only its digits are used.
 */
export function formatReal(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new RangeError('formatReal: not a finite number');
  if (x === 0) return '0'; // -0 too: one spelling for zero (changeset-format.md §5.5)
  const sign = x < 0 ? '-' : '';
  const { digits, exp } = shortestDigits(Math.abs(x));
  const k = digits.length;
  const sci = digits[0] + (k > 1 ? '.' + digits.slice(1) : '') + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  const point = exp + 1; // digits before the decimal point
  let fixed;
  // An integral value in fixed notation is written with its exact digits: among spellings of
  // the same length to_chars picks the one closest to the double, so 2^57-ish values end in
  // their true digits (…528), not the shortest digits padded with zeros (…530).
  if (point >= k) fixed = BigInt(Math.abs(x)).toString();
  else if (point > 0) fixed = digits.slice(0, point) + '.' + digits.slice(point);
  else fixed = '0.' + '0'.repeat(-point) + digits;
  const out = fixed.length <= sci.length ? fixed : sci;
  // An integral real beyond 64-bit integers in fixed notation is a JSON integer the server's
  // reader refuses: scientific notation instead, as engine/src/json.cpp writes it.
  if ((x >= 2 ** 64 || x < -(2 ** 63)) && !/[.e]/.test(out)) return sign + sci;
  return sign + out;
}

// The shortest round-trip digits of a positive finite double (no leading or trailing zeros)
// and the decimal exponent of the first one: x = d.ddd × 10^exp. Read from Number#toString,
// which the specification requires to pick the shortest digits closest to x, as to_chars does.
function shortestDigits(a) {
  const s = String(a);
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const exp10 = e < 0 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const fracPart = dot < 0 ? '' : mantissa.slice(dot + 1);
  let all = intPart + fracPart;
  let exp = exp10 + intPart.length - 1;
  const lead = all.search(/[1-9]/);
  all = all.slice(lead);
  exp -= lead;
  return { digits: all.replace(/0+$/, ''), exp };
}

/** A "YYYY-MM-DD" date of the proleptic Gregorian calendar, years 0001..9999 (Date::parse). */
export function isValidDate(s) {
  if (typeof s !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s)) return false;
  const y = Number(s.slice(0, 4)), m = Number(s.slice(5, 7)), d = Number(s.slice(8, 10));
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= days;
}

/** Well-formed UTF-16 (no lone surrogates), i.e. encodable as UTF-8 without replacement. */
export function isWellFormed(s) {
  if (typeof s.isWellFormed === 'function') return s.isWellFormed();
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** Whether `s` is in Unicode NFC (the engine's is_nfc; ICU in both Node and Chromium). */
export function isNfc(s) {
  return s.normalize('NFC') === s;
}

/** Bytes of `s` in UTF-8 (limits are in bytes, §4). */
export function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Unicode code points (the schema's max_length counts these, not bytes). */
export function codePoints(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** [a-z][a-z0-9_]*, 1..64 bytes. */
export function isValidTableName(s, max = 64) {
  return typeof s === 'string' && s.length >= 1 && s.length <= max && /^[a-z][a-z0-9_]*$/.test(s);
}

/** [A-Za-z0-9._:-]+, 1..64 bytes: UUIDv7 strings and official unit codes. */
export function isValidRowId(s, max = 64) {
  return typeof s === 'string' && s.length >= 1 && s.length <= max && /^[A-Za-z0-9._:-]+$/.test(s);
}

/** [a-z0-9._-]+, 1..64 bytes. */
export function isValidSchemaId(s, max = 64) {
  return typeof s === 'string' && s.length >= 1 && s.length <= max && /^[a-z0-9._-]+$/.test(s);
}

/** Canonical decimal field id: "0" or [1-9][0-9]*, at most 2^31−1; `min` 1 for `f`, 0 for `b`. */
export function parseFieldId(key, min) {
  if (typeof key !== 'string' || key.length > 10 || !/^(0|[1-9][0-9]*)$/.test(key)) return null;
  const n = Number(key);
  return n >= min && n <= 2147483647 ? n : null;
}

export const MIN_I64 = -(1n << 63n);
export const MAX_I64 = (1n << 63n) - 1n;
