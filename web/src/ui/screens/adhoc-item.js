// One ad hoc report (báo cáo đột xuất): the official's form while it is new or a draft (kind as
// two plain choices, subject, body, proposal, the related task if any), saved on the phone and
// sent through the device's signed write path like a progress report; a read-only view once sent,
// with the Department of Finance's response once acknowledged; and, for a reviewer, the
// acknowledgement ("Đã tiếp nhận") with its required response.
import { h, toast } from '../dom.js';
import { t, fieldLabel, enumLabel } from '../i18n/index.js';
import { fmtDate } from '../format.js';
import { refData, unitTitle, uuid7, invalidate } from '../data.js';
import { on } from '../events.js';
import { fieldInput, showWriteProblems, focusFirstError as focusForm } from '../form.js';
import { problemMessage, problemText } from '../errors.js';
import { link } from '../router.js';
import { T, adhocPut, ackOps, missingFields, adhocPill, isReviewer } from './adhoc.js';

export default async function adhocItem(ctx) {
  const { dev, params } = ctx;
  const p = dev.principal;
  const schema = dev.schema;
  if (!schema?.table(T)) return h('div.screen', h('div.card.empty', h('p', t('adhoc.not_in_schema'))));
  const ref = await refData(dev);
  const existing = params.id ? await dev.get(T, params.id) : null;
  if (params.id && !existing) return h('div.screen', h('p.card.empty', t('adhoc.not_found')));
  const author = p.role === 'official' || p.role === 'department';
  const editable = author && (!existing || schema.table(T).workflow.editable.includes(existing.status));
  ctx.setTitle(editable ? (existing ? t('adhoc.edit_title') : t('adhoc.new_title')) : t('adhoc.view_title'), link('adhoc'));
  const unit = existing?.unit_code || p.units?.[0];
  const head = h('div.card.report-head',
    existing && h('div.item-top', h('span.code', enumLabel(T, 'kind', existing.kind)), adhocPill(existing.status, existing._pending)),
    existing && h('h2', existing.subject),
    h('div', unitTitle(ref, unit)));
  if (editable) return h('div.screen', head, formBlock(ctx, { schema, ref, existing, unit }));
  const ack = isReviewer(p) && existing.status === 'submitted' ? ackForm(ctx, existing) : null;
  redrawOnChange(ctx, existing.id);
  return h('div.screen', head, viewBlock(schema, ref, existing), responseBlock(existing), ack);
}

// A sent report changes while it is on screen (the server's receipt, the response arriving with a
// sync): redraw the view when the device's data changes, as the live lists do, but never over a
// response being typed.
function redrawOnChange(ctx, id) {
  const { dev } = ctx;
  if (!dev.on) return;
  let timer = 0;
  ctx.cleanup(on(dev, 'change', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (document.querySelector('#response')?.value || document.activeElement?.matches?.('input, textarea, select')) return;
      invalidate();
      ctx.go('adhoc-item', { id });
    }, 400);
  }));
  ctx.cleanup(() => clearTimeout(timer));
}

function taskTitle(ref, code) {
  const tk = code && ref.tasks.get(code);
  return tk ? `${code} · ${tk.title}` : code || '';
}

// Shown in the heading or not for people.
const HIDDEN = new Set(['unit_code', 'subject', 'status', 'device', 'recorded_at', 'response', 'responded_by']);

function viewBlock(schema, ref, row) {
  const facts = [];
  for (const f of schema.fields(T)) {
    const v = row[f.name];
    if (v == null || v === '' || HIDDEN.has(f.name)) continue;
    const shown = f.type === 'enum' ? enumLabel(T, f.name, v) : f.type === 'date' ? fmtDate(v) : f.name === 'task' ? taskTitle(ref, v) : v;
    facts.push(h('dt', fieldLabel(f, T)), h('dd', shown));
  }
  const state = row._pending ? h('p.note.warn', t('adhoc.waiting_to_send'))
    : row.status === 'submitted' ? h('p.note', t('adhoc.awaiting_response')) : null;
  return h('div.card', state, h('dl.fields', facts));
}

function responseBlock(row) {
  if (row.status !== 'acknowledged') return null;
  return h('section.card.adhoc-response', { role: 'note' },
    h('h3', t('adhoc.response_title')),
    h('p.comment', row.response || ''),
    row.responded_by && h('p.small', t('adhoc.responded_by', { name: row.responded_by })));
}

