// The schema (docs/schema-format.md; schemas/sonla-2026/v2.json) and the rules a device checks
// BEFORE it signs: the same as the engine's authorize() and check_value() (engine/src/
// authorize.cpp, schema.cpp), which the server runs on every push. A change set the server would
// refuse with forbidden_scope, forbidden_role, author_mismatch, invalid_value, not_found or
// workflow_violation is refused here first, offline, with a message an official can act on
// (Vietnamese first, then English, naming the field by its label).
//
// Values here are plain JS, by field type: integer Number (BigInt beyond 2^53), real Number,
// text/enum/ref string, boolean, date 'YYYY-MM-DD', attachment 64-hex string; null clears.
import { EN_LABELS } from './labels_en.js';
import { msg } from './messages.js';
import { codePoints, isValidDate, isValidRowId, isWellFormed, MAX_I64, MIN_I64, utf8Length } from './values.js';

const TAGS = { integer: 'i', real: 'r', text: 't', enum: 't', ref: 't', boolean: 'b', date: 'd', attachment: 'a' };
const MAX_TEXT_BYTES = 32 * 1024; // changeset-format.md §5

// Every string of a schema file is read as NFC (schema-format.md §1).
function nfcDeep(v) {
  if (typeof v === 'string') return v.normalize('NFC');
  if (Array.isArray(v)) return v.map(nfcDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nfcDeep(x)]));
  return v;
}

const humanize = (name) => name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, ' ');

export class Schema {
  /** `json`: a schema file's text or its parsed object. */
  constructor(json) {
    const src = nfcDeep(typeof json === 'string' ? JSON.parse(json) : json);
    if (typeof src?.schema !== 'string' || !Number.isInteger(src.version) || !Array.isArray(src.tables)) {
      throw new TypeError('not a schema: needs "schema", "version" and "tables"');
    }
    this.id = src.schema;
    this.version = src.version;
    this.label = src.label ?? '';
    const en = EN_LABELS[this.id] ?? {};
    this.tables = src.tables.map((t) => buildTable(t, en[t.name] ?? {}));
    this._tables = new Map(this.tables.map((t) => [t.name, t]));
  }

  /** The table definition, or null. */
  table(name) {
    return this._tables.get(name) ?? null;
  }

  /** The table's fields in array order, which is the order of a pulled row's cells (c[1]…). */
  fields(table) {
    const t = typeof table === 'string' ? this.table(table) : table;
    return t ? t.fields : [];
  }

  /** A field by name, or by numeric id (a number or a decimal string). */
  field(table, nameOrId) {
    const t = typeof table === 'string' ? this.table(table) : table;
    if (!t) return null;
    if (typeof nameOrId === 'number' || /^[0-9]+$/.test(nameOrId)) return t.byId.get(Number(nameOrId)) ?? null;
    return t.byName.get(nameOrId) ?? null;
  }
}

function buildTable(t, en) {
  const fields = t.fields.map((f) => ({
    ...f,
    required: f.required === true,
    merge: f.merge ?? 'field',
    tag: TAGS[f.type],
    labels: { vi: f.label || f.name, en: en[f.name] ?? humanize(f.name) },
    // RE2::FullMatch on the server: the whole value must match. ASCII patterns behave the same in
    // both engines (schema-format.md asks for them).
    regex: f.pattern ? new RegExp(`^(?:${f.pattern})$`) : null,
  }));
  const byName = new Map(fields.map((f) => [f.name, f]));
  const ids = (names = []) => names.map((n) => byName.get(n)?.id).filter((id) => id !== undefined);
  const rules = new Map();
  for (const r of t.write ?? []) {
    for (const role of r.roles) {
      rules.set(role, {
        insert: r.ops.includes('insert'), update: r.ops.includes('update'), delete: r.ops.includes('delete'),
        fields: r.fields?.length ? new Set(ids(r.fields)) : null,
      });
    }
  }
  let workflow = null;
  if (t.workflow) {
    const w = t.workflow;
    workflow = {
      field: byName.get(w.field).id, initial: w.initial, editable: w.editable ?? [], editors: w.editors ?? [], locked: w.locked ?? [],
      transitions: w.transitions.map((tr) => ({ from: tr.from, to: tr.to, roles: tr.roles, requires: ids(tr.requires), allows: ids(tr.allows) })),
    };
  }
  return {
    name: t.name,
    kind: t.kind ?? 'record',
    label: t.label ?? '',
    labels: { vi: t.label || t.name, en: en._table ?? humanize(t.name) },
    scope: t.scope ? byName.get(t.scope) : null,
    author: t.author ? byName.get(t.author) : null,
    province_wide: t.province_wide === true,
    fields, byName, byId: new Map(fields.map((f) => [f.id, f])), rules, workflow,
  };
}

