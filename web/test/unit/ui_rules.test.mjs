// The UI's own rules, in Node: what a unit owes in a period (checked against the province report
// that `tram-server report --json` prints for the seeded programme, when the server is built),
// timeliness, the enrolment code as typed, and numbers and dates as officials write them.
//
//   cd web && node --test test/unit/ui_rules.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dueForUnit, judge, judgeTarget, currentPeriod, unitTitle, targetText, meetsTarget, valueText, uuid7, isoUtcSeconds, currentReviewComment } from '../../src/ui/data.js';
import { decisionOps } from '../../src/ui/screens/review-item.js';
import { fmtDate, parseNumber, todayVN, fmtTimeVN, periodLabel } from '../../src/ui/format.js';
import { schemaJson } from './golden.mjs';
import { normaliseCode } from '../../src/ui/screens/enrol.js';
import { usersWithDevices, fold } from '../../src/ui/screens/admin-user-list.js';
import { mayComment, commentOp } from '../../src/ui/screens/history.js';
import { Schema, checkOps } from '../../src/core/schema.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ROWS = join(REPO, 'schemas/sonla-2026/seed/rows');

// The reference data as refData() builds it from a device's replica, here from the seed files.
function seedRef({ onlyUnit } = {}) {
  const rows = {};
  for (const f of readdirSync(ROWS)) {
    const j = JSON.parse(readFileSync(join(ROWS, f), 'utf8'));
    rows[j.table] = j.rows;
  }
  const byId = (l) => new Map(l.map((r) => [r.id, r]));
  const iu = new Map();
  // A scoped device receives only its own units' indicator_unit rows.
  for (const r of rows.indicator_unit.filter((x) => !onlyUnit || x.unit_code === onlyUnit)) {
    if (!iu.has(r.indicator)) iu.set(r.indicator, []);
    iu.get(r.indicator).push(r.unit_code);
  }
  // task_reporter is scoped the same way: a department's device receives its own assignments.
  const tr = new Map();
  for (const r of (rows.task_reporter || []).filter((x) => !onlyUnit || x.unit_code === onlyUnit)) {
    if (!tr.has(r.task)) tr.set(r.task, []);
    tr.get(r.task).push(r.unit_code);
  }
  const periods = rows.reporting_period.slice().sort((a, b) => (a.unit_due < b.unit_due ? -1 : 1));
  return {
    units: byId(rows.unit), agencies: byId(rows.agency || []), groups: byId(rows.task_group), groupList: rows.task_group, tasks: byId(rows.task),
    indicators: byId(rows.indicator), periods, indicatorUnits: iu, taskReporters: tr,
  };
}

test('a commune owes its own indicators and tasks, not the wards\' or the province\'s', () => {
  const ref = seedRef({ onlyUnit: '03808' });
  const p = ref.periods.find((x) => x.id === '2026-H1');
  const items = dueForUnit(ref, [], p, '03808', '2026-06-01');
  assert.deepEqual(items.map((i) => i.code).sort(), ['CT-BACSI-TRAMYTE', 'CT-CAPNUOC-XA', 'CT-KHONGMATUY-XAPHUONG', 'NV08.04']);
  assert.ok(items.every((i) => i.state === 'missing' && !i.standing.behind), 'nothing is late before the deadline');
  const late = dueForUnit(ref, [], p, '03808', '2026-06-06');
  assert.ok(late.every((i) => i.standing.overdue), 'everything missing is overdue after 05/06');
});

test('a department owes the tasks assigned to it and its tasks\' province-wide indicators', () => {
  const ref = seedRef({ onlyUnit: 'SXD' });
  const p = ref.periods.find((x) => x.id === '2026');
  const items = dueForUnit(ref, [], p, 'SXD', '2026-06-01');
  const codes = items.map((i) => i.code);
  for (const c of ['NV06.01', 'NV08.04', 'CT-CAOTOC-HOABINH-MOCCHAU-4LAN', 'CT-SANBAY-NASAN']) assert.ok(codes.includes(c), c);
  assert.ok(!codes.includes('NV07.06'), 'a health task is Sở Y tế\'s');
  assert.equal(unitTitle(ref, 'SXD'), 'Sở Xây dựng');
  // The widening has no deadline: a value short of 4 lanes is progress, never "not met".
  const lanes = ref.indicators.get('CT-CAOTOC-HOABINH-MOCCHAU-4LAN');
  assert.equal(lanes.deadline ?? null, null);
  assert.equal(judgeTarget(lanes, p, { value: 2, progress: 'on_track' }), 'not_due');
  assert.equal(judgeTarget(lanes, p, { value: 4, progress: 'done' }), 'met');
  // A commune's phone receives no task_reporter rows of the departments: it owes none of theirs.
  const commune = dueForUnit(seedRef({ onlyUnit: '03808' }), [], p, '03808', '2026-06-01').map((i) => i.code);
  assert.ok(!commune.includes('NV06.01') && !commune.includes('CT-SANBAY-NASAN'), commune.join(' '));
});

