// The 75 communes and wards (and the departments) as grids of tiles coloured by how their reports for the period
// stand: all on time, something late, or something still missing. Tapping a tile lists its lines.
import { h, clear } from '../dom.js';
import { t, enumLabel } from '../i18n/index.js';
import { fmtNum } from '../format.js';
import { legend } from '../charts.js';

export function unitState(lines) {
  if (!lines.length) return 'none';
  if (lines.some((l) => l.timeliness === 'missing')) return lines.every((l) => l.timeliness === 'missing') ? 'missing' : 'partial';
  return lines.some((l) => l.timeliness === 'late') ? 'late' : 'on_time';
}

// A commune or ward has a 5-digit code; a department (schema v3 agency) a short name like "SYT".
const isCommune = (ref, code) => ref.units.has(code) || /^[0-9]{5}$/.test(code);

// The communes and wards' grid, then the departments' (sở, ban, ngành), which report as themselves.
export function unitGrid(ref, data) {
  const grids = [gridOf(ref, data, true)];
  if (data.lines.some((l) => l.unit_code && !isCommune(ref, l.unit_code)) || ref.agencies?.size) grids.push(gridOf(ref, data, false));
  return grids.length === 1 ? grids[0] : h('div', grids);
}

function gridOf(ref, data, communes) {
  const byUnit = new Map();
  for (const l of data.lines) {
    if (!l.unit_code || isCommune(ref, l.unit_code) !== communes) continue;
    if (!byUnit.has(l.unit_code)) byUnit.set(l.unit_code, { name: l.unit_name, lines: [] });
    byUnit.get(l.unit_code).lines.push(l);
  }
  // Every unit the phone knows, so a unit with nothing expected still shows (grey).
  for (const [code, u] of communes ? ref.units : ref.agencies || new Map()) if (!byUnit.has(code)) byUnit.set(code, { name: u.name, lines: [] });
  const units = [...byUnit.entries()].sort((a, b) => shortName(a[1].name).localeCompare(shortName(b[1].name), 'vi'));
  const counts = { on_time: 0, late: 0, partial: 0, missing: 0, none: 0 };
  const detail = h('div.unit-detail', { 'aria-live': 'polite' });
  const grid = h('div.unit-grid', units.map(([code, u]) => {
    const st = unitState(u.lines);
    counts[st]++;
    const done = u.lines.filter((l) => l.timeliness !== 'missing').length;
    return h('button.tile.' + st, {
      type: 'button', title: `${u.name} (${code})`,
      onclick: (e) => {
        grid.querySelectorAll('.tile.sel').forEach((x) => x.classList.remove('sel'));
        e.currentTarget.classList.add('sel');
        showUnit(detail, code, u);
      },
    }, h('span.nm', shortName(u.name)), h('span.ct', u.lines.length ? `${done}/${u.lines.length}` : '–'));
  }));
  return h('section.card', h('h3', t(communes ? 'dash.units' : 'dash.agencies', { n: units.length })),
    legend([['on_time', `${t('grid.on_time')} (${counts.on_time})`], ['late', `${t('grid.late')} (${counts.late})`],
      ['partial', `${t('grid.partial')} (${counts.partial})`], ['missing', `${t('grid.missing')} (${counts.missing})`]]),
    grid, detail);
}

function shortName(name) {
  return String(name || '').replace(/^(Xã|Phường)\s+/, '');
}

function showUnit(box, code, u) {
  clear(box).append(h('h4', `${u.name} (${code})`), h('ul.lines-list', u.lines.map((l) => h('li.' + l.timeliness,
    h('strong', l.indicator), ' · ', t('time.' + l.timeliness),
    l.value != null ? ` · ${fmtNum(l.value)}${l.measure ? ' ' + l.measure : ''}` : '',
    l.review_state ? ` · ${enumLabel('progress_report', 'status', l.review_state)}` : ''))));
}
