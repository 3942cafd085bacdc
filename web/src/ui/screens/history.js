// What happened to a report after it was sent: the reviewers' decisions (review rows, which are
// insert-only, so they cannot be rewritten) and the comments exchanged on it.
import { h } from '../dom.js';
import { t, enumLabel } from '../i18n/index.js';
import { fmtDate } from '../format.js';

export async function historyBlock(dev, report) {
  const [reviews, comments] = await Promise.all([
    dev.query('review', (r) => r.report === report.id).catch(() => []),
    dev.query('comment', (r) => r.report === report.id).catch(() => []),
  ]);
  const items = [
    ...reviews.map((r) => ({ on: r.reviewed_on, el: h('li', h('strong', enumLabel('review', 'decision', r.decision)), ` · ${r.reviewer} · ${fmtDate(r.reviewed_on)}`, r.comment && h('p.comment', r.comment)) })),
    ...comments.map((c) => ({ on: c.written_on, el: h('li', h('strong', c.author), ` · ${fmtDate(c.written_on)}`, h('p.comment', c.body)) })),
  ].sort((a, b) => (a.on < b.on ? -1 : 1));
  if (!items.length) return null;
  return h('section.card', h('h3', t('history.title')), h('ul.history', items.map((i) => i.el)));
}
