// The device's Ed25519 key (docs/changeset-format.md §8, protocol.md §3).
//
// Preferred: WebCrypto Ed25519 with a NON-extractable private key. The CryptoKey object is kept
// in IndexedDB as is (structured clone); script on the page can ask it to sign but can never
// read the secret out, so a copied database or an XSS cannot clone the device.
//
// Fallback, for browsers without WebCrypto Ed25519: @noble/curves, with the 32-byte secret kept
// only wrapped by AES-GCM under a key derived by PBKDF2-SHA256 from a passphrase the user types
// at unlock. Both give identical signatures (Ed25519 is deterministic), so the server cannot
// tell them apart.
//
// record shapes (plain, structured-cloneable):
//   { v: 1, kind: 'webcrypto', publicKeyHex, privateKey: CryptoKey }
//   { v: 1, kind: 'wrapped', publicKeyHex, kdf: 'PBKDF2-SHA256', iterations, salt, iv, wrapped }
//     (salt, iv, wrapped: hex; wrapped = AES-GCM ciphertext‖tag of the secret, with the
//      public key as additional data so a wrapped secret cannot be swapped under another key)
import { ed25519 } from '@noble/curves/ed25519.js';
import { concat, fromHex, toHex, utf8 } from './bytes.js';

/** PBKDF2 iterations for new wrapped keys (OWASP 2023 for PBKDF2-HMAC-SHA256: 600,000). */
export const PBKDF2_ITERATIONS = 600_000;
const MIN_ITERATIONS = 310_000;

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): how WebCrypto imports a known secret.
const PKCS8_ED25519_PREFIX = fromHex('302e020100300506032b657004220420');

/** A key problem with a code the UI can act on: needs_passphrase, bad_passphrase, no_crypto. */
export class KeyError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'KeyError';
    this.code = code;
  }
}

const subtle = () => globalThis.crypto?.subtle;

let webCryptoProbe;
/** Whether this runtime signs with WebCrypto Ed25519 (probed once: generate, sign). */
export function hasWebCryptoEd25519() {
  webCryptoProbe ??= (async () => {
    try {
      const s = subtle();
      if (!s) return false;
      const k = await s.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
      const sig = await s.sign({ name: 'Ed25519' }, k.privateKey, new Uint8Array(1));
      return sig.byteLength === 64;
    } catch {
      return false;
    }
  })();
  return webCryptoProbe;
}

async function chooseBackend(backend) {
  if (backend === 'webcrypto' || backend === 'noble') return backend;
  return (await hasWebCryptoEd25519()) ? 'webcrypto' : 'noble';
}

function webCryptoSigner(publicKeyHex, privateKey) {
  return {
    publicKeyHex,
    backend: 'webcrypto',
    sign: async (u8) => new Uint8Array(await subtle().sign({ name: 'Ed25519' }, privateKey, u8)),
  };
}

function nobleSigner(secret) {
  const publicKeyHex = toHex(ed25519.getPublicKey(secret));
  return { publicKeyHex, backend: 'noble', sign: async (u8) => ed25519.sign(u8, secret) };
}

async function aesKey(passphrase, salt, iterations) {
  const s = subtle();
  if (!s) throw new KeyError('no_crypto', 'this page has no WebCrypto (it needs HTTPS, or localhost)');
  // NFC, so that the same passphrase typed on two keyboards opens the key.
  const base = await s.importKey('raw', utf8(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return s.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt', 'decrypt',
  ]);
}

const wrapAad = (publicKeyHex) => utf8('tram-device-key-v1:' + publicKeyHex);

async function wrapSecret(secret, passphrase, iterations = PBKDF2_ITERATIONS) {
  const publicKeyHex = toHex(ed25519.getPublicKey(secret));
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await aesKey(passphrase, salt, iterations);
  const wrapped = new Uint8Array(
    await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: wrapAad(publicKeyHex) }, key, secret),
  );
  return { v: 1, kind: 'wrapped', publicKeyHex, kdf: 'PBKDF2-SHA256', iterations, salt: toHex(salt), iv: toHex(iv), wrapped: toHex(wrapped) };
}

