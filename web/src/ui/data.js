// What the screens read from the device's replica: reference data (units, groups, tasks,
// indicators, periods) and the rule for what a unit owes in a period. The rule is the report
// library's (report/src/province.cpp due_for_unit, timeliness.cpp judge; docs/operations.md §8),
// so the phone, tram-field and the province report agree on "on time", "late" and "missing".
import { todayVN } from './format.js';
import { t } from './i18n/index.js';
import { fmtNum } from './format.js';

let cache = null;
let cacheDev = null;

// Reference rows change only when a sync brings new ones: the caller drops the cache on 'change'.
export function invalidate() {
  cache = null;
}

export async function refData(dev) {
  if (cache && cacheDev === dev) return cache;
  cacheDev = dev;
  // agency and task_reporter: schema v3 (a device on an older schema has none: q answers []).
  const [units, groups, tasks, indicators, periods, indicatorUnits, agencies, taskReporters] = await Promise.all(
    ['unit', 'task_group', 'task', 'indicator', 'reporting_period', 'indicator_unit', 'agency', 'task_reporter'].map((n) => q(dev, n)));
  const byId = (rows) => new Map(rows.map((r) => [r.id, r]));
  const iu = new Map();
  for (const r of indicatorUnits) {
    if (!iu.has(r.indicator)) iu.set(r.indicator, []);
    iu.get(r.indicator).push(r.unit_code);
  }
  periods.sort((a, b) => (a.unit_due < b.unit_due ? -1 : a.unit_due > b.unit_due ? 1 : a.id < b.id ? -1 : 1));
  groups.sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  const tr = new Map();
  for (const r of taskReporters) {
    if (!tr.has(r.task)) tr.set(r.task, []);
    tr.get(r.task).push(r.unit_code);
  }
  cache = {
    units: byId(units), agencies: byId(agencies), groups: byId(groups), groupList: groups, tasks: byId(tasks), indicators: byId(indicators),
    periods, indicatorUnits: iu, taskReporters: tr,
  };
  return cache;
}

async function q(dev, table, pred) {
  try {
    return (await dev.query(table, pred)) || [];
  } catch {
    return [];
  }
}

// "Xã Mường La", "Phường Tô Hiệu": the type and the name, as people say it.
export function unitTitle(ref, code) {
  if (!code) return t('unit.province');
  const u = ref?.units.get(code);
  if (!u) return ref?.agencies?.get(code)?.name || code;  // a department: by its own name
  const type = u.type === 'phường' ? t('unit.ward') : t('unit.commune');
  return `${type} ${u.name}`;
}

export function periodOf(ref, code) {
  return ref.periods.find((p) => p.id === code || p.code === code) || null;
}

// The period being reported on: the first whose unit deadline has not passed, else the last.
export function currentPeriod(ref, today = todayVN()) {
  return ref.periods.find((p) => p.unit_due >= today) || ref.periods[ref.periods.length - 1] || null;
}

export const isSubmitted = (s) => s === 'submitted' || s === 'accepted' || s === 'returned';

// Timeliness of one report (or of none) against a period's unit deadline; see timeliness.hpp.
export function judge(status, recordedOn, receivedMs, unitDue, today) {
  if (!isSubmitted(status)) return { timeliness: 'missing', overdue: !!today && today > unitDue, behind: !!today && today > unitDue };
  let counted = recordedOn || '';
  let capped = false;
  if (receivedMs != null) {
    const received = todayVN(receivedMs);
    if (!counted || received < counted) {
      capped = !!counted;
      counted = received;
    }
  }
  const timeliness = counted && counted <= unitDue ? 'on_time' : 'late';
  return { timeliness, counted, capped, overdue: false, behind: timeliness === 'late' };
}

// ---- against the target, at the deadline (report/src/province.cpp deadline_phase, judge_target,
// target_met_by, expected_units; docs/operations.md §8 "After the deadline") ---------------------

/** Where period `p` stands against the indicator's deadline: 'none', 'before', 'at' or 'after'. */
export function deadlinePhase(ind, p) {
  if (!ind.deadline) return 'none';
  if (p.ends < ind.deadline) return 'before';
  if (p.starts > ind.deadline) return 'after';
  return 'at';
}

// A unit of measure as people write it: ASCII case and spaces do not count, "phần trăm" is "%".
function foldedMeasure(m) {
  const out = String(m ?? '').replace(/[ \t]/g, '').replace(/[A-Z]/g, (c) => c.toLowerCase());
  return out === 'phầntrăm' || out === 'phantram' ? '%' : out;
}

/**
 * The report's target_status for indicator `ind` in period `p`, given the unit's report (or
 * null): 'not_due', 'met', 'not_met', 'overdue', 'not_comparable', or '' (nothing to judge).
 */
