// Each indicator against its target across the units it is expected from: how many reported,
// how many meet the target, and (for numbers) the average reported value next to the target.
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { fmtNum } from '../format.js';
import { stackedBar, gauge } from '../charts.js';

function targetOf(l) {
  const m = l.measure ? (l.measure === '%' ? ' %' : ' ' + l.measure) : '';
  if (l.comparator === 'range' && l.target != null && l.target_max != null) return `${fmtNum(l.target)}–${fmtNum(l.target_max)}${m}`;
  if (l.comparator && l.comparator !== 'none' && l.target != null) return `${l.comparator === '>=' ? '≥' : l.comparator} ${fmtNum(l.target)}${m}`;
  return t('target.milestone');
}

export function indicatorList(data) {
  const by = new Map();
  for (const l of data.lines) {
    const k = l.indicator;
    const x = by.get(k) || { code: k, title: l.indicator_title, group: l.group, sample: l, lines: 0, reported: 0, met: 0, judged: 0, values: [] };
    x.lines++;
    if (l.timeliness !== 'missing') x.reported++;
    // Judged: at or after the deadline (target_status met, not_met, overdue); before it the
    // value is progress, not a verdict.
    const judged = l.target_status ? ['met', 'not_met', 'overdue'].includes(l.target_status) : l.meets_target != null;
    if (judged) {
      x.judged++;
      if (l.target_status ? l.target_status === 'met' : l.meets_target) x.met++;
    }
    if (l.value != null) x.values.push(l.value);
    by.set(k, x);
  }
  return h('section.card', h('h3', t('dash.by_indicator')), h('ul.indicators', [...by.values()].map((x) => {
    const avg = x.values.length ? x.values.reduce((a, b) => a + b, 0) / x.values.length : null;
    const l = x.sample;
    const max = l.measure === '%' ? 100 : Math.max(avg || 0, l.target_max || 0, l.target || 0) * 1.2 || 1;
    return h('li',
      h('div.bar-label', h('strong', x.code), ' ', h('span.clamp', x.title || '')),
      stackedBar([{ value: x.reported, cls: 'on_time', label: t('dash.reported') }, { value: x.lines - x.reported, cls: 'missing', label: t('time.missing') }]),
      h('div.small.meta', h('span', t('todo.target'), ': ', targetOf(l)),
        h('span', t('dash.reported_of', { n: x.reported, total: x.lines }), x.judged ? ' · ' + t('dash.met_of', { n: x.met, total: x.judged }) : '')),
      avg != null && l.comparator !== 'none' && h('div.gauge-row', gauge(avg, l.target, max, { label: t('dash.average', { v: fmtNum(avg) }) }),
        h('span.small', t('dash.average', { v: fmtNum(avg) + (l.measure ? ' ' + l.measure : '') }))));
  })));
}