/**
 * A new device key. With WebCrypto Ed25519 (options.backend 'auto', the default, or
 * 'webcrypto') no passphrase is needed; otherwise (or with backend 'noble', which tests use to
 * exercise the fallback) options.passphrase is required. Returns { publicKeyHex, record }.
 */
export async function createDeviceKey({ passphrase, backend = 'auto' } = {}) {
  if ((await chooseBackend(backend)) === 'webcrypto') {
    const s = subtle();
    const pair = await s.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const publicKeyHex = toHex(new Uint8Array(await s.exportKey('raw', pair.publicKey)));
    return { publicKeyHex, record: { v: 1, kind: 'webcrypto', publicKeyHex, privateKey: pair.privateKey } };
  }
  if (!passphrase) throw new KeyError('needs_passphrase', 'this browser keeps the key under a passphrase: choose one');
  const secret = crypto.getRandomValues(new Uint8Array(32));
  try {
    const record = await wrapSecret(secret, passphrase);
    return { publicKeyHex: record.publicKeyHex, record };
  } finally {
    secret.fill(0);
  }
}

/** Whether openDeviceKey needs the passphrase for this record. */
export function keyNeedsPassphrase(record) {
  return record?.kind === 'wrapped';
}

/**
 * The key ready to sign: { publicKeyHex, backend, sign(u8) -> Promise<u8(64)> }.
 * A wrapped record needs options.passphrase; a wrong one throws KeyError('bad_passphrase').
 */
export async function openDeviceKey(record, { passphrase } = {}) {
  if (record?.kind === 'webcrypto') return webCryptoSigner(record.publicKeyHex, record.privateKey);
  if (record?.kind !== 'wrapped') throw new KeyError('bad_record', 'not a device key record');
  if (!passphrase) throw new KeyError('needs_passphrase', 'the passphrase is needed to unlock this device');
  if (!(record.iterations >= MIN_ITERATIONS)) throw new KeyError('bad_record', 'too few PBKDF2 iterations');
  let secret;
  try {
    const key = await aesKey(passphrase, fromHex(record.salt), record.iterations);
    secret = new Uint8Array(
      await subtle().decrypt({ name: 'AES-GCM', iv: fromHex(record.iv), additionalData: wrapAad(record.publicKeyHex) }, key, fromHex(record.wrapped)),
    );
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError('bad_passphrase', 'wrong passphrase');
  }
  const signer = nobleSigner(secret);
  if (signer.publicKeyHex !== record.publicKeyHex) throw new KeyError('bad_record', 'the unwrapped secret is not this key');
  return signer;
}

/**
 * Ed25519 verification (RFC 8032, strict encodings like libsodium: no ZIP-215 leniency).
 * false for a signature that does not verify and for malformed hex.
 */
export async function verifySignature(publicKeyHex, messageU8, signatureHex) {
  try {
    const sig = signatureHex instanceof Uint8Array ? signatureHex : fromHex(signatureHex);
    const pub = fromHex(publicKeyHex);
    if (sig.length !== 64 || pub.length !== 32) return false;
    return ed25519.verify(sig, messageU8, pub, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * FOR TESTS ONLY: a signer from a known 32-byte secret seed (hex or bytes), e.g. the RFC 8032
 * TEST 1 key of the golden files. A real device never holds a known secret. backend: 'noble'
 * (default) or 'webcrypto' (the seed imported as PKCS#8, non-extractable).
 */
export async function deviceKeyFromSecretForTests(secret, { backend = 'noble' } = {}) {
  const seed = typeof secret === 'string' ? fromHex(secret) : secret;
  if (seed.length !== 32) throw new KeyError('bad_record', 'an Ed25519 secret seed is 32 bytes');
  if (backend === 'noble') return nobleSigner(seed);
  const s = subtle();
  const privateKey = await s.importKey('pkcs8', concat(PKCS8_ED25519_PREFIX, seed), { name: 'Ed25519' }, false, ['sign']);
  return webCryptoSigner(toHex(ed25519.getPublicKey(seed)), privateKey);
}

/** FOR TESTS ONLY: a wrapped record of a known secret (the fallback's format, fewer rounds allowed). */
export async function wrappedRecordForTests(secret, passphrase, iterations = MIN_ITERATIONS) {
  return wrapSecret(typeof secret === 'string' ? fromHex(secret) : secret, passphrase, iterations);
}
