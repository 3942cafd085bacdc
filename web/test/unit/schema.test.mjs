// schema.js: the Schema object, and checkOps against the C++ authorize() case by case
// (fixtures/authorize-cases.json holds what the engine answered), with the messages an official
// reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { encodeChangeSet } from '../../src/core/changeset.js';
import { checkOps, checkValueRange, fromWireValue, indicatorValueRange, opToWire, Schema, toWireValue } from '../../src/core/schema.js';
import { rangeText } from '../../src/core/messages.js';
import { GOLDEN_DIR, GOLDEN_PUBLIC, schemaJson, schemaVersion } from './golden.mjs';

const schema = new Schema(schemaJson());
const { cases } = JSON.parse(readFileSync(new URL('./fixtures/authorize-cases.json', import.meta.url), 'utf8'));
const minh = { user: 'minh', role: 'official', units: ['03808'], all_units: false, name: 'Lò Văn Minh' };

// lookupRow over a case's existing rows, as device/ would answer from its store.
const lookup = (rows) => (t, id) => {
  const r = rows.find((x) => x.t === t && x.id === id);
  return r ? { ...r.f, ...(r.deleted ? { _deleted: true } : {}) } : null;
};

test('Schema: tables, fields in cell order, look-ups by name and id, labels', () => {
  assert.equal(schema.id, 'sonla-2026');
  assert.equal(schema.version, schemaVersion());
  const t = schema.table('progress_report');
  assert.equal(t.scope.name, 'unit_code');
  assert.equal(t.author.name, 'author');
  assert.deepEqual(schema.fields('progress_report').map((f) => f.id), Array.from({ length: 18 }, (_, i) => i + 1));
  assert.equal(schema.fields('unit').length, 4);
  assert.equal(schema.field('progress_report', 'value').id, 5);
  assert.equal(schema.field('progress_report', 5).name, 'value');
  assert.equal(schema.field('progress_report', '13').name, 'status');
  assert.equal(schema.field('progress_report', 'nope'), null);
  assert.equal(schema.table('nope'), null);
  assert.deepEqual(schema.field('progress_report', 'value').labels, { vi: 'Kết quả', en: 'Result' });
  assert.equal(schema.tables.map((x) => x.name).indexOf('evidence'), 10);  // v3 appended agency and task_reporter
});

for (const c of cases) {
  test(`checkOps agrees with the C++ authorize(): ${c.name} -> ${c.cpp.code}`, () => {
    const problems = checkOps(schema, c.principal, c.ops, lookup(c.rows));
    if (c.cpp.code === 'ok') {
      assert.deepEqual(problems, [], JSON.stringify(problems));
    } else {
      // authorize() stops at its first refusal; checkOps reports every one it finds.
      assert.ok(problems.length > 0, `the engine refused (${c.cpp.message}) but checkOps found nothing`);
      assert.ok(problems.some((p) => p.code === c.cpp.code), `expected ${c.cpp.code} among ${JSON.stringify(problems.map((p) => p.code))}`);
      for (const p of problems) {
        assert.ok(p.message.vi && p.message.en, 'both languages');
        assert.equal(p.table, c.ops[0].t);
      }
    }
  });
}

const draft = (over = {}) => ({
  t: 'progress_report', id: 'r9', k: 'put',
  f: { unit_code: '03808', indicator: 'CT-BACSI-TRAMYTE', period: '2026-H1', value: 42, progress: 'on_track', author: 'Lò Văn Minh',
    recorded_on: '2026-06-03', status: 'draft', ...over },
});

