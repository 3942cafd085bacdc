// One progress report: the form while it is a draft or returned for correction (generated from
// the schema's progress_report table), and a read-only view once it is sent or accepted, with its
// evidence photos, the reviewer's word and whether the province has received it.
import { h, toast } from '../dom.js';
import { t, fieldLabel, enumLabel } from '../i18n/index.js';
import { fmtDate, fmtNum, todayVN, periodLabel } from '../format.js';
import { refData, unitTitle, periodOf, targetText, itemTitle, uuid7, isoUtcSeconds, groupOf, currentReviewComment, valueText } from '../data.js';
import { fieldInput, showWriteProblems, focusFirstError as focusForm } from '../form.js';
import { photosField } from '../photos.js';
import { reportPills } from './todo.js';
import { link } from '../router.js';
import { historyBlock } from './history.js';

const T = 'progress_report';
// Filled in by the app, not typed: who, where, when, on which device, and the workflow fields.
const AUTO = new Set(['unit_code', 'indicator', 'task', 'period', 'author', 'recorded_on', 'recorded_at', 'device', 'status', 'review_comment', 'reviewed_by', 'measure', 'evidence']);

export default async function report(ctx) {
  const { dev, params } = ctx;
  const ref = await refData(dev);
  const schema = dev.schema;
  if (!schema) return h('div.screen', h('div.card.empty', h('p', t('todo.no_data'))));
  const wf = schema.table(T).workflow;
  const existing = params.id ? await dev.get(T, params.id) : null;
  if (params.id && !existing) return h('div.screen', h('p.card.empty', t('report.not_found')));
  const r = existing || { unit_code: params.unit || dev.principal.units?.[0], indicator: params.indicator || null, task: params.task || null, period: params.period, status: null };
  const ind = r.indicator ? ref.indicators.get(r.indicator) : null;
  const task = r.task ? ref.tasks.get(r.task) : ind?.task ? ref.tasks.get(ind.task) : null;
  const period = periodOf(ref, r.period);
  const status = r.status || wf.initial;
  const mine = dev.principal.role === 'official' || dev.principal.role === 'department';
  const editable = mine && (!existing || wf.editable.includes(status));
  ctx.setTitle(editable ? (existing ? t('report.edit_title') : t('report.new_title')) : t('report.view_title'), link(mine ? 'todo' : 'review', { period: r.period }));

  const group = groupOf(ref, r);
  const head = h('div.card.report-head',
    h('div.item-top', h('span.code', r.indicator || r.task || ''), existing && reportPills(status, existing._pending)),
    h('h2', itemTitle(ref, { indicator: ind, task, code: r.indicator || r.task })),
    group && h('div.small', `${group.code || group.id} · ${group.title || ''}`),
    ind && targetText(ind) && h('div', t('todo.target'), ': ', h('strong', targetText(ind)), ind.deadline ? ` · ${t('target.by', { date: fmtDate(ind.deadline) })}` : ''),
    h('div', unitTitle(ref, r.unit_code), ' · ', periodLabel(r.period)),
    period && h('div.small', t('todo.deadline', { date: fmtDate(period.unit_due) })));
  // The task as the programme words it (schema v3's task.text), folded: the title is short.
  // Below the form, so that the form stays where the official's thumb expects it.
  const wording = task?.text && task.text !== task.title &&
    h('details.card.task-text', h('summary', t('report.task_text')), h('p', task.text));

  const evidenceRows = existing ? await dev.query('evidence', (e) => e.report === existing.id) : [];
  const history = existing ? await historyBlock(dev, existing) : null;
  const reviews = existing ? await dev.query('review', (x) => x.report === existing.id).catch(() => []) : [];
  const reviewComment = currentReviewComment(existing, reviews);
  const returned = status === 'returned' && h('div.card.returned', { role: 'note' },
    h('h3', t('report.returned_title')),
    h('p.comment', reviewComment),
    existing.reviewed_by && h('p.small', t('report.returned_by', { name: existing.reviewed_by })),
    h('p.small', t('report.returned_help')));

  if (!editable) return h('div.screen', head, returned, viewBlock(dev, schema, { ...existing, review_comment: reviewComment }, ind, evidenceRows), wording, history);
  return h('div.screen', head, returned, formBlock(ctx, { schema, wf, existing, r, ind, period, evidenceRows }), wording, history);
}

// Shown elsewhere on the screen (the heading, the pills, the value's unit) or not for people.
const HIDDEN_IN_VIEW = new Set(['device', 'evidence', 'indicator', 'task', 'unit_code', 'period', 'status', 'measure', 'recorded_at']);

function viewBlock(dev, schema, row, ind, evidenceRows) {
  const rows = [];
  for (const f of schema.fields(T)) {
    const v = row[f.name];
    if (v == null || v === '' || HIDDEN_IN_VIEW.has(f.name)) continue;
    let shown = v;
    if (f.type === 'enum') shown = enumLabel(T, f.name, v);
    else if (f.type === 'date') shown = fmtDate(v);
    else if (f.name === 'value') shown = valueText(ind, v, row.measure || ind?.measure); // "Có"/"Không" for a yes_no answer
    else if (f.type === 'real' || f.type === 'integer') shown = fmtNum(v, 4);
    rows.push(h('dt', fieldLabel(f, T)), h('dd', shown));
  }
  const sent = row._pending ? h('p.note.warn', t('report.waiting_to_send')) : h('p.note.ok', '✓ ', t('report.received'), ' ', h('a', { href: link('outbox', { tab: 'receipts' }) }, t('report.see_receipts')));
  return h('div.card', sent, h('dl.fields', rows), photosField(dev, evidenceRows, { editable: false }).el);
}