test('what each unit owes is what the province report expects of it', { skip: !existsSync(join(REPO, 'build/dev/server/tram-server')) && 'no tram-server built' }, () => {
  const bin = join(REPO, 'build/dev/server/tram-server');
  const dir = mkdtempSync(join(tmpdir(), 'tram-ui-rules-'));
  try {
    execFileSync(bin, ['seed', '--data', join(dir, 'data')], { stdio: 'ignore' });
    // Every period: after an indicator's deadline (CT-BACSI-TRAMYTE's is 2027-12-31) the report
    // keeps it while the target is not met, so the phone's list must too.
    for (const period of ['2026-H1', '2027', '2028-H1', '2029', '2030']) {
      const rep = JSON.parse(execFileSync(bin, ['report', '--data', join(dir, 'data'), '--period', period, '--json'], { maxBuffer: 64 << 20 }));
      const expected = new Map();
      for (const l of rep.lines) {
        if (!l.unit_code) continue;
        if (!expected.has(l.unit_code)) expected.set(l.unit_code, []);
        expected.get(l.unit_code).push(l.indicator);
      }
      for (const [unit, codes] of expected) {
        const ref = seedRef({ onlyUnit: unit }); // as that unit's own phone sees it
        const p = ref.periods.find((x) => x.id === period);
        const mine = dueForUnit(ref, [], p, unit, '2026-01-01').map((i) => i.code).sort();
        assert.deepEqual(mine, codes.slice().sort(), `unit ${unit}, ${period}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A report row as a device stores it (only the fields the rules read).
const rep = (period, unit, indicator, value, status = 'submitted', extra = {}) => ({ id: `${indicator}/${unit}/${period}/${status}`, period, unit_code: unit, indicator, value, status, recorded_on: '2026-01-01', ...extra });

test('after the deadline, an indicator stays due (overdue) until a report meets the target', () => {
  const ref = seedRef({ onlyUnit: '03808' });
  const P = (id) => ref.periods.find((x) => x.id === id);
  const doctors = (items) => items.find((i) => i.code === 'CT-BACSI-TRAMYTE'); // range 2–3, deadline 2027-12-31
  // No report at all: due in 2027 (the deadline's period, not yet judged) and in every later
  // period, overdue; the web app used to drop it from 2028-H1 on.
  assert.equal(doctors(dueForUnit(ref, [], P('2027'), '03808', '2027-01-01')).targetStatus, '');
  for (const id of ['2028-H1', '2028', '2029', '2030']) {
    const it = doctors(dueForUnit(ref, [], P(id), '03808', '2027-01-01'));
    assert.ok(it, `still due in ${id}`);
    assert.equal(it.targetStatus, 'overdue', id);
    assert.equal(it.state, 'missing');
  }
  // Not met at the deadline (1 doctor): still owed in 2028-H1 and judged overdue there, also
  // with a report of 1 in 2028-H1 (reported but not reaching the target).
  const notMet = [rep('2027', '03808', 'CT-BACSI-TRAMYTE', 1)];
  assert.equal(doctors(dueForUnit(ref, notMet, P('2027'), '03808', '2028-01-01')).targetStatus, 'not_met');
  assert.equal(doctors(dueForUnit(ref, notMet, P('2028-H1'), '03808', '2028-01-01')).targetStatus, 'overdue');
  const stillOne = [...notMet, rep('2028-H1', '03808', 'CT-BACSI-TRAMYTE', 1)];
  const h1 = doctors(dueForUnit(ref, stillOne, P('2028-H1'), '03808', '2028-07-01'));
  assert.equal(h1.report.value, 1);
  assert.equal(h1.targetStatus, 'overdue');
  assert.ok(doctors(dueForUnit(ref, stillOne, P('2028'), '03808', '2028-07-01')), 'still owed in 2028');
  // A report reaching the target clears the unit from the later periods, not the one it is in.
  const reached = [...notMet, rep('2028-H1', '03808', 'CT-BACSI-TRAMYTE', 2)];
  assert.equal(doctors(dueForUnit(ref, reached, P('2028-H1'), '03808', '2028-07-01')).targetStatus, 'met');
  for (const id of ['2028', '2029', '2030']) assert.equal(doctors(dueForUnit(ref, reached, P(id), '03808', '2028-07-01')), undefined, id);
  // A draft reaching it does not count (only submitted reports do); nor does another unit's.
  const draft = [...notMet, rep('2028-H1', '03808', 'CT-BACSI-TRAMYTE', 3, 'draft'), rep('2028-H1', '03646', 'CT-BACSI-TRAMYTE', 3)];
  assert.equal(doctors(dueForUnit(ref, draft, P('2028'), '03808', '2028-07-01')).targetStatus, 'overdue');
  // The latest submitted report counts: met in 2028-H1, fallen back in 2028 → due again in 2029.
  const fell = [...reached, rep('2028', '03808', 'CT-BACSI-TRAMYTE', 1)];
  assert.equal(doctors(dueForUnit(ref, fell, P('2029'), '03808', '2029-01-01')).targetStatus, 'overdue');
  // Met at the deadline: gone from every later period.
  const metAtDeadline = [rep('2027', '03808', 'CT-BACSI-TRAMYTE', 2, 'accepted')];
  assert.equal(doctors(dueForUnit(ref, metAtDeadline, P('2028-H1'), '03808', '2028-01-01')), undefined);
});

test('target status as the province report judges it', () => {
  const ref = seedRef();
  const ind = (c) => ref.indicators.get(c);
  const P = (id) => ref.periods.find((x) => x.id === id);
  const water = ind('CT-CAPNUOC-XA'); // > 90 %, deadline 2028-12-31
  assert.equal(judgeTarget(water, P('2026-H1'), { value: 78.5 }), 'not_due');
  assert.equal(judgeTarget(water, P('2028-H1'), { value: 95 }), 'not_due', 'the half year ends before the deadline');
  assert.equal(judgeTarget(water, P('2028'), { value: 95 }), 'met');
  assert.equal(judgeTarget(water, P('2028'), { value: 90 }), 'not_met');
  assert.equal(judgeTarget(water, P('2028'), null), '');
  assert.equal(judgeTarget(water, P('2029'), null), 'overdue');
  assert.equal(judgeTarget(water, P('2029'), { value: 91 }), 'met');
  assert.equal(judgeTarget(water, P('2028'), { value: 126, measure: 'hộ' }), 'not_comparable');
  assert.equal(judgeTarget(water, P('2028'), { value: 95, measure: 'PHẦN TRĂM' }), 'not_comparable', 'only ASCII letters fold');
  assert.equal(judgeTarget(water, P('2028'), { value: 95, measure: ' Phần trăm ' }), 'met');
  const road = ind('CT-CAOTOC-CT03'); // a milestone, deadline 2030-12-31
  assert.equal(judgeTarget(road, P('2030'), { progress: 'done' }), 'met');
  assert.equal(judgeTarget(road, P('2030'), { progress: 'on_track' }), 'not_met');
  assert.equal(judgeTarget(road, P('2029'), { progress: 'done' }), 'not_due');
});

// A yes_no indicator (schema v3): each commune and ward answers 1 or 0; its "= 100 %" is the
// province share (report/province.hpp), so a unit meets it with a yes, judged at the deadline.
test('a yes_no indicator: the unit\'s answer is met with a yes, at the deadline', () => {
  const ref = seedRef({ onlyUnit: '03808' });
  const P = (id) => ref.periods.find((x) => x.id === id);
  const drugFree = ref.indicators.get('CT-KHONGMATUY-XAPHUONG'); // yes_no, deadline 2030-12-31
  assert.equal(drugFree.kind, 'yes_no');
  assert.equal(targetText(drugFree), 'Có');
  assert.equal(targetText(drugFree, { share: true }), '= 100 %');
  assert.equal(meetsTarget(drugFree, 1), true);
  assert.equal(meetsTarget(drugFree, 0), false);
  assert.equal(valueText(drugFree, 1), 'Có');
  assert.equal(valueText(drugFree, 0), 'Không');
  assert.equal(valueText(ref.indicators.get('CT-CAPNUOC-XA'), 78.5), '78,5 %');
  assert.equal(judgeTarget(drugFree, P('2026-H1'), { value: 0 }), 'not_due');
  assert.equal(judgeTarget(drugFree, P('2030'), { value: 1, measure: '%' }), 'met', 'its "%" is not the answer\'s unit');
  assert.equal(judgeTarget(drugFree, P('2030'), { value: 0 }), 'not_met');
  assert.equal(judgeTarget(drugFree, P('2030'), { value: null }), 'not_met');
  // Every commune owes it each period until the deadline; a "no" at it keeps it owed, overdue.
  const due = (reports, id) => dueForUnit(ref, reports, P(id), '03808', '2026-01-01').find((i) => i.code === drugFree.id);
  assert.ok(due([], '2026-H1'));
  assert.equal(due([rep('2030', '03808', drugFree.id, 1)], '2030').targetStatus, 'met');
});

test('timeliness: on or before unit_due is on time, never later than the server received it', () => {
  assert.equal(judge('submitted', '2026-06-05', null, '2026-06-05', '').timeliness, 'on_time');
  assert.equal(judge('submitted', '2026-06-06', null, '2026-06-05', '').timeliness, 'late');
  assert.equal(judge('returned', '2026-06-03', null, '2026-06-05', '2026-07-01').timeliness, 'on_time', 'a return keeps the submission\'s timeliness');
  assert.equal(judge('draft', '2026-06-03', null, '2026-06-05', '2026-06-06').timeliness, 'missing');
  // A phone whose clock runs ahead cannot make a report late: the receipt's date (UTC+7) counts.
  const received = Date.parse('2026-06-04T20:00:00Z'); // 05/06 03:00 in Vietnam
  const j = judge('submitted', '2026-06-09', received, '2026-06-05', '');
  assert.deepEqual([j.timeliness, j.counted, j.capped], ['on_time', '2026-06-05', true]);
});

test('the current period is the first whose deadline has not passed', () => {
  const ref = seedRef();
  assert.equal(currentPeriod(ref, '2026-03-01').id, '2026-H1');
  assert.equal(currentPeriod(ref, '2026-06-05').id, '2026-H1');
  assert.equal(currentPeriod(ref, '2026-06-06').id, '2026');
  assert.equal(currentPeriod(ref, '2031-01-01').id, '2030');
});

test('targets read as officials say them, and are judged as the report library does', () => {
  const ref = seedRef();
  assert.equal(targetText(ref.indicators.get('CT-CAPNUOC-XA')), '> 90 %');
  assert.equal(targetText(ref.indicators.get('CT-BACSI-TRAMYTE')), '2–3 bác sĩ/trạm');
  assert.equal(meetsTarget(ref.indicators.get('CT-CAPNUOC-XA'), 90), false);
  assert.equal(meetsTarget(ref.indicators.get('CT-CAPNUOC-XA'), 90.5), true);
  assert.equal(meetsTarget(ref.indicators.get('CT-BACSI-TRAMYTE'), 4), true, 'above a range\'s maximum is not a failure');
  assert.equal(meetsTarget(ref.indicators.get('CT-CAOTOC-CT03'), 1), null, 'a milestone has no numeric verdict');
});

test('an enrolment code typed carelessly is mended as protocol.md §5.1 says', () => {
  assert.equal(normaliseCode('zph3f2hrzwn7ag43'), 'ZPH3-F2HR-ZWN7-AG43');
  assert.equal(normaliseCode(' zph3 f2hr-zwn7 ag43 '), 'ZPH3-F2HR-ZWN7-AG43');
  assert.equal(normaliseCode('zph3-f2'), 'ZPH3-F2');
  assert.equal(normaliseCode('ZPH3-F2HR-ZWN7-AG43-EXTRA'), 'ZPH3-F2HR-ZWN7-AG43');
});

test('numbers and dates as officials write them', () => {
  assert.equal(parseNumber('97,5'), 97.5);
  assert.equal(parseNumber('97.5'), 97.5);
  assert.equal(parseNumber('1.234,5'), 1234.5);
  assert.equal(parseNumber(''), null);
  assert.ok(Number.isNaN(parseNumber('nhiều')));
  assert.equal(fmtDate('2026-06-05'), '05/06/2026');
  assert.equal(todayVN(Date.parse('2026-06-04T17:30:00Z')), '2026-06-05', 'Vietnam is already on the 5th');
  assert.equal(fmtTimeVN(Date.parse('2026-06-04T17:30:00Z')), '05/06/2026 00:30');
  assert.equal(periodLabel('2026-H1'), '6 tháng đầu năm 2026');
  assert.equal(periodLabel('2027'), 'Năm 2027');
});

test('row ids are UUIDv7 and recorded_at fits the schema\'s pattern', () => {
  const id = uuid7(Date.parse('2026-06-03T01:02:03Z'));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), Date.parse('2026-06-03T01:02:03Z'));
  assert.match(isoUtcSeconds(Date.parse('2026-06-03T01:02:03.456Z')), /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/);
});

test('the administrator\'s user list: each user with their devices, searched without tones, names in Vietnamese order', () => {
  // As GET /v1/admin/users and GET /v1/admin/devices answer (protocol.md §6.1, §6.3).
  const users = [
    { id: 'an', role: 'official', units: ['03646'], all_units: false, name: 'Đinh Văn An' },
    { id: 'minh', role: 'official', units: ['03808'], all_units: false, name: 'Lò Văn Minh' },
    { id: 'thu', role: 'reviewer', units: [], all_units: true, name: 'Nguyễn Thị Thu' },
    { id: 'zz', role: 'official', units: [], all_units: false, name: '' },
  ];
  const d = (device, user, state, enrolled_ms) => ({ device: device.repeat(64), user, state, seq: 0, enrolled_ms, last_seen_ms: 0 });
  const devices = [d('a', 'minh', 'revoked', 1), d('b', 'minh', 'active', 2), d('c', 'thu', 'active', 3), d('e', 'ghost', 'active', 4)];
  const all = usersWithDevices(users, devices);
  // "Đinh" sorts after "D…" and before "L…" in Vietnamese; a user without a name sorts by id.
  assert.deepEqual(all.map((u) => u.id), ['an', 'ghost', 'minh', 'thu', 'zz']);
  const minh = all.find((u) => u.id === 'minh');
  assert.deepEqual(minh.devices.map((x) => x.state), ['active', 'revoked'], 'newest enrolment first');
  assert.deepEqual(minh.units, ['03808']);
  assert.equal(all.find((u) => u.id === 'an').devices.length, 0);
  assert.equal(all.find((u) => u.id === 'ghost').role, null, 'a device of an unknown user is still shown');
  assert.deepEqual(usersWithDevices(users, devices, 'dinh van').map((u) => u.id), ['an']);
  assert.deepEqual(usersWithDevices(users, devices, 'NGUYEN').map((u) => u.id), ['thu']);
  assert.deepEqual(usersWithDevices(users, devices, '03808').map((u) => u.id), ['minh']);
  assert.deepEqual(usersWithDevices(users, devices, 'nobody'), []);
  assert.equal(fold('Mường Lèo Đức'), 'muong leo duc');
});

test('a comment (ý kiến) as the report screen writes it passes the schema\'s rules for officials and reviewers, not for others', () => {
  const schema = new Schema(schemaJson());
  assert.deepEqual(['official', 'department', 'reviewer', 'admin'].map((r) => mayComment(schema, r)), [true, true, true, false]);
  const report = { id: '019e8b40-7d80-752e-89a7-834df2a74de4', unit_code: '03808' };
  const minh = { role: 'official', units: ['03808'], all_units: false, name: 'Lò Văn Minh' };
  const thu = { role: 'reviewer', units: [], all_units: true, name: 'Nguyễn Thị Thu' };
  const op = commentOp(report, minh, '  Đã bổ sung ảnh.  ', '2026-06-03');
  assert.deepEqual(op.f, { report: report.id, unit_code: '03808', body: 'Đã bổ sung ảnh.', author: 'Lò Văn Minh', written_on: '2026-06-03' });
  const none = () => null;
  assert.deepEqual(checkOps(schema, minh, [{ ...op, id: '019e8b40-7d80-752e-89a7-834df2a74de5' }], none), []);
  assert.deepEqual(checkOps(schema, thu, [{ ...commentOp(report, thu, 'Đề nghị bổ sung.', '2026-06-04'), id: '019e8b40-7d80-752e-89a7-834df2a74de6' }], none), []);
  // Another commune's official may not comment on Mường La's report.
  const lan = { role: 'official', units: ['03646'], all_units: false, name: 'Cầm Thị Lan' };
  const refused = checkOps(schema, lan, [{ ...commentOp(report, lan, 'x', '2026-06-04'), id: '019e8b40-7d80-752e-89a7-834df2a74de7' }], none);
  assert.equal(refused[0]?.code, 'forbidden_scope');
});

test('an accept without a comment clears the earlier return\'s reason, and only the current outcome\'s comment is shown', () => {
  const schema = new Schema(schemaJson());
  const thu = { role: 'reviewer', units: [], all_units: true, name: 'Nguyễn Thị Thu' };
  const id = '019e8b40-7d80-752e-89a7-834df2a74de4';
  // The report as it stands after a return and the official's resubmission.
  const stored = { id, unit_code: '03808', period: '2026-H1', indicator: 'CT-CAPNUOC-XA', value: 91, status: 'submitted', review_comment: 'Thiếu ảnh minh chứng.', reviewed_by: 'Nguyễn Thị Thu', author: 'Lò Văn Minh', recorded_on: '2026-06-02', recorded_at: '2026-06-02T03:00:00Z', device: 'a'.repeat(64) };
  const lookup = (t, rid) => (t === 'progress_report' && rid === id ? stored : null);
  const ops = decisionOps(stored, 'accepted', '', 'Nguyễn Thị Thu', '2026-06-08', '019e8b40-7d80-752e-89a7-834df2a74de9');
  assert.equal(ops[0].f.review_comment, null, 'the accept writes the comment field, empty');
  assert.equal(ops[1].f.comment, undefined);
  assert.deepEqual(checkOps(schema, thu, ops, lookup), [], 'the workflow lets an accept clear review_comment');
  const withText = decisionOps(stored, 'accepted', 'Tốt.', 'Nguyễn Thị Thu', '2026-06-08', '019e8b40-7d80-752e-89a7-834df2a74dea');
  assert.equal(withText[0].f.review_comment, 'Tốt.');
  assert.equal(withText[1].f.comment, 'Tốt.');
  const ret = decisionOps(stored, 'returned', 'Sai số liệu.', 'Nguyễn Thị Thu', '2026-06-08', '019e8b40-7d80-752e-89a7-834df2a74deb');
  assert.deepEqual(checkOps(schema, thu, ret, lookup), []);

  // Shown: the comment of the decision the report is in, from its review rows.
  const returnedRow = { id: 'r1', report: id, decision: 'returned', comment: 'Thiếu ảnh minh chứng.', reviewed_on: '2026-06-04' };
  const acceptedRow = { id: 'r2', report: id, decision: 'accepted', reviewed_on: '2026-06-08' };
  // Accepted by a client that left the old reason in place (tram-field): not shown.
  assert.equal(currentReviewComment({ ...stored, status: 'accepted' }, [returnedRow, acceptedRow]), '');
  assert.equal(currentReviewComment({ ...stored, status: 'accepted' }, [acceptedRow, returnedRow]), '', 'order of rows does not matter');
  assert.equal(currentReviewComment({ ...stored, status: 'accepted', review_comment: 'Tốt.' }, [returnedRow, { ...acceptedRow, comment: 'Tốt.' }]), 'Tốt.');
  assert.equal(currentReviewComment({ ...stored, status: 'returned' }, [returnedRow]), 'Thiếu ảnh minh chứng.');
  // Returned, resubmitted, returned again on the same day: the later row (by id) counts.
  assert.equal(currentReviewComment({ ...stored, status: 'returned', review_comment: 'Lần 2.' }, [returnedRow, { ...returnedRow, id: 'r3', comment: 'Lần 2.' }]), 'Lần 2.');
  assert.equal(currentReviewComment(stored, [returnedRow]), '', 'a resubmitted report shows no verdict yet');
  // Without review rows on the device: a return's reason (required) is shown, an accept's is not trusted.
  assert.equal(currentReviewComment({ ...stored, status: 'returned' }, []), 'Thiếu ảnh minh chứng.');
  assert.equal(currentReviewComment({ ...stored, status: 'accepted' }, []), '');
});
