// Device keys: WebCrypto and @noble/curves sign identically (Ed25519 is deterministic), the
// WebCrypto key is not extractable, the fallback's secret opens only with its passphrase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, utf8 } from '../../src/core/bytes.js';
import {
  createDeviceKey, deviceKeyFromSecretForTests, hasWebCryptoEd25519, keyNeedsPassphrase, KeyError, openDeviceKey,
  verifySignature, wrappedRecordForTests,
} from '../../src/core/keys.js';
import { GOLDEN_PUBLIC, GOLDEN_SECRET } from './golden.mjs';

// RFC 8032 §7.1 TEST 1 (empty message) and TEST 2 (one byte 0x72).
const TEST1_SIG = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const TEST2 = {
  secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
};

test('this Node has WebCrypto Ed25519 (the preferred backend)', async () => {
  assert.equal(await hasWebCryptoEd25519(), true);
});

test('WebCrypto and noble give byte-identical signatures from the same secret', async () => {
  const a = await deviceKeyFromSecretForTests(GOLDEN_SECRET, { backend: 'webcrypto' });
  const b = await deviceKeyFromSecretForTests(GOLDEN_SECRET, { backend: 'noble' });
  assert.equal(a.backend, 'webcrypto');
  assert.equal(b.backend, 'noble');
  assert.equal(a.publicKeyHex, GOLDEN_PUBLIC);
  assert.equal(b.publicKeyHex, GOLDEN_PUBLIC);
  assert.equal(toHex(await a.sign(new Uint8Array(0))), TEST1_SIG);
  assert.equal(toHex(await b.sign(new Uint8Array(0))), TEST1_SIG);
  for (const m of ['tram-session-v1:' + 'ab'.repeat(32), 'Sơn La', 'x'.repeat(5000)]) {
    assert.equal(toHex(await a.sign(utf8(m))), toHex(await b.sign(utf8(m))), m.slice(0, 20));
  }
  const t2 = await deviceKeyFromSecretForTests(TEST2.secret, { backend: 'webcrypto' });
  assert.equal(t2.publicKeyHex, TEST2.public);
  assert.equal(toHex(await t2.sign(Uint8Array.of(0x72))), TEST2.sig);
});

test('verifySignature accepts exactly the signed bytes with the signing key', async () => {
  assert.equal(await verifySignature(GOLDEN_PUBLIC, new Uint8Array(0), TEST1_SIG), true);
  assert.equal(await verifySignature(GOLDEN_PUBLIC, Uint8Array.of(0), TEST1_SIG), false); // other bytes
  assert.equal(await verifySignature(TEST2.public, new Uint8Array(0), TEST1_SIG), false); // other key
  const flipped = TEST1_SIG.slice(0, 10) + (TEST1_SIG[10] === '0' ? '1' : '0') + TEST1_SIG.slice(11);
  assert.equal(await verifySignature(GOLDEN_PUBLIC, new Uint8Array(0), flipped), false);
  assert.equal(await verifySignature(GOLDEN_PUBLIC, new Uint8Array(0), 'zz'), false); // not hex
  assert.equal(await verifySignature('00', new Uint8Array(0), TEST1_SIG), false);
});

test('createDeviceKey with WebCrypto: a non-extractable key, a cloneable record, no passphrase', async () => {
  const { publicKeyHex, record } = await createDeviceKey();
  assert.match(publicKeyHex, /^[0-9a-f]{64}$/);
  assert.equal(record.kind, 'webcrypto');
  assert.equal(record.privateKey.extractable, false);
  assert.equal(keyNeedsPassphrase(record), false);
  await assert.rejects(crypto.subtle.exportKey('pkcs8', record.privateKey));
  const stored = structuredClone(record); // what IndexedDB does with it
  const key = await openDeviceKey(stored);
  assert.equal(key.publicKeyHex, publicKeyHex);
  const msg = utf8('tram-session-v1:' + 'cd'.repeat(32));
  assert.ok(await verifySignature(publicKeyHex, msg, toHex(await key.sign(msg))));
  // Two devices never share a key.
  assert.notEqual((await createDeviceKey()).publicKeyHex, publicKeyHex);
});

test('fallback: the secret is wrapped under the passphrase and opens only with it', async () => {
  await assert.rejects(createDeviceKey({ backend: 'noble' }), (e) => e instanceof KeyError && e.code === 'needs_passphrase');
  const { publicKeyHex, record } = await createDeviceKey({ backend: 'noble', passphrase: 'Mường La 2026' });
  assert.equal(record.kind, 'wrapped');
  assert.ok(record.iterations >= 310000);
  assert.equal(keyNeedsPassphrase(record), true);
  assert.ok(!JSON.stringify(record).includes(GOLDEN_SECRET));
  const stored = structuredClone(record);
  await assert.rejects(openDeviceKey(stored), (e) => e.code === 'needs_passphrase');
  await assert.rejects(openDeviceKey(stored, { passphrase: 'Muong La 2026' }), (e) => e.code === 'bad_passphrase');
  // NFD typing of the same passphrase opens it (normalized to NFC before PBKDF2).
  const key = await openDeviceKey(stored, { passphrase: 'Mường La 2026'.normalize('NFD') });
  assert.equal(key.publicKeyHex, publicKeyHex);
  assert.equal(key.backend, 'noble');
  const msg = utf8('hello');
  assert.ok(await verifySignature(publicKeyHex, msg, toHex(await key.sign(msg))));
});

test('a wrapped record of a known secret signs like WebCrypto; tampering is detected', async () => {
  const record = await wrappedRecordForTests(GOLDEN_SECRET, 'pw');
  assert.equal(record.publicKeyHex, GOLDEN_PUBLIC);
  const key = await openDeviceKey(record, { passphrase: 'pw' });
  assert.equal(toHex(await key.sign(new Uint8Array(0))), TEST1_SIG);
  // The public key is bound as AES-GCM additional data: a record claiming another key fails.
  await assert.rejects(openDeviceKey({ ...record, publicKeyHex: TEST2.public }, { passphrase: 'pw' }), (e) => e.code === 'bad_passphrase');
  const w = record.wrapped;
  const bent = { ...record, wrapped: (w[0] === 'a' ? 'b' : 'a') + w.slice(1) };
  await assert.rejects(openDeviceKey(bent, { passphrase: 'pw' }), (e) => e.code === 'bad_passphrase');
  await assert.rejects(openDeviceKey({ ...record, iterations: 1000 }, { passphrase: 'pw' }), (e) => e.code === 'bad_record');
});