// ---- values --------------------------------------------------------------------------------

// plain -> { raw } or { problem: [rule, message] }; texts come back NFC.
function convert(f, plain) {
  if (plain === null) return { raw: null };
  const bad = () => ({ problem: ['type', msg.type(f.labels, f.type)] });
  switch (f.type) {
    case 'integer':
      if (typeof plain === 'bigint') {
        if (plain < MIN_I64 || plain > MAX_I64) return { problem: ['type', msg.tooBig(f.labels)] };
        return { raw: ['i', Number.isSafeInteger(Number(plain)) ? Number(plain) : plain] };
      }
      if (typeof plain !== 'number' || !Number.isInteger(plain)) return bad();
      if (!Number.isSafeInteger(plain)) return { problem: ['type', msg.tooBig(f.labels)] };
      return { raw: ['i', plain] };
    case 'real':
      return typeof plain === 'number' && Number.isFinite(plain) ? { raw: ['r', plain] } : bad();
    case 'text': case 'enum': case 'ref': {
      if (typeof plain !== 'string') return bad();
      if (!isWellFormed(plain)) return { problem: ['text', msg.badText(f.labels)] };
      const s = plain.normalize('NFC');
      if (utf8Length(s) > MAX_TEXT_BYTES) return { problem: ['max_bytes', msg.textBytes(f.labels)] };
      return { raw: ['t', s] };
    }
    case 'boolean':
      return typeof plain === 'boolean' ? { raw: ['b', plain] } : bad();
    case 'date':
      return isValidDate(plain) ? { raw: ['d', plain] } : bad();
    case 'attachment':
      return typeof plain === 'string' && /^[0-9a-fA-F]{64}$/.test(plain) ? { raw: ['a', plain.toLowerCase()] } : bad();
    default:
      return bad();
  }
}

/** The change-set value of a plain value for field `f` (throws if it does not fit; checkOps says why). */
export function toWireValue(f, plain) {
  const c = convert(f, plain);
  if (c.problem) throw new TypeError(c.problem[1].en);
  return c.raw;
}

/** The plain value of a change-set value: null or the v of [tag, v]. */
export function fromWireValue(raw) {
  return raw === null ? null : raw[1];
}

/**
 * A plain op { t, id, k, f: { fieldName: plainValue } } as a change-set op { t, id, k, f:
 * { fieldId: [tag, v] } } (no bases: the device adds `b` from its stored cells). Run checkOps first.
 */
export function opToWire(schema, op) {
  const t = schema.table(op.t);
  if (!t) throw new TypeError(`no table ${op.t}`);
  const out = { t: op.t, id: op.id, k: op.k };
  if (op.k === 'put') {
    out.f = {};
    for (const [name, plain] of Object.entries(op.f ?? {})) {
      if (plain === undefined) continue;
      const f = schema.field(t, name);
      if (!f) throw new TypeError(`${op.t}: no field ${name}`);
      out.f[f.id] = toWireValue(f, plain);
    }
  }
  return out;
}

const isNull = (raw) => raw === null || raw === undefined;
const sameRaw = (a, b) => {
  if (isNull(a) || isNull(b)) return isNull(a) && isNull(b);
  if (a[0] !== b[0]) return false;
  if (a[0] === 'i') return BigInt(a[1]) === BigInt(b[1]);
  return a[1] === b[1]; // reals compare as doubles: -0 equals 0, as in C++
};