function formBlock(ctx, { schema, wf, existing, r, ind, period, evidenceRows }) {
  const { dev } = ctx;
  const p = dev.principal;
  const inputs = new Map();
  const parts = [];
  for (const f of schema.fields(T)) {
    if (AUTO.has(f.name)) continue;
    const extra = {};
    if (f.name === 'value') {
      const measure = r.measure || ind?.measure;
      extra.unit = measure || '';
      if (ind?.kind === 'percent' || measure === '%') extra.max = 100;
      extra.yesNo = ind?.kind === 'yes_no'; // a choice Có / Không (1 / 0), not a number
      extra.hint = ind && targetText(ind) ? t('form.target_hint', { target: targetText(ind) }) : '';
    }
    if (f.name === 'progress') extra.hint = '';
    const input = fieldInput(T, f, existing?.[f.name] ?? null, extra);
    inputs.set(f.name, input);
    parts.push(input.el);
  }
  const photos = photosField(dev, evidenceRows, { editable: true, label: fieldLabel(schema.field(T, 'evidence'), T) });
  parts.push(photos.el);

  const topError = h('p.error', { role: 'alert' });
  const saveBtn = h('button.secondary.big', { type: 'button', onclick: () => save(false) }, t('report.save_draft'));
  const sendBtn = h('button.primary.big', { type: 'submit' }, existing?.status === 'returned' ? t('report.resubmit') : t('report.submit'));
  const del = existing && existing.status === wf.initial && h('button.link.danger', { type: 'button', onclick: remove }, t('report.delete_draft'));

  async function save(submit) {
    topError.textContent = '';
    const values = {};
    let bad = false;
    for (const [name, input] of inputs) {
      const v = input.read();
      input.setError('');
      if (v && typeof v === 'object' && v.error) {
        input.setError(v.error);
        bad = true;
      } else values[name] = v;
    }
    if (submit && values.progress == null && inputs.has('progress')) {
      inputs.get('progress').setError(t('form.choose_one'));
      bad = true;
    }
    if (bad) return focusFirstError();

    const now = Date.now();
    const id = existing?.id || uuid7(now);
    const f = {};
    if (!existing) {
      Object.assign(f, {
        unit_code: r.unit_code, period: r.period, author: p.name || p.user, recorded_on: todayVN(now), recorded_at: isoUtcSeconds(now),
        device: p.device, status: submit ? 'submitted' : wf.initial,
      });
      if (r.indicator) f.indicator = r.indicator;
      const taskCode = r.task || ind?.task;
      if (taskCode) f.task = taskCode;
      if (ind?.measure) f.measure = ind.measure;
      for (const [k, v] of Object.entries(values)) if (v != null) f[k] = v;
      if (!submit && f.progress == null) f.progress = 'not_started'; // required even in a draft
    } else {
      for (const [k, v] of Object.entries(values)) if (!same(v, existing[k])) f[k] = v;
      if (submit) {
        f.status = 'submitted';
        // A draft counts from the day it is sent, not the day it was started (the deadline is
        // on sending); a returned report keeps the date of its first submission (operations.md §8).
        if (existing.status === 'draft') {
          f.recorded_on = todayVN(now);
          f.recorded_at = isoUtcSeconds(now);
        }
      }
    }
    const newPhotos = photos.added();
    const gone = photos.removed();
    const first = photos.firstHash();
    if ((existing?.evidence || null) !== first && (first || existing?.evidence)) f.evidence = first;
    const ops = [];
    if (!existing || Object.keys(f).length) ops.push({ t: T, id, k: 'put', f });
    for (const ph of newPhotos) {
      ops.push({ t: 'evidence', id: uuid7(now), k: 'put', f: { report: id, unit_code: r.unit_code, file: ph.hash, caption: ph.caption.slice(0, 500), content_type: ph.contentType } });
    }
    for (const row of gone) ops.push({ t: 'evidence', id: row.id, k: 'del' });
    if (!ops.length) return toast(t('report.nothing_changed'), 'info');
    saveBtn.disabled = sendBtn.disabled = true;
    try {
      await dev.write(ops);
      toast(submit ? t('report.sent_toast') : t('report.saved_toast'));
      if (submit && navigator.onLine) ctx.syncNow?.().catch(() => {});
      ctx.go('report', { id });
    } catch (e) {
      showProblems(e);
    } finally {
      saveBtn.disabled = sendBtn.disabled = false;
    }
  }

  async function remove() {
    if (!confirm(t('report.delete_confirm'))) return;
    const ops = [{ t: T, id: existing.id, k: 'del' }, ...evidenceRows.map((e) => ({ t: 'evidence', id: e.id, k: 'del' }))];
    try {
      await dev.write(ops);
      toast(t('report.deleted_toast'));
      ctx.go('todo', { period: existing.period });
    } catch (e) {
      showProblems(e);
    }
  }

  const showProblems = (e) => showWriteProblems(e, { schema, table: T, inputs, form, topError });
  const focusFirstError = () => focusForm(form, topError);

  const form = h('form.card.report-form', { novalidate: true, onsubmit: (ev) => { ev.preventDefault(); save(true); } },
    parts, topError, h('div.actions', sendBtn, saveBtn), del,
    h('p.hint', t('report.sign_note')));
  return form;
}

function same(a, b) {
  return (a ?? null) === (b ?? null);
}
