// "Báo cáo": every report of my units on this phone, grouped by where it stands, so an official
// finds a draft to finish or a returned report to correct without knowing its indicator.
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { fmtDate } from '../format.js';
import { refData, unitTitle, itemTitle } from '../data.js';
import { link } from '../router.js';
import { reportPills } from './todo.js';

const GROUPS = ['returned', 'draft', 'submitted', 'accepted'];

export default async function reports(ctx) {
  const { dev } = ctx;
  ctx.setTitle(t('reports.title'));
  const ref = await refData(dev);
  const p = dev.principal;
  const rows = await dev.query('progress_report', (r) => p.all_units || (p.units || []).includes(r.unit_code));
  rows.sort((a, b) => (a.recorded_at < b.recorded_at ? 1 : -1));
  if (!rows.length) return h('div.screen', h('div.card.empty', h('p', t('reports.none')), h('a.button.primary', { href: link('todo') }, t('nav.todo'))));
  return h('div.screen', GROUPS.map((g) => {
    const list = rows.filter((r) => r.status === g);
    if (!list.length) return null;
    return h('section', h('h2.group', t('reports.group.' + g), h('span.count', ` (${list.length})`)),
      h('ul.items', list.map((r) => h('li', h('a.item', { href: link('report', { id: r.id }) },
        h('div.item-top', h('span.code', r.indicator || r.task), reportPills(r.status, r._pending)),
        h('div.item-title', itemTitle(ref, { indicator: r.indicator && ref.indicators.get(r.indicator), task: r.task && ref.tasks.get(r.task), code: r.indicator || r.task })),
        h('div.small', `${unitTitle(ref, r.unit_code)} · ${r.period} · ${fmtDate(r.recorded_on)}`))))));
  }));
}