function formBlock(ctx, { schema, ref, existing, unit }) {
  const { dev } = ctx;
  const p = dev.principal;
  const inputs = new Map();
  for (const name of ['kind', 'subject', 'body', 'proposal']) inputs.set(name, fieldInput(T, schema.field(T, name), existing?.[name] ?? null));
  // The related task: picked from the tasks on this phone (the device's replica), or none.
  const taskField = schema.field(T, 'task');
  const tasks = [...ref.tasks.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const taskSelect = h('select#f-task', { name: 'task' },
    h('option', { value: '' }, t('adhoc.no_task')),
    tasks.map((tk) => h('option', { value: tk.id, selected: tk.id === existing?.task }, `${tk.id} · ${tk.title}`)));
  const taskEl = h('div.field', h('label', { for: 'f-task' }, fieldLabel(taskField, T)), taskSelect);

  const topError = h('p.error', { role: 'alert' });
  const saveBtn = h('button.secondary.big', { type: 'button', onclick: () => save(false) }, t('adhoc.save_draft'));
  const sendBtn = h('button.primary.big.adhoc-send', { type: 'submit' }, t('adhoc.submit'));
  const del = existing && h('button.link.danger', { type: 'button', onclick: remove }, t('adhoc.delete_draft'));

  async function save(submit) {
    topError.textContent = '';
    const values = { task: taskSelect.value || null };
    for (const [name, input] of inputs) {
      input.setError('');
      values[name] = input.read();
    }
    // kind, subject and body are required in every row, a draft too (the schema says so).
    const missing = missingFields(values);
    for (const name of missing) inputs.get(name).setError(name === 'kind' ? t('adhoc.choose_kind') : t('adhoc.required'));
    if (missing.length) return focusFirstError();
    const now = Date.now();
    const op = adhocPut({ existing, values, principal: p, unit, submit, now, id: existing?.id || uuid7(now) });
    if (!op) return toast(t('adhoc.nothing_changed'), 'info');
    saveBtn.disabled = sendBtn.disabled = true;
    try {
      await dev.write([op]);
      toast(submit ? t('adhoc.sent_toast') : t('adhoc.saved_toast'));
      if (submit && navigator.onLine) ctx.syncNow?.().catch(() => {});
      ctx.go(submit ? 'adhoc' : 'adhoc-item', submit ? undefined : { id: op.id });
    } catch (e) {
      showProblems(e);
    } finally {
      saveBtn.disabled = sendBtn.disabled = false;
    }
  }

  async function remove() {
    if (!confirm(t('adhoc.delete_confirm'))) return;
    try {
      await dev.write([{ t: T, id: existing.id, k: 'del' }]);
      toast(t('adhoc.deleted_toast'));
      ctx.go('adhoc');
    } catch (e) {
      showProblems(e);
    }
  }

  const showProblems = (e) => showWriteProblems(e, { schema, table: T, inputs, form, topError });
  const focusFirstError = () => focusForm(form, topError);

  const form = h('form.card.report-form.adhoc-form', { novalidate: true, onsubmit: (ev) => { ev.preventDefault(); save(true); } },
    inputs.get('kind').el, taskEl, inputs.get('subject').el, inputs.get('body').el, inputs.get('proposal').el,
    topError, h('div.actions', sendBtn, saveBtn), del, h('p.hint', t('adhoc.sign_note')));
  return form;
}

function ackForm(ctx, row) {
  const { dev } = ctx;
  const p = dev.principal;
  const err = h('p.error', { role: 'alert' });
  const response = h('textarea#response', { rows: 4, maxlength: 2000, oninput: () => (err.textContent = '') });
  const btn = h('button.primary.big.adhoc-ack', { type: 'button', onclick: acknowledge }, t('adhoc.ack'));

  async function acknowledge() {
    err.textContent = '';
    const ops = ackOps(row, response.value, p.name || p.user);
    if (!ops) {
      err.textContent = t('adhoc.response_needed');
      response.focus();
      return;
    }
    btn.disabled = true;
    try {
      await dev.write(ops);
      toast(t('adhoc.ack_toast'));
      if (navigator.onLine) ctx.syncNow?.().catch(() => {});
      ctx.go('adhoc-item', { id: row.id });
    } catch (e) {
      err.textContent = e?.problems?.length ? e.problems.map(problemMessage).join(' · ') : problemText(e);
    } finally {
      btn.disabled = false;
    }
  }

  return h('section.card.decide', h('h3', t('adhoc.ack_title')),
    h('label', { for: 'response' }, t('adhoc.response_label')), response,
    h('p.hint', t('adhoc.response_hint')), err, h('div.actions', btn));
}
