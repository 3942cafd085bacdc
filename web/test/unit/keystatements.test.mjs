// Following the server's key statements (protocol.md §4) as the C++ SDK does: on the statements a
// real tram-server wrote (fixtures/server-key-rotated.json: `admin rotate-key`, `admin move`,
// `admin rotate-key`), and on forged, unsigned, reordered and missing ones.
//
//   cd web && node --test test/unit/keystatements.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { followKeyStatements, parseKeyStatement, STATEMENT_PREFIX } from '../../src/core/keystatements.js';
import { deviceKeyFromSecretForTests } from '../../src/core/keys.js';
import { toHex, utf8 } from '../../src/core/bytes.js';

const here = dirname(fileURLToPath(import.meta.url));
const golden = JSON.parse(readFileSync(join(here, 'fixtures/server-key-rotated.json'), 'utf8'));
const answer = golden.response;
const [s1, s2, s3] = answer.statements;
const K0 = golden.pinned;
const K1 = JSON.parse(s1.body).to;
const K2 = answer.key;

async function signer(byte) {
  return deviceKeyFromSecretForTests(new Uint8Array(32).fill(byte), { backend: 'noble' });
}
async function statement(key, { from, to, address = '', at_ms = 1796607700000 }) {
  const body = JSON.stringify({ v: 1, kind: 'tram-key-statement', from, to, address, at_ms });
  return { body, sig: toHex(await key.sign(utf8(STATEMENT_PREFIX + body))) };
}

test('the C++ server\'s statements parse as protocol.md §4 says', () => {
  const p = parseKeyStatement(s1);
  assert.equal(p.from, K0);
  assert.equal(p.to, K1);
  assert.equal(p.address, '');
  assert.ok(Number.isSafeInteger(p.at_ms));
  assert.equal(parseKeyStatement(s2).from, parseKeyStatement(s2).to, 'a move alone keeps the key');
  assert.equal(parseKeyStatement({ body: s1.body.replace('tram-key-statement', 'tram-other'), sig: s1.sig }), null);
  assert.equal(parseKeyStatement({ body: s1.body, sig: 'ab' }), null);
  assert.equal(parseKeyStatement({ body: '{', sig: s1.sig }), null);
});

test('a device that pinned the first key follows the chain of two rotations and a move to the advertised key', async () => {
  const r = await followKeyStatements(K0, answer);
  assert.equal(r.key, K2);
  assert.equal(r.rotated, true);
  assert.deepEqual(r.applied.map((s) => s.from), [K0, K1, K1]);
  assert.equal(r.address, 'https://tram.sonla.gov.vn:8443');
  assert.equal(r.count, 3);
  // In any order the server lists them.
  const shuffled = await followKeyStatements(K0, { ...answer, statements: [s3, s2, s1] });
  assert.equal(shuffled.key, K2);
  // From the middle of the chain, and from the advertised key itself (nothing to do).
  assert.equal((await followKeyStatements(K1, answer)).key, K2);
  const same = await followKeyStatements(K2, answer);
  assert.equal(same.rotated, false);
  assert.deepEqual(same.applied, []);
  // Upper-case hex is the same key.
  assert.equal((await followKeyStatements(K0.toUpperCase(), answer)).key, K2);
});

test('a statement whose bytes were changed after signing is not followed', async () => {
  const evil = await signer(7);
  // The genuine signature over a body that now names another key.
  const forged = { body: s1.body.replace(K1, evil.publicKeyHex), sig: s1.sig };
  await assert.rejects(followKeyStatements(K0, { key: evil.publicKeyHex, statements: [forged] }), { code: 'untrusted_key' });
  // One changed digit of at_ms breaks the signature too: the device stays on K0 and refuses K2.
  const touched = { body: s1.body.replace(/"at_ms":(\d+)/, (_, n) => `"at_ms":${BigInt(n) + 1n}`), sig: s1.sig };
  await assert.rejects(followKeyStatements(K0, { ...answer, statements: [touched, s2, s3] }), { code: 'untrusted_key', advertised: K2, pinned: K0 });
});

test('a statement signed by the new key itself, or by a stranger, is not followed', async () => {
  const evil = await signer(9);
  const selfSigned = await statement(evil, { from: K0, to: evil.publicKeyHex });
  await assert.rejects(followKeyStatements(K0, { key: evil.publicKeyHex, statements: [selfSigned] }), { code: 'untrusted_key' });
  // A chain that starts at a key the device never trusted leads nowhere.
  const other = await signer(10);
  const fromStranger = await statement(other, { from: other.publicKeyHex, to: evil.publicKeyHex });
  await assert.rejects(followKeyStatements(K0, { key: evil.publicKeyHex, statements: [fromStranger] }), { code: 'untrusted_key' });
});

test('a key replaced without a statement, or a missing link of the chain, is refused', async () => {
  await assert.rejects(followKeyStatements(K0, { key: K2, statements: [] }), { code: 'untrusted_key' });
  await assert.rejects(followKeyStatements(K0, { key: K2 }), { code: 'untrusted_key' }, 'a server from before statements');
  await assert.rejects(followKeyStatements(K0, { ...answer, statements: [s1, s2] }), { code: 'untrusted_key' });
  await assert.rejects(followKeyStatements(K0, { ...answer, statements: [s2, s3] }), { code: 'untrusted_key' });
  await assert.rejects(followKeyStatements(K0, { key: 'zz', statements: [] }), { code: 'malformed' });
});

test('a chain this device signs in the test, walked back to an earlier key, ends where the server says', async () => {
  const a = await signer(1);
  const b = await signer(2);
  const ab = await statement(a, { from: a.publicKeyHex, to: b.publicKeyHex, at_ms: 1 });
  const ba = await statement(b, { from: b.publicKeyHex, to: a.publicKeyHex, at_ms: 2 });
  const r = await followKeyStatements(a.publicKeyHex, { key: a.publicKeyHex, statements: [ab, ba] });
  assert.equal(r.key, a.publicKeyHex);
  assert.equal(r.applied.length, 2, 'each statement applies once: no endless loop');
  assert.equal(r.rotated, false);
});
