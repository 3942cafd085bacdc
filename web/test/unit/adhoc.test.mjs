// Ad hoc reports (báo cáo đột xuất, schema v3 adhoc_report): the ops the screens write pass the
// schema's own rules (core checkOps, the check the device runs before signing) for the roles the
// programme names and are refused for others; the lists are newest first and a reviewer never
// sees a unit's draft.
//
//   cd web && node --test test/unit/adhoc.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Schema, checkOps } from '../../src/core/schema.js';
import { schemaJson } from './golden.mjs';
import { adhocPut, ackOps, missingFields, received, mine, newestFirst, T } from '../../src/ui/screens/adhoc.js';
import { todayVN } from '../../src/ui/format.js';
import vi from '../../src/ui/i18n/vi.js';
import en from '../../src/ui/i18n/en.js';

const schema = new Schema(schemaJson());
const minh = { role: 'official', user: 'minh', units: ['03808'], all_units: false, name: 'Lò Văn Minh', device: 'a'.repeat(64) };
const thu = { role: 'reviewer', user: 'thu', units: [], all_units: true, name: 'Nguyễn Thị Thu' };
const none = () => null;
const ID = '019e8b40-7d80-752e-89a7-834df2a74de4';
// 09:30 UTC on 3 June 2026 is 16:30 in Vietnam; 20:00 UTC is already 4 June there.
const NOW = Date.UTC(2026, 5, 3, 9, 30, 0);

const values = { kind: 'difficulty', task: null, subject: 'Sạt lở đường vào bản Nà Lốc', body: 'Mưa lớn làm sạt lở 200 m đường.', proposal: 'Đề nghị hỗ trợ kinh phí khắc phục.' };

test('the schema has the adhoc_report table the screens write (v3)', () => {
  assert.ok(schema.table(T), 'adhoc_report is in the newest schema');
  assert.equal(schema.table(T).workflow.initial, 'draft');
});

test('a new ad hoc report, sent or kept as a draft, carries the unit, author, dates and device, and passes checkOps', () => {
  const sent = adhocPut({ values, principal: minh, unit: '03808', submit: true, now: NOW, id: ID });
  assert.deepEqual(sent, { t: T, id: ID, k: 'put', f: {
    unit_code: '03808', author: 'Lò Văn Minh', recorded_on: '2026-06-03', recorded_at: '2026-06-03T09:30:00Z', device: 'a'.repeat(64), status: 'submitted',
    kind: 'difficulty', subject: values.subject, body: values.body, proposal: values.proposal } });
  assert.deepEqual(checkOps(schema, minh, [sent], none), []);
  const draft = adhocPut({ values: { ...values, task: 'NV01', proposal: null }, principal: minh, unit: '03808', submit: false, now: Date.UTC(2026, 5, 3, 20, 0, 0), id: ID });
  assert.equal(draft.f.status, 'draft');
  assert.equal(draft.f.recorded_on, '2026-06-04', 'the day in Vietnam');
  assert.equal(draft.f.task, 'NV01');
  assert.equal('proposal' in draft.f, false, 'an empty field is not written');
  assert.deepEqual(checkOps(schema, minh, [draft], none), []);
  // A department official writes one the same way (the unit is the department's code).
  const dept = { role: 'department', user: 'hoa', units: ['SYT'], all_units: false, name: 'Đinh Thị Hoa', device: 'b'.repeat(64) };
  assert.deepEqual(checkOps(schema, dept, [adhocPut({ values, principal: dept, unit: 'SYT', submit: true, now: NOW, id: ID })], none), []);
});

test('another unit or a reviewer may not write an official\'s ad hoc report, and kind is required', () => {
  const op = adhocPut({ values, principal: minh, unit: '03808', submit: true, now: NOW, id: ID });
  const lan = { role: 'official', user: 'lan', units: ['03646'], all_units: false, name: 'Cầm Thị Lan' };
  assert.equal(checkOps(schema, lan, [op], none)[0]?.code, 'forbidden_scope');
  assert.ok(checkOps(schema, thu, [op], none).length > 0, 'a reviewer does not insert ad hoc reports');
  const noKind = adhocPut({ values: { ...values, kind: null }, principal: minh, unit: '03808', submit: true, now: NOW, id: ID });
  assert.ok(checkOps(schema, minh, [noKind], none).some((p) => p.field === 'kind'), 'kind is required');
  assert.deepEqual(missingFields({ ...values, kind: null, body: '' }), ['kind', 'body']);
  assert.deepEqual(missingFields(values), []);
});