export function judgeTarget(ind, p, report) {
  const numeric = ind.target != null && !!ind.comparator && ind.comparator !== 'none';
  const value = report?.value ?? null;
  const measure = report?.measure || '';
  // A value in another unit than the target's is never compared, whatever the period (a
  // yes_no answer has no unit: its "%" is the province share's).
  if (report && numeric && ind.kind !== 'yes_no' && value != null && measure && ind.measure && foldedMeasure(measure) !== foldedMeasure(ind.measure)) return 'not_comparable';
  const phase = deadlinePhase(ind, p);
  if (phase === 'before') return 'not_due';
  let met = null;
  if (report) {
    if (ind.kind === 'yes_no') met = value === 1; // the unit's answer, as province.cpp judge_target
    else if (numeric) met = meetsTarget(ind, value);
    else if (report.progress === 'done') met = true;
    else if (phase !== 'none') met = false; // a milestone not done by its deadline
  }
  if (phase === 'after') return met ? 'met' : 'overdue';
  // No date in the programme (the 4-lane widening): short of the target is progress, not "not met".
  if (phase === 'none' && met === false) return 'not_due';
  if (met == null) return '';
  return met ? 'met' : 'not_met';
}

/** Did `unit`'s latest submitted report, from the deadline's period up to `p`, meet the target? */
export function targetMetBy(ref, reports, ind, p, unit) {
  let latest = null;
  let met = false;
  for (const r of reports) {
    if (r.indicator !== ind.id || r.unit_code !== unit || !isSubmitted(r.status)) continue;
    const q = periodOf(ref, r.period);
    if (!q || q.ends < ind.deadline || q.ends > p.ends) continue;
    const m = judgeTarget(ind, q, r) === 'met';
    if (!latest || q.ends > latest.ends) {
      latest = q;
      met = m;
    } else if (q.ends === latest.ends) {
      met = met || m;
    }
  }
  return met;
}

// Is the indicator expected from `unit` in `p`? Once it has started: before and at its deadline,
// and after it while the unit has not met the target (shown overdue), unless no period holds the
// deadline (it ended before the programme and was never judged).
function expectedIn(ref, reports, ind, p, unit) {
  if (ind.start && ind.start > p.ends) return false;
  if (deadlinePhase(ind, p) !== 'after') return true;
  if (!ref.periods.some((q) => deadlinePhase(ind, q) === 'at')) return false;
  return !targetMetBy(ref, reports, ind, p, unit);
}

function splitCodes(s) {
  return (s || '').split(',').map((x) => x.trim()).filter(Boolean);
}

// Does an indicator apply to `unit`? A scoped device only receives its own units' indicator_unit
// rows (the table is scoped), so "no rows here" must not be read as "every unit" for a listed
// indicator: only an indicator for all communes and wards applies without a row.
function indicatorApplies(ref, ind, unit) {
  const listed = ref.indicatorUnits.get(ind.id);
  if (listed?.length) return listed.includes(unit);
  // …and only to communes and wards, not to a department (schema v3 agency).
  return ind.applies_to === 'all_communes_and_wards' && !ref.agencies?.has(unit);
}

// Who reports on a task: the units the programme names, then task_reporter's (province.cpp
// task_reporters).
function taskReporters(ref, task) {
  const out = splitCodes(task?.units);
  for (const r of ref.taskReporters?.get(task?.id) || []) if (!out.includes(r)) out.push(r);
  return out;
}

const rank = (s) => ({ draft: 1, returned: 2, submitted: 3, accepted: 4 })[s] || 0;

// What `unit` owes for period `p`: one item per indicator and per task expected from it, plus
// any other item it reported on. Each item carries its best report and its standing.
export function dueForUnit(ref, reports, p, unit, today = todayVN()) {
  const items = new Map();
  const add = (kind, code) => {
    const key = kind + ':' + code;
    if (items.has(key)) return;
    const item = { kind, code, unit, period: p.id, indicator: kind === 'indicator' ? ref.indicators.get(code) : null, task: kind === 'task' ? ref.tasks.get(code) : null, report: null };
    for (const r of reports) {
      if (r.period !== p.id || r.unit_code !== unit) continue;
      if (kind === 'indicator' ? r.indicator !== code : r.indicator || r.task !== code) continue;
      if (!item.report || rank(r.status) > rank(item.report.status)) item.report = r;
    }
    item.state = item.report ? item.report.status : 'missing';
    item.standing = judge(item.report?.status, item.report?.recorded_on, item.report?._received_ms, p.unit_due, today);
    item.targetStatus = item.indicator ? judgeTarget(item.indicator, p, item.report) : '';
    items.set(key, item);
  };
  for (const ind of ref.indicators.values()) {
    // A province-wide indicator is owed by the reporters of its task (a department), if any.
    const applies = ind.applies_to === 'province'
      ? (ref.taskReporters?.get(ind.task) || []).includes(unit)
      : indicatorApplies(ref, ind, unit);
    if (applies && expectedIn(ref, reports, ind, p, unit)) add('indicator', ind.id);
  }
  for (const task of ref.tasks.values()) {
    if (taskReporters(ref, task).includes(unit) && (!task.deadline || task.deadline >= p.starts)) add('task', task.id);
  }
  for (const r of reports) {
    if (r.period !== p.id || r.unit_code !== unit) continue;
    if (r.indicator) add('indicator', r.indicator);
    else if (r.task) add('task', r.task);
  }
  return [...items.values()];
}

