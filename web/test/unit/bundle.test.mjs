// The web app's store-and-forward bundle (protocol.md §16.1) without a browser: exportBundle over
// an in-memory outbox and attachment store. Checks the exact bytes the SDK's export_bundle writes
// (client-sdk/src/bundle.cpp): version 1 without files, version 2 with `files` after `sig`, in
// hash order, each {"hash","size","data"} with padded base64; which photos travel; that a photo
// altered after export no longer matches the hash the server checks it against (§16.2); and that
// a local copy already damaged is left out rather than making the server refuse the bundle whole.
// The server's side (the import refusing an altered photo) is in test/e2e/bundle.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromBase64, fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { blake2b256 } from '../../src/core/hash.js';
import { deviceKeyFromSecretForTests } from '../../src/core/keys.js';
import { exportBundle } from '../../src/device/bundle.js';

const SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'; // RFC 8032 TEST 1
const NOW = 1_780_000_000_000;

const bytesOf = (s) => new Uint8Array(Buffer.from(s));
const RAW = new Map(); // hash → the photo's bytes, to write the expected base64 independently
const photo = (text, extra = {}) => {
  const b = bytesOf(text);
  RAW.set(toHex(blake2b256(b)), b);
  return { hash: toHex(blake2b256(b)), blob: new Blob([b], { type: 'image/jpeg' }), size: b.length, contentType: 'image/jpeg',
    offset: 0, state: 'waiting', ...extra };
};
const entry = (seq, state) => ({ seq, id: String(seq).repeat(64).slice(0, 64), bytes: bytesOf(`cs-${seq}`), sig: 'ab'.repeat(64), state, active: 1 });

// The Device's surface exportBundle uses: store.getAll, key.sign, principal.device.
async function fakeDevice(outbox, attachments) {
  const key = await deviceKeyFromSecretForTests(SECRET);
  const device = toHex(ed25519.getPublicKey(fromHex(SECRET)));
  const tables = { outbox, attachments };
  return { principal: { device }, key, store: { getAll: async (name) => [...tables[name]] } };
}

test('without photos to send, the bundle is version 1, byte for byte as before', async () => {
  const dev = await fakeDevice([entry(2, 'waiting'), entry(1, 'sent')], [photo('done', { state: 'complete', named: [1] })]);
  const b = await exportBundle(dev, NOW);
  assert.equal(b.files, 0);
  assert.deepEqual(b.seqs, [1, 2]);
  const o = JSON.parse(b.text);
  assert.deepEqual(Object.keys(o), ['v', 'kind', 'device', 'created_ms', 'body', 'sig']);
  assert.equal(o.v, 1);
  assert.equal(b.text, `{"v":1,"kind":"tram-bundle","device":"${dev.principal.device}","created_ms":${NOW},"body":${JSON.stringify(o.body)},"sig":"${o.sig}"}`);
});

test('version 2 carries the photos still to upload, in hash order, as the SDK writes them', async () => {
  const outbox = [entry(1, 'accepted'), entry(2, 'rejected'), entry(3, 'waiting'), entry(4, 'sent')];
  const attachments = [
    photo('ảnh bể nước bản Nà Lốc', { named: [3] }), // named by a pending change set
    photo('ảnh trạm y tế', { named: [1], state: 'uploading', offset: 5 }), // accepted, upload cut half-way
    photo('ảnh cũ', { named: [4] }), // named by a change set sent but not answered
    photo('bị từ chối', { named: [2] }), // only a rejected change set names it: the server would leave it out
    photo('chưa lưu báo cáo', { named: [] }), // taken for a report never saved
    photo('đã gửi', { named: [3], state: 'complete' }), // the server has it
    photo('tải về', { state: 'downloaded', named: [] }), // someone else's, downloaded to view
  ];
  const dev = await fakeDevice(outbox, attachments);
  const seen = [];
  const b = await exportBundle(dev, NOW, (p) => seen.push({ ...p }));
  const o = JSON.parse(b.text);
  assert.deepEqual(Object.keys(o), ['v', 'kind', 'device', 'created_ms', 'body', 'sig', 'files']);
  assert.equal(o.v, 2);
  const expected = attachments.slice(0, 3).sort((x, y) => (x.hash < y.hash ? -1 : 1));
  assert.deepEqual(o.files.map((f) => f.hash), expected.map((a) => a.hash));
  assert.equal(b.files, 3);
  assert.deepEqual(seen, [{ done: 0, total: 3 }, { done: 1, total: 3 }, { done: 2, total: 3 }, { done: 3, total: 3 }]);
  // Exactly the SDK's text: files after sig, each {"hash","size","data"} with padded base64.
  const files = expected.map((a) => `{"hash":"${a.hash}","size":${a.size},"data":"${Buffer.from(RAW.get(a.hash)).toString('base64')}"}`);
  assert.equal(b.text, `{"v":2,"kind":"tram-bundle","device":"${dev.principal.device}","created_ms":${NOW},"body":${JSON.stringify(o.body)},"sig":"${o.sig}","files":[${files.join(',')}]}`);
  assert.equal(b.fileBytes, expected.reduce((n, a) => n + a.size, 0));
  // Each file hashes to its name; the body is the pending change sets only (3, 4), and the
  // device's signature covers `tram-bundle-v1:` ‖ body, not the files.
  for (const f of o.files) assert.equal(toHex(blake2b256(fromBase64(f.data))), f.hash);
  assert.deepEqual(b.seqs, [3, 4]);
  assert.equal(JSON.parse(o.body).changesets.length, 2);
  assert.ok(ed25519.verify(fromHex(o.sig), utf8('tram-bundle-v1:' + o.body), fromHex(o.device)));
});

test('a photo altered in the bundle no longer hashes to its name (the server refuses it)', async () => {
  const dev = await fakeDevice([entry(1, 'waiting')], [photo('ảnh gốc', { named: [1] })]);
  const o = JSON.parse((await exportBundle(dev, NOW)).text);
  const bytes = fromBase64(o.files[0].data);
  bytes[0] ^= 1; // one bit flipped on the USB stick
  assert.notEqual(toHex(blake2b256(bytes)), o.files[0].hash);
  // The signature still verifies: only the hash check catches it, which is why the server makes it.
  assert.ok(ed25519.verify(fromHex(o.sig), utf8('tram-bundle-v1:' + o.body), fromHex(o.device)));
});

test('a local copy that no longer matches its name is left out, not carried to be refused', async () => {
  const good = photo('ảnh tốt', { named: [1] });
  const bad = { ...photo('ảnh hỏng', { named: [1] }), blob: new Blob([bytesOf('ảnh hỏng!')]) };
  const dev = await fakeDevice([entry(1, 'waiting')], [good, bad]);
  const b = await exportBundle(dev, NOW);
  assert.deepEqual(JSON.parse(b.text).files.map((f) => f.hash), [good.hash]);
  assert.equal(b.files, 1);
});

test('an empty outbox exports nothing', async () => {
  const dev = await fakeDevice([entry(1, 'accepted')], [photo('x', { named: [1] })]);
  await assert.rejects(exportBundle(dev, NOW), (e) => e.code === 'nothing_pending');
});
