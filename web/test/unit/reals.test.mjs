// Reals exactly as the C++ engine writes them (std::to_chars: fewest characters, fixed or
// scientific whichever is shorter). JavaScript's Number#toString differs (100000000000000000000
// vs 1e+20, 100000 vs 1e+05, 0.0001 vs 1e-04, 1e-7 vs 1e-07), and a different spelling is a
// different change-set id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatReal } from '../../src/core/values.js';
import { decodeChangeSet, encodeChangeSet } from '../../src/core/changeset.js';
import { goldenBasic } from './golden.mjs';

// Printed by a throwaway C++ program (outside the repo) calling tram::json::append_value on
// each double, linked against build/dev/engine/libtram_engine.a.
const CPP = [
  [0, '0'], [-0, '0'], [1, '1'], [42, '42'], [48.5, '48.5'], [52, '52'], [0.1, '0.1'], [0.3, '0.3'],
  [1 / 3, '0.3333333333333333'], [2 / 3, '0.6666666666666666'], [100, '100'], [1000, '1000'], [10000, '10000'],
  [100000, '1e+05'], [123456, '123456'], [1e6, '1e+06'], [1234567, '1234567'], [1e15, '1e+15'], [1e16, '1e+16'],
  [1e17, '1e+17'], [1e20, '1e+20'], [1e21, '1e+21'], [1e22, '1e+22'], [1.5e21, '1.5e+21'], [123e18, '1.23e+20'],
  [0.001, '0.001'], [0.0001, '1e-04'], [0.00012, '0.00012'], [1e-5, '1e-05'], [1e-6, '1e-06'], [1e-7, '1e-07'],
  [1.25e-7, '1.25e-07'], [5e-324, '5e-324'], [2.2250738585072014e-308, '2.2250738585072014e-308'],
  [1.7976931348623157e308, '1.7976931348623157e+308'], [-1e21, '-1e+21'], [-1e-7, '-1e-07'],
  [9007199254740992, '9007199254740992'], [4.35, '4.35'], [0.000123456, '0.000123456'], [123456789012, '123456789012'],
  [12000, '12000'], [120000, '120000'], [3.14159, '3.14159'], [-48.5, '-48.5'], [1e100, '1e+100'],
  [1.2345e-300, '1.2345e-300'], [99.99, '99.99'], [5e-5, '5e-05'], [250000, '250000'], [20000, '20000'],
  [300000, '3e+05'], [123e-20, '1.23e-18'], [1234.5e10, '1.2345e+13'], [0.1 + 0.2, '0.30000000000000004'],
  [100.5, '100.5'], [1e-4 * 3, '0.00030000000000000003'],
  // Integral reals beyond 64-bit integers: scientific even where fixed is shorter (engine/src/json.cpp).
  [2 ** 64, '1.8446744073709552e+19'], [2 ** 64 * 100, '1.8446744073709552e+21'], [-(2 ** 64), '-1.8446744073709552e+19'],
  [-(2 ** 63), '-9223372036854775808'], [2 ** 63, '9223372036854775808'],
];

test('edge cases: the C++ spelling, not JavaScript\'s', () => {
  for (const [x, expected] of CPP) assert.equal(formatReal(x), expected, `formatReal(${x})`);
  // The places where Number#toString would have been wrong: a naive encoder fails these.
  for (const x of [1e20, 100000, 0.0001, 1e-7, 1e-5, 1e15, -126712931024270528]) {
    assert.notEqual(String(x), formatReal(x), `JavaScript spells ${x} differently`);
  }
  // Integral values in fixed notation keep their exact digits (to_chars picks the closest of
  // the equally short spellings), where JavaScript pads its shortest digits with zeros.
  assert.equal(formatReal(-126712931024270528), '-126712931024270528');
  assert.equal(String(-126712931024270528), '-126712931024270530');
});

test('1,200 random doubles: every one spelled as the C++ spells it', () => {
  const lines = readFileSync(new URL('./fixtures/reals-cpp.txt', import.meta.url), 'utf8').split('\n');
  const view = new DataView(new ArrayBuffer(8));
  let n = 0;
  for (const line of lines) {
    if (!line || line.startsWith('#')) continue;
    const [bits, expected] = line.split(' ');
    view.setBigUint64(0, BigInt('0x' + bits));
    const x = view.getFloat64(0);
    assert.equal(formatReal(x), expected, `bits ${bits}`);
    assert.equal(Number(expected), x); // and it reads back to the same double
    n++;
  }
  assert.equal(n, 1200);
});

test('reals inside a change set, and back', () => {
  const cs = goldenBasic();
  cs.ops[0].f = { 2: ['r', 1e21], 3: ['r', 1e-7], 4: ['r', -0], 5: ['r', 42.0], 6: ['r', 100000] };
  const text = new TextDecoder().decode(encodeChangeSet(cs));
  assert.match(text, /"f":\{"2":\["r",1e\+21\],"3":\["r",1e-07\],"4":\["r",0\],"5":\["r",42\],"6":\["r",1e\+05\]\}/);
  const back = decodeChangeSet(encodeChangeSet(cs));
  // -0 is written 0 (one spelling for zero, changeset-format.md §5.5): it comes back as 0, and
  // encoding what was decoded gives the same bytes at the first round.
  assert.deepEqual(back.ops[0].f, { 2: ['r', 1e21], 3: ['r', 1e-7], 4: ['r', 0], 5: ['r', 42], 6: ['r', 100000] });
  assert.equal(new TextDecoder().decode(encodeChangeSet(back)), text);
});

test('NaN and infinities cannot be formatted', () => {
  for (const x of [NaN, Infinity, -Infinity]) assert.throws(() => formatReal(x), RangeError);
});
