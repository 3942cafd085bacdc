// bytes.js (hex, base64, UTF-8), hash.js (BLAKE2b-256) and hlc.js (the hybrid logical clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concat, equalBytes, fromBase64, fromHex, fromUtf8, toBase64, toHex, utf8 } from '../../src/core/bytes.js';
import { blake2b256 } from '../../src/core/hash.js';
import { Hlc, MAX_COUNTER, packHlc, unpackRank } from '../../src/core/hlc.js';

test('hex: lowercase out, either case in, strict', () => {
  assert.equal(toHex(Uint8Array.of(0, 1, 0xab, 0xff)), '0001abff');
  assert.deepEqual(fromHex('0001ABff'), Uint8Array.of(0, 1, 0xab, 0xff));
  for (const bad of ['0', 'zz', '0x00', ' 00']) assert.throws(() => fromHex(bad), TypeError, bad);
});

test('base64: standard alphabet with padding, as Node writes it; strict reading', () => {
  for (let n = 0; n < 70; n++) {
    const u8 = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n * 11) & 255);
    const b64 = toBase64(u8);
    assert.equal(b64, Buffer.from(u8).toString('base64'));
    assert.deepEqual(fromBase64(b64), u8);
  }
  for (const bad of ['abc', 'ab=c', 'a b=', 'ab-_', '====', 'YQ==YQ==']) assert.throws(() => fromBase64(bad), TypeError, bad);
});

test('UTF-8 and concat', () => {
  assert.deepEqual(utf8('Đ'), Uint8Array.of(0xc4, 0x90));
  assert.equal(fromUtf8(utf8('Sơn La')), 'Sơn La');
  assert.throws(() => fromUtf8(Uint8Array.of(0xc4)));
  assert.deepEqual(concat(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)), Uint8Array.of(1, 2, 3));
  assert.ok(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  assert.ok(!equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
});

test('BLAKE2b-256: libsodium crypto_generichash with a 32-byte output', () => {
  // Checked independently with Python's hashlib.blake2b(digest_size=32), the same function.
  assert.equal(toHex(blake2b256(new Uint8Array(0))), '0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8');
  assert.equal(toHex(blake2b256(utf8('abc'))), 'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319');
  // blake2b_256("x") as the C++ prints it (the prev of the extremes test in changeset.test.mjs).
  assert.equal(toHex(blake2b256(utf8('x'))), 'd161d71145abeec5ef15abcf0459cec60a27321e2f0ac0ef7ace5254f5944476');
});

test('HLC: monotonic through a clock that goes backwards or stands still', () => {
  const c = new Hlc();
  assert.deepEqual(c.tick(1000), [1000, 0]);
  assert.deepEqual(c.tick(1000), [1000, 1]);
  assert.deepEqual(c.tick(500), [1000, 2]); // the phone's clock jumped back
  assert.deepEqual(c.tick(2000), [2000, 0]);
  assert.deepEqual(c.tick(-5), [2000, 1]); // before 1970: clamped
  c.observe(5000, 7);
  assert.deepEqual(c.tick(3000), [5000, 8]);
  c.observe(4000, 99); // older: ignored
  assert.deepEqual(c.tick(3000), [5000, 9]);
  const saved = JSON.parse(JSON.stringify(c));
  assert.deepEqual(saved, { wall: 5000, counter: 9 });
  assert.deepEqual(new Hlc(saved).tick(0), [5000, 10]); // restored: never repeats
});

test('HLC: 65,536 events in one millisecond borrow the next one', () => {
  const c = new Hlc({ wall: 10, counter: MAX_COUNTER - 1 });
  assert.deepEqual(c.tick(10), [10, MAX_COUNTER]);
  assert.deepEqual(c.tick(10), [11, 0]);
  assert.deepEqual(c.tick(10), [11, 1]);
});

test('ranks: packed HLC, and a clock judged ahead sorts below every trusted one', () => {
  assert.equal(packHlc([1780473600000, 3]), 1780473600000n * 65536n + 3n);
  assert.deepEqual(unpackRank(116685117849600003n), { wall: 1780473600000, counter: 3, clockAhead: false });
  // The server's rank for a clock_ahead write: INT64_MIN + packed (engine/src/store.cpp).
  const ahead = -(2n ** 63n) + packHlc([1780473600000, 3]);
  assert.deepEqual(unpackRank(ahead), { wall: 1780473600000, counter: 3, clockAhead: true });
});
