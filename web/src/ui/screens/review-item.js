// One report as the reviewer sees it, with its photos, and the two decisions. Like tram-field's
// `accept`/`return` (examples/field-app/review.cpp), a decision is one signed change set: the
// report's status (with review_comment and reviewed_by, as the workflow's transition allows or
// requires) and an insert-only `review` row that records the decision for good.
import { h, toast } from '../dom.js';
import { t, fieldLabel, enumLabel } from '../i18n/index.js';
import { fmtDate, fmtNum, todayVN, periodLabel } from '../format.js';
import { refData, unitTitle, itemTitle, targetText, meetsTarget, uuid7, currentReviewComment, valueText } from '../data.js';
import { photosField } from '../photos.js';
import { problemText } from '../errors.js';
import { link } from '../router.js';
import { statePill } from './todo.js';
import { historyBlock } from './history.js';

const T = 'progress_report';

export default async function reviewItem(ctx) {
  const { dev, params } = ctx;
  ctx.setTitle(t('review.item_title'), link('review'));
  const ref = await refData(dev);
  if (!dev.schema) return h('div.screen', h('div.card.empty', h('p', t('todo.no_data'))));
  const r = await dev.get(T, params.id);
  if (!r) return h('div.screen', h('p.card.empty', t('report.not_found')));
  const schema = dev.schema;
  const ind = r.indicator && ref.indicators.get(r.indicator);
  const evidence = await dev.query('evidence', (e) => e.report === r.id);
  const meets = meetsTarget(ind, r.value);
  const reviews = await dev.query('review', (x) => x.report === r.id).catch(() => []);
  const reviewComment = currentReviewComment(r, reviews); // an earlier decision's is in the history

  const facts = [];
  for (const f of schema.fields(T)) {
    const v = f.name === 'review_comment' ? reviewComment : r[f.name];
    if (v == null || v === '' || ['unit_code', 'indicator', 'task', 'period', 'device', 'evidence', 'status', 'recorded_at', 'measure'].includes(f.name)) continue;
    const shown = f.type === 'enum' ? enumLabel(T, f.name, v) : f.type === 'date' ? fmtDate(v) : f.type === 'real' ? (f.name === 'value' ? valueText(ind, v, r.measure) : fmtNum(v, 4)) : v;
    facts.push(h('dt', fieldLabel(f, T)), h('dd', shown));
  }

  const head = h('div.card.report-head',
    h('div.item-top', h('span.code', r.indicator || r.task), statePill(r.status)),
    h('h2', unitTitle(ref, r.unit_code)),
    h('div', itemTitle(ref, { indicator: ind, task: r.task && ref.tasks.get(r.task), code: r.indicator || r.task })),
    ind && targetText(ind) && h('div', t('todo.target'), ': ', h('strong', targetText(ind)),
      meets != null ? h('span', ' · ', meets ? '✓ ' + t('target.met') : t('target.not_met')) : null),
    h('div.small', periodLabel(r.period)));

  const decide = r.status === 'submitted' && dev.principal.role === 'reviewer' ? decisionForm(ctx, r) : null;
  return h('div.screen', head,
    h('div.card', h('dl.fields', facts), photosField(dev, evidence, { editable: false }).el),
    decide, await historyBlock(dev, r));
}

// The decision's two ops: the report's status, reviewer and comment — written even when empty,
// as null, so that an accept without a comment clears the reason of an earlier return — and the
// insert-only review row.
export function decisionOps(r, to, text, me, today, reviewId) {
  const f = { status: to, reviewed_by: me, review_comment: text || null };
  const review = { report: r.id, unit_code: r.unit_code, decision: to, reviewer: me, reviewed_on: today };
  if (text) review.comment = text;
  return [{ t: T, id: r.id, k: 'put', f }, { t: 'review', id: reviewId, k: 'put', f: review }];
}

function decisionForm(ctx, r) {
  const { dev } = ctx;
  const p = dev.principal;
  const err = h('p.error', { role: 'alert' });
  const comment = h('textarea#comment', { rows: 3, maxlength: 2000, oninput: () => (err.textContent = '') });
  const accept = h('button.primary.big', { type: 'button', onclick: () => decide('accepted') }, t('review.accept'));
  const ret = h('button.danger.big', { type: 'button', onclick: () => decide('returned') }, t('review.return'));

  async function decide(to) {
    const text = comment.value.normalize('NFC').trim();
    err.textContent = '';
    if (to === 'returned' && !text) {
      err.textContent = t('review.reason_needed');
      comment.focus();
      return;
    }
    accept.disabled = ret.disabled = true;
    try {
      await dev.write(decisionOps(r, to, text, p.name || p.user, todayVN(), uuid7()));
      toast(to === 'accepted' ? t('review.accepted_toast') : t('review.returned_toast'));
      if (navigator.onLine) ctx.syncNow?.().catch(() => {});
      ctx.go('review');
    } catch (e) {
      err.textContent = problemText(e);
    } finally {
      accept.disabled = ret.disabled = false;
    }
  }

  return h('section.card.decide', h('h3', t('review.decide')),
    h('label', { for: 'comment' }, t('review.comment')), comment,
    h('p.hint', t('review.comment_hint')), err,
    h('div.actions', accept, ret));
}