test('sending a draft writes only what changed, with the day it is sent; nothing changed is no op', () => {
  const stored = { id: ID, unit_code: '03808', kind: 'adjustment', subject: 'Điều chỉnh', body: 'Nội dung', author: 'Lò Văn Minh', recorded_on: '2026-06-01', recorded_at: '2026-06-01T01:00:00Z', device: 'a'.repeat(64), status: 'draft' };
  const lookup = (t, id) => (t === T && id === ID ? stored : null);
  const op = adhocPut({ existing: stored, values: { kind: 'adjustment', task: null, subject: 'Điều chỉnh', body: 'Nội dung mới', proposal: null }, principal: minh, submit: true, now: NOW });
  assert.deepEqual(op.f, { body: 'Nội dung mới', status: 'submitted', recorded_on: '2026-06-03', recorded_at: '2026-06-03T09:30:00Z' });
  assert.deepEqual(checkOps(schema, minh, [op], lookup), []);
  assert.equal(adhocPut({ existing: stored, values: { kind: 'adjustment', subject: 'Điều chỉnh', body: 'Nội dung' }, principal: minh, submit: false, now: NOW }), null);
  // Once sent, the official may no longer change it (only draft is editable).
  const sent = { ...stored, status: 'submitted' };
  const edit = adhocPut({ existing: sent, values: { kind: 'adjustment', subject: 'Khác', body: 'Nội dung' }, principal: minh, submit: false, now: NOW });
  assert.equal(checkOps(schema, minh, [edit], (t, id) => (id === ID ? sent : null))[0]?.code, 'workflow_violation');
});

test('the reviewer acknowledges a sent report with a response; an empty response writes nothing', () => {
  const stored = { id: ID, unit_code: '03808', kind: 'difficulty', subject: 's', body: 'b', author: 'Lò Văn Minh', recorded_on: '2026-06-03', status: 'submitted' };
  const lookup = (t, id) => (t === T && id === ID ? stored : null);
  assert.equal(ackOps(stored, '   ', 'Nguyễn Thị Thu'), null);
  const ops = ackOps(stored, '  Sở Tài chính đã tiếp nhận, sẽ tham mưu UBND tỉnh. ', 'Nguyễn Thị Thu');
  assert.deepEqual(ops, [{ t: T, id: ID, k: 'put', f: { status: 'acknowledged', response: 'Sở Tài chính đã tiếp nhận, sẽ tham mưu UBND tỉnh.', responded_by: 'Nguyễn Thị Thu' } }]);
  assert.deepEqual(checkOps(schema, thu, ops, lookup), []);
  // The schema itself requires the response on this transition, and only a reviewer makes it.
  const bare = [{ t: T, id: ID, k: 'put', f: { status: 'acknowledged' } }];
  assert.deepEqual(checkOps(schema, thu, bare, lookup).map((p) => [p.code, p.field]), [['workflow_violation', 'response']], 'no response: refused');
  assert.ok(checkOps(schema, minh, ops, lookup).some((p) => p.code === 'workflow_violation' && p.field === 'status'), 'an official cannot acknowledge');
  // A draft cannot be acknowledged (the Department of Finance has not received it).
  assert.ok(checkOps(schema, thu, ops, (t, id) => (id === ID ? { ...stored, status: 'draft' } : null)).length > 0);
});

test('lists: newest first; the reviewer never sees drafts; an official sees only the own units', () => {
  const rows = [
    { id: '1', unit_code: '03808', status: 'submitted', recorded_at: '2026-06-01T01:00:00Z' },
    { id: '2', unit_code: '03646', status: 'draft', recorded_at: '2026-06-05T01:00:00Z' },
    { id: '3', unit_code: '03646', status: 'acknowledged', recorded_at: '2026-06-03T01:00:00Z' },
    { id: '4', unit_code: '03808', status: 'draft', recorded_at: '2026-06-03T01:00:00Z' },
  ];
  assert.deepEqual(received(rows).map((r) => r.id), ['3', '1']);
  assert.deepEqual(mine(rows, minh).map((r) => r.id), ['4', '1']);
  assert.deepEqual(newestFirst(rows).map((r) => r.id), ['2', '4', '3', '1'], 'same second: the later id first');
  assert.deepEqual(mine(rows, thu).map((r) => r.id), ['2', '4', '3', '1'], 'all units');
  assert.equal(todayVN(NOW), '2026-06-03');
});

test('every word of the ad hoc screens is in Vietnamese and in English, and every field has an English label', () => {
  const keys = (o) => Object.keys(o).filter((k) => k.includes('adhoc')).sort();
  assert.deepEqual(keys(vi).filter((k) => !(k in en)), [], 'Vietnamese keys missing in en.js');
  assert.deepEqual(keys(en).filter((k) => !k.startsWith('field.') && !(k in vi)), [], 'English keys missing in vi.js');
  for (const f of schema.fields(T)) assert.ok(en[`field.${T}.${f.name}`], `English label of ${f.name}`);
  for (const f of ['kind', 'status']) for (const v of schema.field(T, f).values) {
    assert.ok(vi[`enum.${T}.${f}.${v}`] && en[`enum.${T}.${f}.${v}`], `${f} ${v} in plain words`);
  }
  for (const [k, v] of Object.entries(vi)) if (k.includes('adhoc')) assert.equal(v, v.normalize('NFC'), `${k} is NFC`);
});
