// wire.js against messages a real tram-server produced (docs/protocol.md examples, copied to
// fixtures/protocol-examples.json): push body, receipt and head verification, the log chain,
// and pull pages with compact cells, common rank and writer, and conflict records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { changeSetId, encodeChangeSet } from '../../src/core/changeset.js';
import { parseJson } from '../../src/core/json.js';
import { Schema } from '../../src/core/schema.js';
import {
  headSignedText, logHash, parsePage, pushBody, sessionMessage, verifyHead, verifyReceipt, WireError,
} from '../../src/core/wire.js';
import { golden, goldenBasic, schemaJson } from './golden.mjs';

const EX = JSON.parse(readFileSync(new URL('./fixtures/protocol-examples.json', import.meta.url), 'utf8'));
const SERVER = EX.server_key;
const schema = new Schema(schemaJson());

test('push body: byte for byte the §7.1 example (the golden change set)', () => {
  const g = golden('changeset-v1-basic');
  assert.equal(pushBody([{ bytes: encodeChangeSet(goldenBasic()), sig: g.sig.trim() }]), EX.push_body);
  assert.equal(pushBody([{ bytes: g.bytes, sig: fromHex(g.sig.trim()) }]), EX.push_body);
  assert.equal(pushBody([]), '{"changesets":[]}');
});

test('session: the signed text is tram-session-v1:<challenge>', () => {
  const c = 'f7c9802ca0f7fde947e7f6bc924144f1c8e247fcf75f8fb37ecdc4dbb8cb9be8';
  assert.deepEqual(sessionMessage(c), utf8('tram-session-v1:' + c));
});

test('a real receipt verifies with the pinned server key, and names what was sent', async () => {
  const res = JSON.parse(EX.push_response);
  const item = res.results[0];
  const expected = { id: item.id, device: '82cb396808fc374c2a92ed7a3b342e62a0194e873530232b37a5a81b55c0ecc7', seq: 1 };
  const r = await verifyReceipt(item.receipt, SERVER, expected);
  assert.equal(r.accepted, true);
  assert.equal(r.server_seq, 4);
  assert.equal(r.received_at_ms, 1795963619694);
  assert.equal(r.clock_ahead, false);
  assert.equal(r.body, item.receipt.body);
  assert.equal(r.log, res.head.log); // the push's head is the last receipt's log (§9.2)

  const fails = (p, code) => assert.rejects(p, (e) => e instanceof WireError && e.code === code);
  await fails(verifyReceipt(item.receipt, '00'.repeat(32), expected), 'bad_signature'); // another key
  const other = item.receipt.body.replace('"seq":1', '"seq":2'); // the body changed after signing
  await fails(verifyReceipt({ body: other, sig: item.receipt.sig }, SERVER, expected), 'bad_signature');
  await fails(verifyReceipt(item.receipt, SERVER, { ...expected, seq: 2 }), 'mismatch');
  await fails(verifyReceipt(item.receipt, SERVER, { ...expected, id: 'ab'.repeat(32) }), 'mismatch');
  await fails(verifyReceipt(item.receipt, SERVER, { ...expected, device: 'ab'.repeat(32) }), 'mismatch');
  await fails(verifyReceipt({ body: item.receipt.body, sig: 'x' }, SERVER, expected), 'malformed');
  await assert.rejects(verifyReceipt(item.receipt, SERVER, {}), TypeError); // what to check is not optional
});

test('a real head verifies; a changed seq or log does not', async () => {
  const { head } = JSON.parse(EX.push_response);
  assert.equal(headSignedText(head.server_seq, head.log), `tram-head-v1:4:${head.log}`);
  assert.equal(await verifyHead(head, SERVER), true);
  assert.equal(await verifyHead({ ...head, server_seq: 5 }, SERVER), false);
  assert.equal(await verifyHead({ ...head, log: '00'.repeat(32) }, SERVER), false);
  assert.equal(await verifyHead(head, '00'.repeat(32)), false);
  assert.equal(await verifyHead({ ...head, sig: 'nope' }, SERVER), false);
  assert.equal(await verifyHead(null, SERVER), false);
});

test('log chain: the worked example of §9', () => {
  const log5 = '2f129917f80b9bd7c395b3993d866059e5e4639daae662156697b16d8a66ff9f';
  const id6 = 'a46759fa8e21202240269f4c689af9ca05b130f3dafb60583f435fd54f37d35d';
  assert.equal(logHash(log5, 6, id6, false), '836a38edeea2ddf404c3c64bb4c43d7583e45631d188dd058a897b1470de52a3');
  assert.notEqual(logHash(log5, 6, id6, true), '836a38edeea2ddf404c3c64bb4c43d7583e45631d188dd058a897b1470de52a3');
});

