// The golden change sets checked by code that is not Tram's (issue 17): the ids by coreutils'
// `b2sum -l 256`, the signatures and the device key by Node's own Ed25519 (OpenSSL), and the
// example in docs/changeset-format.md §12 against the files byte for byte. The C++ and JS
// encoders are pinned to these files; this pins the files to the standards.
//   node tests/golden/independent.mjs        (exit 0 when every check holds)
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

// DER prefixes of an Ed25519 SubjectPublicKeyInfo and PKCS#8 private key (RFC 8410).
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const publicKey = (raw) => createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' });

for (const name of ['changeset-v1-basic', 'changeset-v1-chained']) {
  const bytes = readFileSync(join(here, `${name}.json`));
  const id = readFileSync(join(here, `${name}.id`), 'utf8').trim();
  const sig = Buffer.from(readFileSync(join(here, `${name}.sig`), 'utf8').trim(), 'hex');
  const b2 = execFileSync('b2sum', ['-l', '256', join(here, `${name}.json`)], { encoding: 'utf8' }).split(' ')[0];
  check(b2 === id, `${name}: id = b2sum -l 256 of the bytes (${b2.slice(0, 16)}…)`);
  const device = Buffer.from(JSON.parse(bytes.toString('utf8')).device, 'hex');
  check(verify(null, bytes, publicKey(device), sig), `${name}: Ed25519 signature verifies with its device key`);
  const tampered = Buffer.from(bytes);
  tampered[tampered.length - 2] ^= 1;
  check(!verify(null, tampered, publicKey(device), sig), `${name}: one flipped bit no longer verifies`);
}

// RFC 8032 §7.1 TEST 1: the golden device's secret seed gives its public key.
const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const derived = createPublicKey(createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: 'der', type: 'pkcs8' }))
  .export({ format: 'der', type: 'spki' }).subarray(SPKI.length).toString('hex');
const basic = readFileSync(join(here, 'changeset-v1-basic.json'));
check(derived === JSON.parse(basic.toString('utf8')).device, 'RFC 8032 TEST 1 seed gives the golden device key');

// docs/changeset-format.md §12: the bytes, the id and the signature printed there.
const doc = readFileSync(join(root, 'docs', 'changeset-format.md'), 'utf8');
const example = doc.slice(doc.indexOf('## 12. Example'));
const jsonLine = example.split('\n').find((l) => l.startsWith('{"v":1'));
check(jsonLine !== undefined && Buffer.from(jsonLine, 'utf8').equals(basic), 'the docs example is the golden file, byte for byte');
const cell = (label) => (example.match(new RegExp('\\| ' + label + '[^|]*\\| `([0-9a-f]+)`')) || [])[1];
check(cell('id') === readFileSync(join(here, 'changeset-v1-basic.id'), 'utf8').trim(), 'the docs example id is the golden id');
check(cell('signature') === readFileSync(join(here, 'changeset-v1-basic.sig'), 'utf8').trim(), 'the docs example signature is the golden signature');

console.log(failures === 0 ? 'golden files: every independent check holds' : `golden files: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