test('messages: Vietnamese first, naming the field by its label', () => {
  // Not the schema's "min 0": the indicator's range in words (no indicator row known here).
  const [p] = checkOps(schema, minh, [draft({ value: -1 })]);
  assert.deepEqual(p, {
    table: 'progress_report', id: 'r9', field: 'value', code: 'invalid_value', rule: 'negative',
    message: { vi: 'Kết quả: không được là số âm (đã nhập -1)', en: 'Result: must not be negative (entered -1)' },
  });
  const [s] = checkOps(schema, minh, [draft({ unit_code: '03646' })]);
  assert.equal(s.code, 'forbidden_scope');
  assert.equal(s.message.vi, 'Đơn vị: đơn vị 03646 nằm ngoài phạm vi của thiết bị này');
  assert.equal(s.message.en, "Unit: unit 03646 is outside this device's scope");
  const [a] = checkOps(schema, minh, [draft({ author: 'Minh' })]);
  assert.equal(a.message.vi, 'Người báo cáo: phải là tên đã đăng ký của người dùng (Lò Văn Minh)');
  const [m] = checkOps(schema, minh, [draft({ narrative: 'ạ'.repeat(4001) })]);
  assert.equal(m.message.en, 'What was done: at most 4000 characters (now 4001)');
  const [r] = checkOps(schema, minh, [draft({ progress: undefined })]);
  assert.deepEqual(r.message, { vi: 'Tiến độ: bắt buộc phải có', en: 'Progress: is required' });
  const [t] = checkOps(schema, minh, [draft({ value: '42' })]);
  assert.deepEqual(t.message, { vi: 'Kết quả: phải là một số', en: 'Result: must be a number' });
});

test('every problem at once, one per field, so a form can mark them all', () => {
  const problems = checkOps(schema, minh, [draft({ value: -1, progress: 'late', device: 'xyz', author: 'Ai' })]);
  assert.deepEqual(problems.map((p) => [p.field, p.code, p.rule]).sort(), [
    ['author', 'author_mismatch', 'author'],
    ['device', 'invalid_value', 'pattern'],
    ['progress', 'invalid_value', 'enum'],
    ['value', 'invalid_value', 'negative'],
  ]);
});

test('text is measured and compared in NFC, as the device will sign it', () => {
  const nfd = 'Lò Văn Minh'.normalize('NFD');
  assert.deepEqual(checkOps(schema, minh, [draft({ author: nfd, narrative: 'ạ'.normalize('NFD').repeat(4000) })]), []);
  const wire = opToWire(schema, draft({ author: nfd }));
  assert.equal(wire.f[11][1], 'Lò Văn Minh');
  assert.equal(wire.f[11][1], wire.f[11][1].normalize('NFC'));
});