test('pull page of §8.2: common rank and writer, bare cells, the head', async () => {
  const page = parsePage(EX.pull_page, schema);
  assert.equal(page.next, 3);
  assert.equal(page.more, true);
  assert.equal(page.cursor, null);
  assert.equal(page.rows.length, 3);
  const [r] = page.rows;
  assert.equal(r.t, 'unit');
  assert.equal(r.id, '03646');
  assert.equal(r.deleted, false);
  assert.equal(r.liveness.value, 0);
  assert.equal(r.cells.name.value, 'Tô Hiệu');
  assert.deepEqual(r.cells.valid_from.raw, ['d', '2025-07-01']);
  assert.equal(r.cells.code.rank, 117700270820687872n); // above 2^53: exact, as BigInt
  assert.equal(r.cells.code.writer, '3d1d9e9d4b43cff8ab7b732b96b172cd65e2c030aada067e31f9aff7214f87b7');
  assert.equal(page.head.server_seq, 10);
  assert.equal(await verifyHead(page.head, SERVER), true); // the same server signed it
});

test('a progress_report row: never-written cells absent, a cleared one null, own rank and writer', () => {
  const row = parseJson(EX.progress_report_row); // keeps r exact (JSON.parse would round it)
  // The §8.2 row, plus a reviewer's later edit of status (field 13, cell 13) with its own rank
  // and writer, a cleared narrative (cell 7) and a conflict record on value (field 5).
  row.c[13] = [['t', 'returned'], 117700271780200449n, 2];
  row.c[7] = [null, 117700271780200449n, 2];
  row.x = [[5, 1, 2, ['r', 40]], [0, 2, 1, null]];
  const writers = ['aa'.repeat(32), 'bb'.repeat(32), 'cc'.repeat(32)];
  const head = { server_seq: 9, log: '11'.repeat(32), sig: '22'.repeat(64) };
  // Ranks as bare JSON integers (JSON.stringify cannot write BigInt): they must stay exact.
  const json = JSON.stringify({ next: 563, more: false, rows: [row], writers, head }, (k, v) => (typeof v === 'bigint' ? `@${v}@` : v))
    .replace(/"@(-?\d+)@"/g, '$1');
  assert.match(json, /"r":117700271780200448,/);
  const page = parsePage(json, schema);
  const r = page.rows[0];
  assert.equal(r.cells.unit_code.value, '03808');
  assert.equal(r.cells.value.value, 42);
  assert.deepEqual(r.cells.value.raw, ['r', 42]);
  assert.equal(r.cells.value.rank, 117700271780200448n);
  assert.equal(r.cells.value.writer, 'bb'.repeat(32));
  assert.equal(r.cells.author.value, 'Lò Văn Minh');
  assert.ok(!('task' in r.cells)); // never written
  assert.deepEqual(r.cells.narrative, { value: null, raw: null, rank: 117700271780200449n, writer: 'cc'.repeat(32) });
  assert.deepEqual(r.cells.status, { value: 'returned', raw: ['t', 'returned'], rank: 117700271780200449n, writer: 'cc'.repeat(32) });
  assert.deepEqual(r.conflicts, [
    { fieldId: 5, field: 'value', winner: 'bb'.repeat(32), loser: 'cc'.repeat(32), value: 40, raw: ['r', 40] },
    { fieldId: 0, field: null, winner: 'cc'.repeat(32), loser: 'bb'.repeat(32), value: null, raw: null },
  ]);
});

test('snapshot page: cursor, tombstones, unknown tables skipped, cell-count mismatch refused', () => {
  const head = { server_seq: 1, log: '11'.repeat(32), sig: '22'.repeat(64) };
  const body = (rows, more = true) => JSON.stringify({ next: 7, more, cursor: '7.1.3033', rows, writers: ['aa'.repeat(32)], head });
  const page = parsePage(body([
    { v: 7, t: 'unit', id: '03646', r: -9223372036854775000, w: 0, c: [[['i', 1], 5, 0], null, null, null, null] },
    { v: 7, t: 'from_a_newer_schema', id: 'x', c: [] },
  ]), schema);
  assert.equal(page.cursor, '7.1.3033');
  assert.equal(page.rows.length, 1);
  assert.equal(page.rows[0].deleted, true);
  assert.deepEqual(page.rows[0].cells, {});
  assert.throws(() => parsePage(body([{ v: 7, t: 'unit', id: 'u', c: [null, null] }]), schema), (e) => e.code === 'schema_mismatch');
  const malformed = (rows) => assert.throws(() => parsePage(body(rows), schema), (e) => e instanceof WireError && e.code === 'malformed');
  malformed([{ v: 7, t: 'unit', id: 'u', c: [[['i', 0], 5, 3], null, null, null, null] }]); // writer index out of range
  malformed([{ v: 7, t: 'unit', id: 'u', c: [[['i', 0], 5, 0], ['t', 'x'], null, null, null] }]); // bare cell, no common writer
  malformed([{ v: 7, t: 'unit', id: 'u', c: [[['x', 0], 5, 0], null, null, null, null] }]); // unknown tag
  malformed([{ v: 7, t: 'unit', id: 'u', c: [[['d', '2026-02-30'], 5, 0], null, null, null, null] }]);
  assert.throws(() => parsePage('{"next":1}', schema), WireError);
  assert.throws(() => parsePage('not json', schema), WireError);
});

test('the golden change set id is what a receipt for it must name', async () => {
  const id = changeSetId(golden('changeset-v1-basic').bytes);
  assert.equal(id, golden('changeset-v1-basic').id.trim());
  assert.equal(toHex(fromHex(id)), id);
});
