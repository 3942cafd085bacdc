// "Bảng theo dõi tiến độ": the province report for a period as a reviewer or the leadership
// reads it on a phone — the counts, each task group and indicator against its target, the 75
// communes and wards coloured by whether they reported on time, and the periods side by side.
// It keeps the last report fetched, so it opens offline too (with the date it was fetched).
import { h, clear, toast } from '../dom.js';
import { t, enumLabel } from '../i18n/index.js';
import { fmtDate, fmtNum, fmtTimeVN, todayVN, periodLabel } from '../format.js';
import { refData, currentPeriod, periodOf } from '../data.js';
import { cachedReport, fetchReport, downloadReport } from '../province.js';
import { stackedBar, columns, legend, gauge } from '../charts.js';
import { problemText } from '../errors.js';
import { link } from '../router.js';
import { icon } from '../icons.js';
import { unitGrid } from './unit-grid.js';
import { indicatorList } from './indicators.js';

const PARTS = (c) => [
  { value: c.on_time, cls: 'on_time', label: t('time.on_time') },
  { value: c.late, cls: 'late', label: t('time.late') },
  { value: c.missing, cls: 'missing', label: t('time.missing') },
];

export default async function dashboard(ctx) {
  const { dev, params } = ctx;
  ctx.setTitle(t('dash.title'));
  const ref = await refData(dev);
  const today = todayVN();
  const period = params.period || currentPeriod(ref, today)?.id || '2026-H1';
  const started = ref.periods.filter((p) => p.starts <= today || p.id === period);
  const body = h('div');
  const status = h('p.note', { 'aria-live': 'polite' });
  const root = h('div.screen.dashboard',
    h('div.chips.no-print', ref.periods.length ? started.map((p) => h('a.chip', { href: link('dashboard', { period: p.id }), class: p.id === period ? 'on' : '' }, p.id)) : null),
    status, body);

  let entry = cachedReport(period);
  const draw = () => {
    clear(body);
    if (entry) body.append(render(ctx, ref, entry, period, started));
  };
  draw();
  status.textContent = entry ? t('dash.cached', { at: fmtTimeVN(entry.fetchedAt) }) : t('dash.loading');
  fetchReport(dev, period).then((e) => {
    entry = e;
    status.textContent = t('dash.fresh', { at: fmtTimeVN(e.fetchedAt) });
    draw();
    // The other periods' counts, for the chart of periods, quietly and one at a time.
    (async () => {
      for (const p of started) {
        if (p.id === period || !ctx.alive()) continue;
        try {
          await fetchReport(dev, p.id);
        } catch {
          break;
        }
      }
      if (ctx.alive()) draw();
    })();
  }, (e) => {
    status.textContent = (entry ? t('dash.cached', { at: fmtTimeVN(entry.fetchedAt) }) + ' · ' : '') + problemText(e);
    status.classList.add('warn');
  });
  return root;
}

function render(ctx, ref, entry, period, started) {
  const { data } = entry;
  const s = data.summary;
  const p = data.period;
  const rv = s.review || {};
  const head = h('section.card',
    h('h2', t('dash.heading', { period: periodLabel(p.code) })),
    h('p.small', `${fmtDate(p.starts)} – ${fmtDate(p.ends)} · ${t('todo.deadline', { date: fmtDate(p.unit_due) })} · ${t('dash.finance_due', { date: fmtDate(p.finance_due) })}`),
    h('div.bignums',
      big(s.on_time, t('time.on_time'), 'on_time'), big(s.late, t('time.late'), 'late'), big(s.missing, t('time.missing'), 'missing')),
    stackedBar(PARTS(s), { title: t('dash.lines', { n: s.lines }) }),
    h('p.small', t('dash.lines', { n: fmtNum(s.lines, 0) }), ' · ', t('dash.review_counts', {
      submitted: rv.submitted || 0, accepted: rv.accepted || 0, returned: rv.returned || 0, draft: rv.draft || 0 })),
    h('p.small', t('dash.generated', { at: fmtTimeVN(data.generated_at) })));

  // Per task group: how its lines stand.
  const groups = new Map();
  for (const l of data.lines) {
    if (l.aggregate) continue; // a share line is not a report (report JSON `aggregate`)
    const g = groups.get(l.group) || { code: l.group, title: l.group_title, on_time: 0, late: 0, missing: 0 };
    g[l.timeliness]++;
    groups.set(l.group, g);
  }
  const groupSec = h('section.card', h('h3', t('dash.by_group')),
    legend([['on_time', t('time.on_time')], ['late', t('time.late')], ['missing', t('time.missing')]]),
    h('ul.bars', [...groups.values()].map((g) => h('li',
      h('div.bar-label', h('strong', g.code || '—'), ' ', h('span.clamp', g.title || '')),
      stackedBar(PARTS(g)),
      h('div.small', t('dash.group_counts', { on_time: g.on_time, late: g.late, missing: g.missing }))))));

  // The periods side by side, from what this phone has fetched.
  const per = started.map((q) => ({ q, e: cachedReport(q.id) })).filter((x) => x.e);
  const perSec = per.length > 1 && h('section.card', h('h3', t('dash.by_period')),
    columns(per.map(({ q, e }) => ({ label: q.id, parts: PARTS(e.data.summary) }))),
    h('table.mini', h('tr', h('th', t('review.period')), h('th', t('time.on_time')), h('th', t('time.late')), h('th', t('time.missing'))),
      per.map(({ q, e }) => h('tr', h('td', q.id), h('td', e.data.summary.on_time), h('td', e.data.summary.late), h('td', e.data.summary.missing)))));

  const downloads = h('section.card.no-print', h('h3', t('dash.downloads')),
    h('div.actions',
      ['xlsx', 'csv'].map((f) => h('button.secondary', { type: 'button', onclick: () => downloadReport(ctx.dev, period, f).catch((e) => toast(problemText(e), 'bad')) },
        h('span.ic', { html: icon('download') }), t('dash.download_' + f))),
      h('button.secondary', { type: 'button', onclick: printAll }, h('span.ic', { html: icon('print') }), t('dash.print'))));

  // The indicator list counts reports; the share lines (yes_no indicators) get their own card.
  const reports = { ...data, lines: data.lines.filter((l) => !l.aggregate) };
  return h('div', head, groupSec, shareList(data), indicatorList(reports), unitGrid(ref, reports), perSec, detailTable(data), downloads);
}

