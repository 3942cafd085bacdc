// The change-set encoder against the C++ reference: golden files byte for byte (bytes, id and
// signature, with both signing backends), round trips, NFC refusal and the decoder's codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, utf8 } from '../../src/core/bytes.js';
import {
  ChangeSetError, changeSetId, decodeChangeSet, encodeChangeSet, validateChangeSet, writerIdOf,
} from '../../src/core/changeset.js';
import { deviceKeyFromSecretForTests, verifySignature } from '../../src/core/keys.js';
import { GOLDEN_PUBLIC, GOLDEN_SECRET, golden, goldenBasic, goldenChained } from './golden.mjs';

const dec = new TextDecoder();

for (const backend of ['noble', 'webcrypto']) {
  test(`golden basic: bytes, id and signature identical to the C++ (${backend})`, async () => {
    const key = await deviceKeyFromSecretForTests(GOLDEN_SECRET, { backend });
    assert.equal(key.publicKeyHex, GOLDEN_PUBLIC);
    const g = golden('changeset-v1-basic');
    const bytes = encodeChangeSet(goldenBasic());
    assert.equal(dec.decode(bytes), dec.decode(g.bytes));
    assert.deepEqual(bytes, g.bytes);
    assert.equal(bytes.length, 561);
    assert.equal(changeSetId(bytes) + '\n', g.id);
    assert.equal(toHex(await key.sign(bytes)) + '\n', g.sig);
  });

  test(`golden chained: edit with bases, cleared field, delete (${backend})`, async () => {
    const key = await deviceKeyFromSecretForTests(GOLDEN_SECRET, { backend });
    const prev = changeSetId(encodeChangeSet(goldenBasic()));
    const g = golden('changeset-v1-chained');
    const bytes = encodeChangeSet(goldenChained(prev));
    assert.equal(dec.decode(bytes), dec.decode(g.bytes));
    assert.equal(bytes.length, 524);
    assert.equal(changeSetId(bytes) + '\n', g.id);
    assert.equal(toHex(await key.sign(bytes)) + '\n', g.sig);
  });
}

test('golden files decode to the model they were built from, and their signatures verify', async () => {
  const basic = golden('changeset-v1-basic');
  assert.deepEqual(decodeChangeSet(basic.bytes), goldenBasic());
  assert.ok(await verifySignature(GOLDEN_PUBLIC, basic.bytes, basic.sig.trim()));
  const chained = golden('changeset-v1-chained');
  const prev = basic.id.trim();
  const d = decodeChangeSet(chained.bytes);
  assert.deepEqual(d, goldenChained(prev));
  assert.equal(d.ops[1].b['0'], writerIdOf(prev));
  assert.equal(writerIdOf(prev), '7994506f3ae526f7');
});

test('extremes: byte for byte the C++ encoding of the same model', () => {
  // Expected bytes, id: printed by a throwaway C++ program (outside the repo) that built this
  // model with tram::ChangeSet, ran validate() (ok) and encode() against build/dev's libtram_engine.a.
  const cs = {
    device: GOLDEN_PUBLIC,
    seq: 2 ** 53 - 1,
    prev: 'd161d71145abeec5ef15abcf0459cec60a27321e2f0ac0ef7ace5254f5944476', // blake2b_256("x")
    hlc: [2 ** 47 - 1, 65535],
    author: 'Lò Văn Minh',
    schema: 'sonla-2026',
    schema_v: 4294967295,
    ops: [
      {
        t: 'progress_report', id: 'r1:A_b.c-9', k: 'put',
        f: {
          1: ['t', '\x01\x1f tab\t \\ " / \x7f \b \f \r\n end'],
          2: ['r', -1.25e-300],
          4: ['i', -(2n ** 63n)],
          5: ['b', true],
          6: ['d', '0001-01-01'],
          10: ['i', 2n ** 63n - 1n],
          11: ['r', 1e21],
          12: ['d', '9999-12-31'],
          2147483647: null,
        },
        b: { 0: '0123456789abcdef', 2147483647: 'ffffffffffffffff' },
      },
      { t: 't', id: 'x', k: 'del' },
    ],
  };
  const expected =
    '{"v":1,"device":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","seq":9007199254740991,' +
    '"prev":"d161d71145abeec5ef15abcf0459cec60a27321e2f0ac0ef7ace5254f5944476","hlc":[140737488355327,65535],' +
    '"author":"Lò Văn Minh","schema":"sonla-2026","schema_v":4294967295,"ops":[{"t":"progress_report","id":"r1:A_b.c-9","k":"put",' +
    '"f":{"1":["t","\\u0001\\u001f tab\\t \\\\ \\" / \x7f \\u0008 \\u000c \\r\\n end"],"2":["r",-1.25e-300],' +
    '"4":["i",-9223372036854775808],"5":["b",true],"6":["d","0001-01-01"],"10":["i",9223372036854775807],' +
    '"11":["r",1e+21],"12":["d","9999-12-31"],"2147483647":null},"b":{"0":"0123456789abcdef","2147483647":"ffffffffffffffff"}},' +
    '{"t":"t","id":"x","k":"del"}]}';
  const bytes = encodeChangeSet(cs);
  assert.equal(dec.decode(bytes), expected);
  assert.equal(changeSetId(bytes), 'fcf7f06442d932e0c550994b9d90ae511f6c219b587fbdfca14874e2b7dffe00');
  // And back: BigInt only where a Number would lose the value.
  const back = decodeChangeSet(bytes);
  assert.equal(back.ops[0].f['4'][1], -(2n ** 63n));
  assert.equal(back.ops[0].f['10'][1], 2n ** 63n - 1n);
  assert.deepEqual(encodeChangeSet(back), bytes);
});