// check_value after the type: min/max, then max_length, enum, ref syntax, pattern.
function constraint(f, raw) {
  if (raw === null) return f.required ? ['required', msg.required(f.labels)] : null;
  if (raw[0] === 'i' || raw[0] === 'r') {
    const d = Number(raw[1]);
    if (f.min !== undefined && d < f.min) return ['min', msg.min(f.labels, f.min)];
    if (f.max !== undefined && d > f.max) return ['max', msg.max(f.labels, f.max)];
  }
  if (raw[0] === 't') {
    const s = raw[1];
    const n = codePoints(s);
    if (f.max_length !== undefined && n > f.max_length) return ['max_length', msg.maxLength(f.labels, f.max_length, n)];
    if (f.type === 'enum' && !f.values.includes(s)) return ['enum', msg.oneOf(f.labels, f.values)];
    if (f.type === 'ref' && !isValidRowId(s)) return ['ref', msg.badRef(f.labels)];
    if (f.regex && !f.regex.test(s)) return ['pattern', msg.pattern(f.labels)];
  }
  return null;
}

// ---- the value against its indicator's range (docs/schema-format.md §9.1) -------------------
// The engine's rule (engine/src/authorize.cpp: indicator_value_range, check_value_range,
// check_indicator_value), word for word; tests/golden/indicator-values.json is checked by both.

const trimSpaces = (s) => String(s ?? '').replace(/^[ \t]+|[ \t]+$/g, '');

/** "%" or "phần trăm" (trimmed; ASCII letters in any case). */
export function isPercentMeasure(measure) {
  const m = trimSpaces(measure).replace(/[A-Z]/g, (c) => c.toLowerCase());
  return m === '%' || m === 'phần trăm';
}

/**
 * The range of a value: { kind: 'any' | 'percent' | 'count' | 'yes_no', measure } from the
 * indicator's kind and measure and the report's own measure ('' or null when absent or unknown).
 * A yes_no indicator comes first: its measure ("%") is the province share, a unit answers 1/0.
 */
export function indicatorValueRange(indicatorKind, indicatorMeasure, reportMeasure) {
  const im = trimSpaces(indicatorMeasure);
  const rm = trimSpaces(reportMeasure);
  if (indicatorKind === 'yes_no') return { kind: 'yes_no', measure: im };
  if (rm !== '' && rm !== im) return { kind: isPercentMeasure(rm) ? 'percent' : 'any', measure: rm };
  if (indicatorKind === 'percent' || isPercentMeasure(im)) return { kind: 'percent', measure: im };
  if (indicatorKind === 'count') return { kind: 'count', measure: im };
  return { kind: 'any', measure: im };
}

/** null when `value` fits `range`, else the rule it breaks: 'percent', 'count', 'yes_no' or 'negative'. */
export function checkValueRange(range, value) {
  const finite = Number.isFinite(value);
  if (range.kind === 'yes_no') return value === 0 || value === 1 ? null : 'yes_no';
  if (range.kind === 'percent') return finite && value >= 0 && value <= 100 ? null : 'percent';
  if (range.kind === 'count') return finite && value >= 0 && Math.floor(value) === value ? null : 'count';
  return value < 0 ? 'negative' : null;
}

// The tables that take part: a numeric `value`, a ref `indicator` to a table with `kind` and
// `measure`; the report's own text `measure` is the value's unit.
function indicatorProblem(schema, t, written, after, lookupRow) {
  const valueF = t.byName.get('value');
  const indF = t.byName.get('indicator');
  if (!valueF || !indF || indF.type !== 'ref' || (valueF.type !== 'real' && valueF.type !== 'integer')) return null;
  const indT = schema.table(indF.table);
  if (!indT || !indT.byName.has('kind') || !indT.byName.has('measure')) return null;
  const measureF = t.byName.get('measure');
  if (!written.has(valueF.id) && !written.has(indF.id) && !(measureF && written.has(measureF.id))) return null;
  const v = after(valueF);
  if (!v || (v[0] !== 'r' && v[0] !== 'i')) return null;
  const value = Number(v[1]);
  const text = (raw) => (raw && raw[0] === 't' ? raw[1] : '');
  const reportMeasure = measureF ? text(after(measureF)) : '';
  const code = text(after(indF));
  const ind = code ? lookupRow(indT.name, code) ?? null : null;
  const range = indicatorValueRange(ind?.kind ?? '', ind?.measure ?? '', reportMeasure);
  const rule = checkValueRange(range, value);
  return rule ? { field: valueF, rule, message: msg.range(valueF.labels, rule, range.measure, value) } : null;
}

// ---- checkOps ------------------------------------------------------------------------------