test('opToWire: field ids, tags by field type, and it encodes', () => {
  const op = opToWire(schema, draft({ value: 5, evidence: 'AB'.repeat(32), narrative: null }));
  assert.deepEqual(op, {
    t: 'progress_report', id: 'r9', k: 'put',
    f: { 1: ['t', '03808'], 2: ['t', 'CT-BACSI-TRAMYTE'], 4: ['t', '2026-H1'], 5: ['r', 5], 6: ['t', 'on_track'], 7: null,
      10: ['a', 'ab'.repeat(32)], 11: ['t', 'Lò Văn Minh'], 12: ['d', '2026-06-03'], 13: ['t', 'draft'] },
  });
  const cs = { device: GOLDEN_PUBLIC, seq: 1, prev: null, hlc: [1780473600000, 0], author: 'minh', schema: 'sonla-2026', schema_v: 2, ops: [op] };
  assert.match(new TextDecoder().decode(encodeChangeSet(cs)), /"5":\["r",5\],"6":\["t","on_track"\],"7":null,"10":\["a","abab/);
  assert.deepEqual(opToWire(schema, { t: 'progress_report', id: 'r9', k: 'del' }), { t: 'progress_report', id: 'r9', k: 'del' });
  assert.deepEqual(toWireValue(schema.field('task_group', 'number'), 12n), ['i', 12]);
  assert.deepEqual(toWireValue(schema.field('task_group', 'number'), 2n ** 60n), ['i', 2n ** 60n]);
  assert.throws(() => toWireValue(schema.field('task_group', 'number'), 1.5), TypeError);
  assert.throws(() => opToWire(schema, draft({ colour: 'red' })), TypeError);
  assert.equal(fromWireValue(['d', '2026-06-03']), '2026-06-03');
  assert.equal(fromWireValue(null), null);
});

test('a delete carries no fields; a bad row id or op kind is refused', () => {
  assert.equal(checkOps(schema, minh, [{ t: 'progress_report', id: 'r1', k: 'del', f: { value: 1 } }])[0].rule, 'del_fields');
  assert.equal(checkOps(schema, minh, [draft({}), { ...draft(), id: 'a b' }])[0].rule, 'row_id');
  assert.equal(checkOps(schema, minh, [{ ...draft(), k: 'upsert' }])[0].rule, 'op');
});

// tests/golden/indicator-values.json: the same vectors tests/engine/authorize_test.cpp checks
// against the C++ engine (docs/schema-format.md §9.1), so the two cannot drift.
const { vectors } = JSON.parse(readFileSync(`${GOLDEN_DIR}indicator-values.json`, 'utf8'));

test('indicator ranges: the shared vectors exist', () => {
  assert.ok(vectors.length >= 15);
});

for (const v of vectors) {
  test(`indicator range (shared with the C++ engine): ${v.name}`, () => {
    const range = indicatorValueRange(v.indicator?.kind ?? '', v.indicator?.measure ?? '', v.report_measure ?? '');
    const rule = checkValueRange(range, v.value);
    if (v.expect === null) assert.equal(rule, null);
    else {
      assert.equal(rule, v.expect.rule);
      assert.deepEqual(rangeText(rule, range.measure, v.value), { vi: v.expect.vi, en: v.expect.en });
    }
    // Through checkOps, with the indicator row as the device's store would answer it.
    const f = { indicator: 'CT-V', value: v.value, ...(v.report_measure !== undefined ? { measure: v.report_measure } : {}) };
    const rows = (t, id) => (t === 'indicator' && id === 'CT-V' && v.indicator ? { ...v.indicator } : null);
    const problems = checkOps(schema, minh, [draft(f)], rows);
    if (v.expect === null) assert.deepEqual(problems, []);
    else {
      assert.deepEqual(problems, [{
        table: 'progress_report', id: 'r9', field: 'value', code: 'invalid_value', rule: v.expect.rule,
        message: { vi: `Kết quả: ${v.expect.vi}`, en: `Result: ${v.expect.en}` },
      }]);
    }
  });
}

test('indicator ranges: an edit is judged on the row after it', () => {
  const stored = { unit_code: '03808', indicator: 'CT-HO', period: '2026-H1', value: 150, progress: 'on_track', author: 'Lò Văn Minh',
    recorded_on: '2026-06-03', status: 'draft' };
  const rows = (t, id) => (t === 'progress_report' && id === 'r9' ? stored
    : t === 'indicator' ? { 'CT-HO': { kind: 'count', measure: 'hộ' }, 'CT-PT': { kind: 'percent', measure: '%' } }[id] ?? null : null);
  const edit = (f) => checkOps(schema, minh, [{ t: 'progress_report', id: 'r9', k: 'put', f }], rows);
  assert.equal(edit({ indicator: 'CT-PT' })[0]?.rule, 'percent');
  assert.equal(edit({ value: 2.5 })[0]?.message.vi, 'Kết quả: số lượng (hộ) phải là số nguyên, không âm (đã nhập 2,5)');
  assert.deepEqual(edit({ value: 3 }), []);
  assert.deepEqual(edit({ narrative: 'Thêm 24 hộ' }), []);
});

// A yes_no indicator (schema v3): a unit answers 1 or 0 whatever the measure ("%" is the
// province share); the same rule and words as IndicatorValues.YesNoTakesOnlyOneOrZero.
test('indicator ranges: yes_no takes only 1 or 0', () => {
  const range = indicatorValueRange('yes_no', '%', '%');
  assert.deepEqual(range, { kind: 'yes_no', measure: '%' });
  assert.equal(checkValueRange(range, 1), null);
  assert.equal(checkValueRange(range, 0), null);
  assert.equal(checkValueRange(range, 0.5), 'yes_no');
  assert.equal(checkValueRange(range, 100), 'yes_no');
  assert.deepEqual(rangeText('yes_no', '%', 50), { vi: 'chỉ nhập 1 (có) hoặc 0 (không) (đã nhập 50)', en: 'enter only 1 (yes) or 0 (no) (entered 50)' });
  const rows = (t, id) => (t === 'indicator' && id === 'CT-CN' ? { kind: 'yes_no', measure: '%' } : null);
  assert.deepEqual(checkOps(schema, minh, [draft({ indicator: 'CT-CN', value: 1 })], rows), []);
  assert.equal(checkOps(schema, minh, [draft({ indicator: 'CT-CN', value: 75 })], rows)[0]?.message.vi,
    'Kết quả: chỉ nhập 1 (có) hoặc 0 (không) (đã nhập 75)');
});