test('round trip: encode -> decode -> encode keeps every value', () => {
  const cs = goldenBasic();
  cs.ops[0].f = {
    1: ['t', 'Chiềng Cơi – “ngoặc” 😀 \u0000'],
    2: ['r', -0],
    3: ['r', 0.1],
    4: ['i', -(2 ** 53 - 1)],
    5: ['i', 0],
    6: ['d', '2024-02-29'],
    8: ['r', 1e-7],
    9: ['i', 12345678901234567890n - 10000000000000000000n],
  };
  cs.ops.push({ t: 'comment', id: 'c1', k: 'put', f: {} });
  const bytes = encodeChangeSet(cs);
  const back = decodeChangeSet(bytes);
  assert.deepEqual(encodeChangeSet(back), bytes);
  assert.ok(Object.is(back.ops[0].f['2'][1], 0)); // -0 is written 0 (changeset-format.md §5.5)
  assert.equal(back.ops[0].f['9'][1], 2345678901234567890n);
  assert.equal(back.ops[0].f['4'][1], -(2 ** 53 - 1)); // still a Number: it is safe
  assert.match(dec.decode(bytes), /"2":\["r",0\],"3":\["r",0.1\]/);
  assert.match(dec.decode(bytes), /\\u0000/);
  assert.deepEqual(back.ops[1], { t: 'comment', id: 'c1', k: 'put', f: {} });
});

test('field ids are written in ascending numeric order, "2" before "10"', () => {
  const cs = goldenBasic();
  cs.ops[0].f = { 10: ['i', 1], 2: ['i', 2], 1: ['i', 3] };
  cs.ops[0].b = { 10: 'aaaaaaaaaaaaaaaa', 0: 'BBBBBBBBBBBBBBBB' };
  const text = dec.decode(encodeChangeSet(cs));
  assert.match(text, /"f":\{"1":\["i",3\],"2":\["i",2\],"10":\["i",1\]\},"b":\{"0":"bbbbbbbbbbbbbbbb","10":"aaaaaaaaaaaaaaaa"\}/);
});

function refuses(cs, code, where) {
  assert.throws(() => encodeChangeSet(cs), (e) => e instanceof ChangeSetError && e.code === code && (!where || e.where === where));
  assert.equal(validateChangeSet(cs).code, code);
}

test('non-NFC text is refused before signing, as C++ validate() does', () => {
  const nfd = 'Đã lắp đặt'.normalize('NFD');
  assert.notEqual(nfd, 'Đã lắp đặt');
  const cs = goldenBasic();
  cs.ops[0].f[3] = ['t', nfd];
  refuses(cs, 'not_normalized', '$.ops[0].f.3');
  const a = goldenBasic();
  a.author = 'Lò Văn Minh'.normalize('NFD');
  refuses(a, 'not_normalized', '$.author');
  // The NFC form of the same text is fine.
  cs.ops[0].f[3] = ['t', nfd.normalize('NFC')];
  assert.equal(validateChangeSet(cs), null);
});

test('the decoder refuses non-NFC text too', () => {
  const text = dec.decode(golden('changeset-v1-basic').bytes).replace('"03808"', `"${'Cơi'.normalize('NFD')}"`);
  assert.throws(() => decodeChangeSet(utf8(text)), { code: 'not_normalized' });
});