/**
 * Every problem the server's authorize() would refuse these ops for, as
 * [{ table, id, field /* name or null *\/, code, rule, message: { vi, en } }]; [] means sign.
 *
 * principal: { role, units, all_units, name } (the enrolment / GET /v1/me answer).
 * ops: [{ t, id, k: 'put'|'del', f: { fieldName: plainValue } }] — one op per row, as the
 *   server checks every op against the rows as they were BEFORE the change set.
 * lookupRow(table, id): the row as this device knows it, { fieldName: plainValue, _deleted? }
 *   (a deleted row still counts: it keeps its unit and immutable fields), or null if unknown.
 *
 * Unlike authorize(), which stops at the first refusal, this reports them all, so that a form
 * can mark every field at once.
 */
export function checkOps(schema, principal, ops, lookupRow = () => null) {
  const problems = [];
  for (const op of ops) checkOp(schema, principal, op, lookupRow, problems);
  return problems;
}

function checkOp(schema, who, op, lookupRow, problems) {
  const t = schema.table(op.t);
  const add = (field, code, rule, message) => problems.push({ table: op.t, id: op.id ?? null, field: field?.name ?? null, code, rule, message });
  if (!t) return add(null, 'invalid_value', 'table', msg.unknownTable(op.t));
  const T = t.labels;
  if (op.id !== undefined && !isValidRowId(op.id)) return add(null, 'invalid_value', 'row_id', msg.badRowId(T));
  if (op.k !== 'put' && op.k !== 'del') return add(null, 'invalid_value', 'op', msg.badOp(T, op.k));
  const rule = t.rules.get(who.role);
  if (!rule) return add(null, 'forbidden_role', 'role', msg.roleTable(T, who.role));

  const row = op.id === undefined ? null : lookupRow(t.name, op.id) ?? null;
  const known = row !== null;
  const exists = known && !row._deleted;
  const current = (f) => {
    if (!known || row[f.name] === undefined || row[f.name] === null) return null;
    const c = convert(f, row[f.name]);
    return c.problem ? null : c.raw;
  };

  // The written fields, converted; a value of the wrong type is reported here once.
  const written = new Map(); // field id -> raw
  const entries = Object.entries(op.f ?? {}).filter(([, v]) => v !== undefined);
  if (op.k === 'del' && entries.length) return add(null, 'invalid_value', 'del_fields', msg.delFields(T));
  const broken = new Set();
  for (const [name, plain] of entries) {
    // Plain ops name fields; a numeric key would be a field id, which belongs to the wire form.
    const f = /^[0-9]+$/.test(name) ? null : schema.field(t, name);
    if (!f) {
      add(null, 'invalid_value', 'field', msg.unknownField(T, name));
      continue;
    }
    const c = convert(f, plain);
    if (c.problem) {
      add(f, 'invalid_value', c.problem[0], c.problem[1]);
      broken.add(f.id);
    } else {
      written.set(f.id, c.raw);
    }
  }
  const after = (f) => (written.has(f.id) ? written.get(f.id) : known ? current(f) : null);
  const isWritten = (f) => written.has(f.id) || broken.has(f.id);

  // 1. Role and op.
  if (op.k === 'del' && !known) return add(null, 'not_found', 'not_found', msg.noRow(T));
  const insert = op.k === 'put' && !exists;
  if (op.k === 'del' && !rule.delete) return add(null, 'forbidden_role', 'delete', msg.roleDelete(T, who.role));
  if (insert && !rule.insert) return add(null, 'forbidden_role', 'insert', msg.roleInsert(T, who.role));
  if (op.k === 'put' && exists && !rule.update) return add(null, 'forbidden_role', 'update', msg.roleUpdate(T, who.role));
  if (rule.fields) {
    for (const id of [...written.keys(), ...broken]) {
      if (!rule.fields.has(id)) add(t.byId.get(id), 'forbidden_role', 'field', msg.roleField(t.byId.get(id).labels, who.role));
    }
  }

  // 2. Scope, before and after the op; author.
  const requiredSaid = new Set(); // fields already reported as missing
  const inScope = (unit) => who.all_units === true || (who.units ?? []).includes(unit);
  if (t.scope) {
    const sf = t.scope;
    const units = new Set();
    if (known && current(sf)) units.add(current(sf)[1]);
    if (op.k === 'put' && after(sf)?.[0] === 't') units.add(after(sf)[1]);
    for (const unit of units) if (!inScope(unit)) add(sf, 'forbidden_scope', 'scope', msg.scope(sf.labels, unit));
    if (insert && !isWritten(sf) && !known) {
      add(sf, 'invalid_value', 'required', msg.scopeRequired(sf.labels));
      requiredSaid.add(sf.id);
    }
  } else if (!who.all_units && t.kind === 'reference') {
    add(null, 'forbidden_scope', 'province_wide', msg.provinceWide(T));
  }
  if (t.author && who.name && written.has(t.author.id)) {
    const w = written.get(t.author.id);
    if (w === null || w[1] !== who.name) add(t.author, 'author_mismatch', 'author', msg.author(t.author.labels, who.name));
  }

  // 3. Values: the value against its indicator's range (first, as authorize() does, so that an
  // official reads it rather than the schema's "min 0"); constraints; immutable after creation.
  // 4. Required at insert.
  const ranged = op.k === 'put' ? indicatorProblem(schema, t, written, after, lookupRow) : null;
  if (ranged) add(ranged.field, 'invalid_value', ranged.rule, ranged.message);
  for (const [id, raw] of written) {
    const f = t.byId.get(id);
    if (ranged && ranged.field === f) continue;
    const problem = constraint(f, raw);
    if (problem) add(f, 'invalid_value', problem[0], problem[1]);
    else if (f.merge === 'immutable' && known && current(f) !== null && !sameRaw(current(f), raw)) {
      add(f, 'invalid_value', 'immutable', msg.immutable(f.labels));
    }
  }
  if (insert) {
    for (const f of t.fields) {
      if (f.required && !isWritten(f) && after(f) === null && !requiredSaid.has(f.id)) add(f, 'invalid_value', 'required', msg.required(f.labels));
    }
  }

  // 5. Workflow.
  // (A state of the wrong type was reported above; judging transitions from it would only add noise.)
  if (t.workflow && !broken.has(t.workflow.field)) checkWorkflow(t, who, op, { exists, insert, written, after, current, add });
}

