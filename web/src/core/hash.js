// BLAKE2b-256 (unkeyed, 32-byte digest): libsodium's crypto_generichash as the engine uses it for
// change-set ids, attachment names and the server's log chain (docs/changeset-format.md §8).
// @noble/hashes because WebCrypto has no BLAKE2.
import { blake2b } from '@noble/hashes/blake2.js';

export function blake2b256(u8) {
  return blake2b(u8, { dkLen: 32 });
}