test('validation before signing: every rule of changeset-format.md §6.1', () => {
  const mut = (f) => {
    const cs = goldenBasic();
    f(cs);
    return cs;
  };
  refuses(mut((c) => (c.seq = 0)), 'out_of_range', '$.seq');
  refuses(mut((c) => (c.seq = 2 ** 53)), 'out_of_range', '$.seq');
  refuses(mut((c) => (c.seq = 1.5)), 'wrong_type', '$.seq');
  refuses(mut((c) => (c.seq = 2)), 'invalid_value', '$.prev'); // seq 2 needs a prev
  refuses(mut((c) => (c.prev = 'ab'.repeat(32))), 'invalid_value', '$.prev'); // seq 1 has none
  refuses(mut((c) => (c.hlc = [2 ** 47, 0])), 'out_of_range', '$.hlc');
  refuses(mut((c) => (c.hlc = [0, 65536])), 'out_of_range', '$.hlc');
  refuses(mut((c) => (c.author = '')), 'invalid_value', '$.author');
  refuses(mut((c) => (c.author = 'x'.repeat(129))), 'too_large', '$.author');
  refuses(mut((c) => (c.author = 'a\ud800b')), 'invalid_utf8', '$.author');
  refuses(mut((c) => (c.schema = 'Sonla')), 'invalid_value', '$.schema');
  refuses(mut((c) => (c.schema_v = 2 ** 32)), 'out_of_range', '$.schema_v');
  refuses(mut((c) => (c.ops = [])), 'invalid_value', '$.ops');
  refuses(mut((c) => (c.ops[0].t = 'Progress')), 'invalid_value', '$.ops[0].t');
  refuses(mut((c) => (c.ops[0].id = 'a b')), 'invalid_value', '$.ops[0].id');
  refuses(mut((c) => (c.ops[0].id = 'x'.repeat(65))), 'invalid_value', '$.ops[0].id');
  refuses(mut((c) => (c.ops[0].k = 'upsert')), 'invalid_value', '$.ops[0].k');
  refuses(mut((c) => (c.ops[0].k = 'del')), 'unknown_field', '$.ops[0].f');
  refuses(mut((c) => (c.ops[0].f = { 0: null })), 'invalid_value', '$.ops[0].f.0');
  refuses(mut((c) => (c.ops[0].f = { '01': null })), 'invalid_value', '$.ops[0].f.01');
  refuses(mut((c) => (c.ops[0].f = { 2147483648: null })), 'invalid_value');
  refuses(mut((c) => (c.ops[0].f[2] = ['r', NaN])), 'out_of_range', '$.ops[0].f.2');
  refuses(mut((c) => (c.ops[0].f[2] = ['r', Infinity])), 'out_of_range');
  refuses(mut((c) => (c.ops[0].f[4] = ['i', 2 ** 53])), 'out_of_range'); // give a BigInt
  refuses(mut((c) => (c.ops[0].f[4] = ['i', 2n ** 63n])), 'out_of_range');
  refuses(mut((c) => (c.ops[0].f[4] = ['i', 2.5])), 'wrong_type');
  refuses(mut((c) => (c.ops[0].f[6] = ['d', '2026-02-30'])), 'invalid_value');
  refuses(mut((c) => (c.ops[0].f[6] = ['d', '0000-01-01'])), 'invalid_value');
  refuses(mut((c) => (c.ops[0].f[7] = ['a', 'ab'])), 'invalid_value');
  refuses(mut((c) => (c.ops[0].f[1] = ['n', null])), 'invalid_value'); // "n" is not valid on the wire
  refuses(mut((c) => (c.ops[0].f[1] = ['t'])), 'invalid_value');
  refuses(mut((c) => (c.ops[0].f[1] = 'x')), 'wrong_type');
  refuses(mut((c) => (c.ops[0].f[1] = ['t', 'x'.repeat(32 * 1024 + 1)])), 'too_large');
  refuses(mut((c) => (c.ops[0].b = { 2: '7994506F3AE526F' })), 'invalid_value');
  refuses(mut((c) => (c.ops = Array.from({ length: 2001 }, () => c.ops[0]))), 'too_large', '$.ops');
  // Exactly at the limits is fine.
  assert.equal(validateChangeSet(mut((c) => (c.ops[0].f[1] = ['t', 'x'.repeat(32 * 1024)]))), null);
  assert.equal(validateChangeSet(mut((c) => (c.author = 'ố'.repeat(42)))), null); // 126 bytes
});

test('a change set over 1 MiB encoded is refused (split the transaction)', () => {
  const cs = goldenBasic();
  cs.ops = Array.from({ length: 40 }, (_, i) => ({ t: 'progress_report', id: `r${i}`, k: 'put', f: { 3: ['t', 'x'.repeat(30000)] } }));
  refuses(cs, 'too_large', '$');
});

