// "Việc cần làm": what my unit owes for the current period — what is late first, then what was
// returned for correction, drafts, and what is already sent — with the deadline in days.
import { h, pill } from '../dom.js';
import { t } from '../i18n/index.js';
import { fmtDate, todayVN, daysBetween, periodLabel } from '../format.js';
import { refData, dueForUnit, currentPeriod, periodOf, unitTitle, itemTitle, targetText } from '../data.js';
import { link, parseHash } from '../router.js';

const ORDER = { returned: 0, missing: 1, draft: 2, submitted: 3, accepted: 4 };

export function stateLabel(state) {
  return t('state.' + state);
}

// The pills of a report: its state, or — while it is signed here but not yet sent — that.
export function reportPills(state, pending) {
  if (pending && state === 'submitted') return pill(t('state.signed_waiting'), 'warn');
  return [statePill(state), pending && pill(t('state.not_synced'), 'warn')];
}

export function statePill(state) {
  const kind = { missing: 'bad', draft: 'warn', returned: 'bad', submitted: 'info', accepted: 'ok' }[state] || 'info';
  return pill(stateLabel(state), kind);
}

export default async function todo(ctx) {
  const { dev, params } = ctx;
  ctx.setTitle(t('todo.title'));
  const ref = await refData(dev);
  const today = todayVN();
  if (!ref.periods.length) return h('div.screen', h('div.card.empty', h('p', t('todo.no_data')), h('button.primary', { onclick: () => ctx.syncNow() }, t('sync.now'))));
  const period = (params.period && periodOf(ref, params.period)) || currentPeriod(ref, today);
  const p = dev.principal;
  const units = p.all_units ? [...ref.units.keys()] : p.units || [];
  const reports = await dev.query('progress_report', (r) => units.includes(r.unit_code));

  const days = daysBetween(today, period.unit_due);
  const deadline = days > 0 ? t('todo.due_in', { n: days }) : days === 0 ? t('todo.due_today') : t('todo.overdue_by', { n: -days });
  const head = h('div.card.period' + (days < 0 ? '.late' : days <= 7 ? '.soon' : ''),
    h('div.small', t('todo.period')),
    h('h2', periodLabel(period.id)),
    h('div', `${fmtDate(period.starts)} – ${fmtDate(period.ends)}`),
    h('div.deadline', t('todo.deadline', { date: fmtDate(period.unit_due) }), ' · ', h('strong', deadline)));

  // Other periods: the ones already begun, so an official can go back to a late one.
  const chips = h('div.chips', { role: 'tablist' }, ref.periods.filter((q) => q.starts <= today || q.id === period.id || q.id === currentPeriod(ref, today)?.id).map((q) =>
    h('a.chip', { href: link('todo', { period: q.id }), class: q.id === period.id ? 'on' : '', role: 'tab' }, q.id)));

  const defaultPeriod = currentPeriod(ref, today)?.id; // the period of a route without ?period=
  const sections = [];
  for (const unit of units) {
    const items = dueForUnit(ref, reports, period, unit, today);
    items.sort((a, b) => (b.standing.behind - a.standing.behind) || (ORDER[a.state] - ORDER[b.state]) || (a.code < b.code ? -1 : 1));
    const late = items.filter((i) => i.standing.behind).length;
    const open = items.filter((i) => i.state === 'missing' || i.state === 'draft' || i.state === 'returned').length;
    sections.push(h('section',
      units.length > 1 && h('h2.unit', unitTitle(ref, unit)),
      h('p.summary', t('todo.summary', { n: items.length, open, late })),
      items.length ? h('ul.items', items.map((it) => itemCard(ref, it, unit, defaultPeriod))) : h('p.empty', t('todo.nothing'))));
  }

  // Earlier periods with something still owed (as `tram-field due` says "Also late").
  const earlier = [];
  for (const q of ref.periods) {
    if (q.id === period.id || q.unit_due >= today) continue;
    let owed = 0;
    // Still owed: not sent and past the deadline (a report sent late is no longer owed).
    for (const u of units) owed += dueForUnit(ref, reports, q, u, today).filter((i) => i.standing.overdue).length;
    if (owed) earlier.push(h('li', h('a', { href: link('todo', { period: q.id }) }, t('todo.also_late', { period: periodLabel(q.id), n: owed }))));
  }

  return h('div.screen', head, chips, earlier.length > 0 && h('ul.card.alert', earlier), sections);
}

// A tap on an item opens its report only while the route is still this list's period: the hash
// changes before the new list is drawn, and an old item must not open a report for another period.
function stillThisPeriod(it, defaultPeriod) {
  const { path, params } = parseHash();
  return (path === 'todo' || path === '') && (params.period || defaultPeriod) === it.period; // '': an official's home
}

function itemCard(ref, it, unit, defaultPeriod) {
  const href = it.report ? link('report', { id: it.report.id }) : link('report', { [it.kind]: it.code, period: it.period, unit });
  const target = it.indicator ? targetText(it.indicator) : it.task?.deadline ? t('target.by', { date: fmtDate(it.task.deadline) }) : '';
  const onclick = (e) => {
    if (!stillThisPeriod(it, defaultPeriod)) e.preventDefault();
  };
  return h('li', h('a.item', { href, onclick },
    h('div.item-top', h('span.code', it.code),
      it.state === 'missing' && it.standing.behind ? pill(t('state.overdue'), 'bad') : reportPills(it.state, it.report?._pending),
      it.state !== 'missing' && it.standing.behind && pill(t('state.late'), 'bad')),
    h('div.item-title', itemTitle(ref, it)),
    target && h('div.item-target', t('todo.target'), ': ', target,
      // Judged at and after the indicator's deadline (as the province report's "Đạt mục tiêu").
      ['met', 'not_met', 'overdue'].includes(it.targetStatus) && [' · ', pill(t('target.' + it.targetStatus), it.targetStatus === 'met' ? 'ok' : 'bad')])));
}