export function itemTitle(ref, item) {
  const ind = item.indicator || (item.report?.indicator && ref.indicators.get(item.report.indicator));
  if (ind) return ind.title;
  const task = item.task || (item.report?.task && ref.tasks.get(item.report.task));
  return task ? task.title : item.code;
}

// The task group a report or item belongs to (through its indicator's task, or its task).
export function groupOf(ref, { indicator, task }) {
  const ind = indicator && ref.indicators.get(indicator);
  const taskCode = ind?.task || task;
  const tk = taskCode && ref.tasks.get(taskCode);
  return tk ? ref.groups.get(tk.task_group) || { id: tk.task_group, code: tk.task_group } : null;
}

// The target as read: "> 96 %", "2–3 bác sĩ/trạm", "hoàn thành (mốc)"; for a unit's yes_no
// answer "Có" (its "= 100 %" is the province share's: { share: true } reads that one).
export function targetText(ind, { share = false } = {}) {
  if (!ind) return '';
  if (ind.kind === 'yes_no' && !share) return t('target.yes');
  const m = ind.measure ? (ind.measure === '%' ? ' %' : ' ' + ind.measure) : '';
  if (ind.comparator === 'range' && ind.target != null && ind.target_max != null) return `${fmtNum(ind.target)}–${fmtNum(ind.target_max)}${m}`;
  if (ind.comparator && ind.comparator !== 'none' && ind.target != null) return `${ind.comparator === '>=' ? '≥' : ind.comparator} ${fmtNum(ind.target)}${m}`;
  return ind.kind === 'milestone' ? t('target.milestone') : '';
}

// Does a value meet the indicator's target? (province.cpp meets(): reaching a range's minimum
// counts; a unit's yes_no answer meets it when it is 1.)
export function meetsTarget(ind, value) {
  if (!ind || value == null) return null;
  if (ind.kind === 'yes_no') return value === 1;
  if (ind.target == null) return null;
  switch (ind.comparator) {
    case '>': return value > ind.target;
    case '>=': return value >= ind.target;
    case '=': return Math.abs(value - ind.target) < 1e-9;
    case 'range': return value >= ind.target;
    default: return null;
  }
}

// A unit's value as read: "Có"/"Không" for a yes_no answer, else the number with its unit.
export function valueText(ind, value, measure = ind?.measure) {
  if (value == null) return '';
  if (ind?.kind === 'yes_no' && (value === 1 || value === 0)) return t(value === 1 ? 'answer.yes' : 'answer.no');
  return fmtNum(value, 4) + (measure ? ' ' + measure : '');
}

// The reviewer's comment that goes with the report's current outcome, or ''. review_comment is a
// field of the report that a decision may leave alone (an accept without a comment by tram-field,
// or by this app before it cleared it), so an accepted report could still carry the reason it
// was once returned for. The review rows (insert-only, one per decision, written in the same
// change set as the status) say which decision a comment belongs to.
export function currentReviewComment(report, reviews = []) {
  if (!report || (report.status !== 'accepted' && report.status !== 'returned')) return '';
  let last = null;
  for (const r of reviews) {
    if (r.report !== report.id) continue;
    // Latest by date, then by id (UUIDv7: time-ordered), as the history lists them.
    if (!last || r.reviewed_on > last.reviewed_on || (r.reviewed_on === last.reviewed_on && r.id > last.id)) last = r;
  }
  if (last && last.decision === report.status) return last.comment || '';
  // No review row for this outcome on the device: only a return's reason is sure to be its own
  // (a return requires a comment).
  return report.status === 'returned' ? report.review_comment || '' : '';
}

// Row ids in the SDK's style (UUIDv7: time-ordered, random), made here so that a report and its
// evidence rows can name each other within one signed change set.
export function uuid7(nowMs = Date.now()) {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = nowMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The moment a record was made, in the schema's recorded_at pattern (UTC, whole seconds).
export function isoUtcSeconds(ms = Date.now()) {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}
