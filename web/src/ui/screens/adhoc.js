// "Báo cáo đột xuất" (programme section III.3): when difficulties arise, or the programme needs
// adjusting or supplementing, a commune, ward or department reports to the Provincial People's
// Committee through the Department of Finance at once, outside the 6-monthly and yearly cycle
// (schema v3, table adhoc_report). An official sees the unit's ad hoc reports and the Department
// of Finance's response; a reviewer sees those received, newest first, to acknowledge them.
// The pure rules (the ops written, the lists) are exported for test/unit/adhoc.test.mjs.
import { h, pill } from '../dom.js';
import { t, enumLabel } from '../i18n/index.js';
import { fmtDate, todayVN } from '../format.js';
import { refData, unitTitle, isoUtcSeconds } from '../data.js';
import { link } from '../router.js';

export const T = 'adhoc_report';
// What the official types; the rest is filled in by the app.
export const TYPED = ['kind', 'task', 'subject', 'body', 'proposal'];
const REQUIRED = ['kind', 'subject', 'body'];

// Names of the required fields left empty in `values` (a draft may be saved without them only
// where the schema allows: kind, subject and body are required in every row).
export function missingFields(values) {
  return REQUIRED.filter((k) => values[k] == null || values[k] === '');
}

// The put op of the form, as report.js writes a progress report: a new row carries the unit, the
// author (the registered name the server checks), the day and moment it was made and the device
// that signs it; an existing draft gets only what changed, and on sending the day it is sent
// (the date counted is the sending's, not the draft's). Returns null when nothing changed.
export function adhocPut({ existing, values, principal, unit, submit, now = Date.now(), id }) {
  const f = {};
  if (!existing) {
    Object.assign(f, {
      unit_code: unit, author: principal.name || principal.user, recorded_on: todayVN(now), recorded_at: isoUtcSeconds(now),
      device: principal.device, status: submit ? 'submitted' : 'draft',
    });
    for (const k of TYPED) if (values[k] != null && values[k] !== '') f[k] = values[k];
    if (!f.device) delete f.device;
    return { t: T, id, k: 'put', f };
  }
  for (const k of TYPED) {
    const v = values[k] === '' ? null : values[k] ?? null;
    if (v !== (existing[k] ?? null)) f[k] = v;
  }
  if (submit) {
    f.status = 'submitted';
    f.recorded_on = todayVN(now);
    f.recorded_at = isoUtcSeconds(now);
  }
  return Object.keys(f).length ? { t: T, id: existing.id, k: 'put', f } : null;
}

// The reviewer's acknowledgement: the workflow requires a response and allows the responder's
// name. Returns null for an empty response (the screen asks for one).
export function ackOps(row, response, me) {
  const text = String(response ?? '').normalize('NFC').trim();
  if (!text) return null;
  return [{ t: T, id: row.id, k: 'put', f: { status: 'acknowledged', response: text, responded_by: me } }];
}

// Newest first: by the moment recorded (whole seconds), then by id (UUIDv7, time-ordered).
export function newestFirst(rows) {
  return [...rows].sort((a, b) => ((a.recorded_at || '') !== (b.recorded_at || '') ? ((a.recorded_at || '') < (b.recorded_at || '') ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

// What the Department of Finance has received: everything sent, never a unit's draft.
export function received(rows) {
  return newestFirst(rows.filter((r) => r.status && r.status !== 'draft'));
}

// An official's own: the reports of the principal's units.
export function mine(rows, principal) {
  return newestFirst(rows.filter((r) => principal.all_units || (principal.units || []).includes(r.unit_code)));
}

export function adhocPill(status, pending) {
  if (pending && status !== 'draft') return pill(t('adhoc.not_sent'), 'warn');
  const kind = { draft: 'warn', submitted: 'info', acknowledged: 'ok' }[status] || 'info';
  return pill(enumLabel(T, 'status', status), kind);
}

export const isReviewer = (p) => p?.role === 'reviewer';

export default async function adhoc(ctx) {
  const { dev } = ctx;
  const p = dev.principal;
  const reviewer = isReviewer(p);
  ctx.setTitle(reviewer ? t('adhoc.received_title') : t('adhoc.title'));
  if (!dev.schema?.table(T)) return h('div.screen', h('div.card.empty', h('p', t('adhoc.not_in_schema'))));
  const ref = await refData(dev);
  const all = await dev.query(T, () => true).catch(() => []);
  const list = reviewer ? received(all) : mine(all, p);
  const intro = h('div.card.adhoc-intro', h('p', reviewer ? t('adhoc.received_intro') : t('adhoc.intro')),
    !reviewer && h('a.button.primary.big.adhoc-new', { href: link('adhoc-item', { new: 1 }) }, t('adhoc.new')));
  const waiting = reviewer && list.filter((r) => r.status === 'submitted').length;
  if (!list.length) return h('div.screen', intro, h('div.card.empty', h('p', reviewer ? t('adhoc.received_none') : t('adhoc.none'))));
  return h('div.screen', intro,
    reviewer && h('p.summary', t('adhoc.waiting', { n: waiting })),
    h('ul.items.adhoc-list', list.map((r) => h('li', h('a.item', { href: link('adhoc-item', { id: r.id }) },
      h('div.item-top', h('span.code', enumLabel(T, 'kind', r.kind)), adhocPill(r.status, r._pending)),
      h('div.item-title', r.subject),
      h('div.small', `${unitTitle(ref, r.unit_code)} · ${fmtDate(r.recorded_on)}${r.task ? ' · ' + r.task : ''}`),
      r.status === 'acknowledged' && r.response && h('div.adhoc-response.small', h('strong', t('adhoc.response_short')), ' ', r.response))))));
}