function checkWorkflow(t, who, op, { exists, insert, written, after, current, add }) {
  const wf = t.workflow;
  const T = t.labels;
  const sf = t.byId.get(wf.field);
  const text = (raw) => (raw && raw[0] === 't' ? raw[1] : '');
  const cur = exists ? text(current(sf)) : '';
  const next = written.has(wf.field) && written.get(wf.field) ? text(written.get(wf.field)) : cur;
  let transition = null;
  const find = (from, to) => wf.transitions.find((tr) => tr.from === from && tr.to === to) ?? null;
  if (insert) {
    if (!written.has(wf.field)) return add(sf, 'invalid_value', 'required', msg.stateRequired(sf.labels));
    if (next !== wf.initial) {
      transition = find(wf.initial, next);
      if (!transition) return add(sf, 'workflow_violation', 'start_state', msg.startState(T, wf.initial, next));
    }
  } else {
    if (wf.locked.includes(cur)) return add(null, 'workflow_violation', 'locked', msg.locked(T, cur));
    if (next !== cur) {
      transition = find(cur, next);
      if (!transition) return add(sf, 'workflow_violation', 'transition', msg.noTransition(T, cur, next));
    }
    // Other fields change only in an editable state (by its editors), or with the transition.
    const editor = wf.editors.length === 0 || wf.editors.includes(who.role);
    const editable = wf.editable.includes(cur) && editor;
    for (const id of written.keys()) {
      if (id === wf.field || editable) continue;
      const part = transition && (transition.requires.includes(id) || transition.allows.includes(id));
      if (!part) add(t.byId.get(id), 'workflow_violation', 'not_editable', msg.notEditable(t.byId.get(id).labels, cur));
    }
    if (op.k === 'del' && !editable) return add(null, 'workflow_violation', 'not_deletable', msg.notDeletable(T, cur));
  }
  if (transition) {
    if (!transition.roles.includes(who.role)) {
      return add(sf, 'workflow_violation', 'transition_role', msg.transitionRole(T, who.role, transition.from, transition.to));
    }
    for (const id of transition.requires) {
      const v = after(t.byId.get(id));
      if (v === null || (v[0] === 't' && v[1] === '')) {
        add(t.byId.get(id), 'workflow_violation', 'requires', msg.transitionNeeds(T, t.byId.get(id).labels, transition.from, transition.to));
      }
    }
  }
  return undefined;
}