// The province's share line of each yes_no indicator (report/province.hpp): the % of units
// answering yes against the target ("= 100 %"), judged at the deadline like any line.
function shareList(data) {
  const shares = data.lines.filter((l) => l.aggregate);
  if (!shares.length) return null;
  return h('section.card.shares', h('h3', t('dash.shares')), h('p.small', t('dash.share_note')), h('ul.indicators', shares.map((l) => h('li',
    h('div.bar-label', h('strong', l.indicator), ' ', h('span.clamp', l.indicator_title || '')),
    gauge(l.value ?? 0, l.target, 100, { label: t('target.share') + ': ' + fmtNum(l.value ?? 0) + ' %' }),
    h('div.small.meta', h('span', t('target.share'), ': ', h('strong', fmtNum(l.value ?? 0) + ' %')),
      h('span', t('todo.target'), ': ', `${l.comparator === '>=' ? '≥' : l.comparator} ${fmtNum(l.target)} %`),
      targetStatus(l) && h('span', targetStatus(l)))))));
}

// A line's value as read: a unit's yes_no answer is Có / Không, a share line is a %.
function lineValue(l) {
  if (l.value == null) return '';
  if (l.indicator_kind === 'yes_no' && !l.aggregate && (l.value === 1 || l.value === 0)) return t(l.value === 1 ? 'answer.yes' : 'answer.no');
  return fmtNum(l.value) + (l.measure ? ' ' + l.measure : '');
}

// A closed <details> prints closed: open the detail table for paper.
function printAll() {
  document.querySelectorAll('details.detail').forEach((d) => (d.open = true));
  window.print();
}

function big(n, label, cls) {
  return h('div.big.' + cls, h('div.n', fmtNum(n, 0)), h('div.l', label));
}

// Against the target (report JSON target_status: judged only in the deadline's period; a server
// without it gives meets_target alone).
function targetStatus(l) {
  if (l.target_status) return t('target.' + l.target_status);
  return l.meets_target == null ? '' : l.meets_target ? t('target.met') : t('target.not_met');
}

// Every line, as the CSV has them; folded on the phone, printed in full.
function detailTable(data) {
  return h('details.card.detail', h('summary', t('dash.detail', { n: data.lines.length })),
    h('div.scroll', h('table.lines',
      h('thead', h('tr', ['dash.col.group', 'dash.col.indicator', 'dash.col.unit', 'dash.col.value', 'dash.col.target', 'dash.col.time', 'dash.col.review'].map((k) => h('th', t(k))))),
      h('tbody', data.lines.map((l) => h('tr.' + (l.aggregate ? 'aggregate' : l.timeliness),
        h('td', l.group), h('td', l.indicator), h('td', l.unit_name), h('td.num', lineValue(l)),
        h('td', targetStatus(l)),
        h('td', l.aggregate ? t('dash.share_line') : t('time.' + l.timeliness)), h('td', l.review_state ? enumLabel('progress_report', 'status', l.review_state) : '')))))));
}

export { periodOf };
