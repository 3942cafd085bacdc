// The reviewers' queue (Sở Tài chính): reports waiting for review, newest deadline first, with
// filters by period, task group, unit and state. Tapping one opens it to accept or return.
import { h, pill } from '../dom.js';
import { t, enumLabel } from '../i18n/index.js';
import { fmtDate, todayVN, periodLabel } from '../format.js';
import { refData, unitTitle, itemTitle, groupOf, currentPeriod, targetText, meetsTarget, valueText } from '../data.js';
import { link } from '../router.js';
import { statePill } from './todo.js';

const STATES = ['submitted', 'returned', 'accepted', 'all'];

export default async function review(ctx) {
  const { dev, params } = ctx;
  ctx.setTitle(t('review.title'));
  const ref = await refData(dev);
  const state = STATES.includes(params.state) ? params.state : 'submitted';
  const period = params.period ?? currentPeriod(ref, todayVN())?.id ?? '';
  const all = await dev.query('progress_report', (r) => r.status !== 'draft');
  const rows = all.filter((r) => (state === 'all' || r.status === state) && (!period || r.period === period)
    && (!params.group || groupOf(ref, r)?.id === params.group) && (!params.unit || r.unit_code === params.unit));
  rows.sort((a, b) => (a.recorded_on < b.recorded_on ? -1 : a.recorded_on > b.recorded_on ? 1 : a.unit_code < b.unit_code ? -1 : 1));
  const evidence = await dev.query('evidence', () => true).catch(() => []);
  const photos = new Map();
  for (const e of evidence) photos.set(e.report, (photos.get(e.report) || 0) + 1);

  const set = (k, v) => ctx.go('review', { ...params, [k]: v });
  const select = (label, key, value, options) => h('label.filter', h('span', label),
    h('select', { onchange: (e) => set(key, e.target.value) }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
  const unitsInReports = [...new Set(all.map((r) => r.unit_code))].sort();
  const filters = h('details.card.filters', { open: !!(params.group || params.unit) },
    h('summary', t('review.filters')),
    select(t('review.period'), 'period', period, [['', t('review.any')], ...ref.periods.map((p) => [p.id, periodLabel(p.id)])]),
    select(t('review.group'), 'group', params.group || '', [['', t('review.any')], ...ref.groupList.map((g) => [g.id, `${g.code || g.id} · ${g.title}`])]),
    select(t('review.unit'), 'unit', params.unit || '', [['', t('review.any')], ...unitsInReports.map((u) => [u, unitTitle(ref, u)])]));
  const stateTabs = h('div.tabs', { role: 'tablist' }, STATES.map((s) => h('a.tab', { href: link('review', { ...params, state: s }), class: s === state ? 'on' : '', role: 'tab' },
    t('review.state.' + s), s !== 'all' ? h('span.badge', String(all.filter((r) => r.status === s && (!period || r.period === period)).length)) : null)));

  return h('div.screen', stateTabs, filters,
    h('p.summary', t('review.count', { n: rows.length })),
    rows.length ? h('ul.items', rows.map((r) => {
      const ind = r.indicator && ref.indicators.get(r.indicator);
      const meets = meetsTarget(ind, r.value);
      return h('li', h('a.item', { href: link('review-item', { id: r.id }) },
        h('div.item-top', h('span.code', r.indicator || r.task), statePill(r.status), r._pending && pill(t('state.not_synced'), 'warn')),
        h('div.item-title', unitTitle(ref, r.unit_code)),
        h('div.small', itemTitle(ref, { indicator: ind, task: r.task && ref.tasks.get(r.task), code: r.indicator || r.task })),
        h('div.item-facts',
          r.value != null && h('span', h('strong', valueText(ind, r.value, r.measure)), ind && targetText(ind) ? ` / ${targetText(ind)}` : ''),
          meets != null && pill(meets ? t('target.met') : t('target.not_met'), meets ? 'ok' : 'warn'),
          r.progress && h('span', enumLabel('progress_report', 'progress', r.progress)),
          photos.get(r.id) && h('span', '📷 ' + photos.get(r.id)),
          h('span', `${r.author} · ${fmtDate(r.recorded_on)}`))));
    })) : h('div.card.empty', h('p', t('review.empty'))));
}