test('decoder: each defect has its own code (changeset-format.md §11.1)', () => {
  const good = dec.decode(golden('changeset-v1-basic').bytes);
  const code = (text) => {
    try {
      decodeChangeSet(typeof text === 'string' ? utf8(text) : text);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ChangeSetError, String(e));
      return e.code;
    }
  };
  const w = (from, to) => {
    assert.ok(good.includes(from), from);
    return good.replace(from, to);
  };
  assert.equal(code(good), 'ok');
  for (const n of [0, 1, 280, good.length - 1]) assert.equal(code(good.slice(0, n)), 'malformed_json');
  assert.equal(code(good + 'x'), 'malformed_json');
  assert.equal(code(good + ' \n'), 'ok'); // whitespace after the object is JSON
  assert.equal(code('\ufeff' + good), 'malformed_json'); // byte-order mark
  assert.equal(code(w('["i",2]', '["i",02]')), 'malformed_json');
  assert.equal(code(w('"03808"', '"\\ud800"')), 'malformed_json'); // lone surrogate escape
  assert.equal(code(w('"seq":1', '"seq":"1"')), 'wrong_type');
  assert.equal(code(w('"seq":1', '"seq":1.0')), 'wrong_type');
  assert.equal(code(w('["i",2]', '["i",2.5]')), 'wrong_type');
  assert.equal(code(w('["i",2]', '["i",2e0]')), 'wrong_type');
  assert.equal(code(w('["b",false]', '["b",0]')), 'wrong_type');
  assert.equal(code('[1,2]'), 'wrong_type');
  assert.equal(code(w('["i",2]', '["i",9223372036854775808]')), 'out_of_range');
  assert.equal(code(w('["i",2]', '["i",123456789012345678901234567890]')), 'out_of_range');
  assert.equal(code(w('"seq":1', '"seq":9007199254740992')), 'out_of_range');
  assert.equal(code(w('"seq":1', '"seq":0')), 'out_of_range');
  assert.equal(code(w('"seq":1', '"seq":-1')), 'out_of_range');
  assert.equal(code(w('"hlc":[1780473600000,0]', '"hlc":[140737488355328,0]')), 'out_of_range');
  assert.equal(code(w('["r",48.5]', '["r",1e999]')), 'out_of_range');
  assert.equal(code(w('["r",48.5]', '[' + '['.repeat(100) + ']'.repeat(100) + ']')), 'too_deep');
  assert.equal(code(w('"v":1', '"v":2')), 'unsupported_version');
  assert.equal(code(w('"v":1,', '')), 'missing_field');
  assert.equal(code(w('"author":', '"x":1,"author":')), 'unknown_field');
  assert.equal(code(w('"author":', '"seq":1,"author":')), 'duplicate_key');
  assert.equal(code(w('"2":["r",48.5]', '"2":["r",48.5],"2":null')), 'duplicate_key');
  assert.equal(code(w('"k":"put"', '"k":"del"')), 'unknown_field'); // f on a del
  assert.equal(code(w('"device":"d75a', '"device":"D75A')), 'invalid_value');
  assert.equal(code(w('["i",2]', '["n",2]')), 'invalid_value');
  assert.equal(code(w('["i",2]', '["i",2,3]')), 'invalid_value');
  assert.equal(code(w('"2026-06-03"', '"2026-02-30"')), 'invalid_value');
  assert.equal(code(w('"prev":null', '"prev":"' + 'a'.repeat(64) + '"')), 'invalid_value');
  assert.equal(code(w('"ops":[', '"ops":[],"z":[')), 'unknown_field');
  const bytes = utf8(good);
  const broken = new Uint8Array(bytes);
  broken[bytes.indexOf(0xc4)] = 0xff; // inside "Đã"
  assert.equal(code(broken), 'invalid_utf8');
  assert.equal(code(new Uint8Array((1 << 20) + 1).fill(0x20)), 'too_large');
  // Members in any order are accepted, and field ids come back as members of f.
  const reordered =
    `{"ops":[{"k":"put","f":{"2":["r",1],"1":["t","03808"]},"id":"r1","t":"progress_report"}],"schema_v":1,"schema":"sonla-2026",` +
    `"author":"a","hlc":[5,0],"prev":null,"seq":1,"device":"${GOLDEN_PUBLIC}","v":1}`;
  const d = decodeChangeSet(utf8(reordered));
  assert.deepEqual(Object.keys(d.ops[0].f), ['1', '2']);
  assert.deepEqual(d.ops[0].f['2'], ['r', 1]);
});
