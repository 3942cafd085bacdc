// The list of users (GET /v1/admin/users) with their units and their devices (GET
// /v1/admin/devices, joined by user id): who may report for which commune, and which phones they
// report from. Searched without tones (đ = d), names in Vietnamese order.
import { h, pill, clear } from '../dom.js';
import { t } from '../i18n/index.js';
import { fmtTimeVN } from '../format.js';
import { problemText } from '../errors.js';
import { link } from '../router.js';
import { admin } from '../admin-api.js';
import { unitTitle } from '../data.js';
import { shortId } from '../receipt.js';

// "Mường Lèo" and "muong leo", "Đức" and "duc" match.
export const fold = (s) => String(s ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();

// users: [{ id, role, units, all_units, name }]; devices: [{ device, user, state, seq, enrolled_ms,
// last_seen_ms }]. Each user with their devices (newest enrolment first), filtered by `query`
// (id, name or unit code, without tones) and sorted by name (Vietnamese collation), then id.
// Devices of a user the list does not hold (none today) are kept under a stand-in user.
export function usersWithDevices(users, devices, query = '') {
  const byUser = new Map(users.map((u) => [u.id, { ...u, units: u.units || [], devices: [] }]));
  for (const d of devices) {
    if (!byUser.has(d.user)) byUser.set(d.user, { id: d.user, role: null, units: [], all_units: false, name: '', devices: [] });
    byUser.get(d.user).devices.push(d);
  }
  const q = fold(query.trim());
  const list = [...byUser.values()].filter((u) => !q || [u.id, u.name, ...u.units].some((s) => fold(s).includes(q)));
  for (const u of list) u.devices.sort((a, b) => (b.enrolled_ms || 0) - (a.enrolled_ms || 0));
  const coll = new Intl.Collator('vi');
  return list.sort((a, b) => coll.compare(a.name || a.id, b.name || b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export async function userList(ctx, ref, onEdit) {
  const box = h('div');
  const filter = h('input#ufilter', { type: 'search', placeholder: t('admin.users.filter'), oninput: () => draw() });
  let users = [];
  let devices = [];
  try {
    [users, devices] = await Promise.all([admin('users').then((r) => r.users || []), admin('devices').then((r) => r.devices || [])]);
  } catch (e) {
    return h('section.card.user-list', h('h2', t('admin.users.title')), h('p.error', problemText(e)));
  }
  function draw() {
    const list = usersWithDevices(users, devices, filter.value);
    clear(box).append(h('p.summary', t('admin.users.count', { n: list.length })), h('ul.items', list.map((u) => userItem(u, ref, onEdit))));
  }
  draw();
  return h('section.user-list', h('h2', t('admin.users.title')), filter, box);
}

function userItem(u, ref, onEdit) {
  // Unit names come from this browser's replica, when it is an enrolled device; else the codes.
  const units = u.all_units ? [t('unit.province')] : u.units.map((c) => (unitTitle(ref, c) === c ? c : `${unitTitle(ref, c)} (${c})`));
  const active = u.devices.filter((d) => d.state === 'active').length;
  return h('li.card.user', { 'data-user': u.id },
    h('div.item-top', h('strong.uname', u.name || u.id), u.role ? pill(t('role.' + u.role), 'info') : null,
      u.role && onEdit ? h('button.link.edit', { type: 'button', onclick: () => onEdit(u) }, t('admin.users.edit')) : null),
    h('div.small', h('span', t('admin.user.id') + ': '), h('span.mono', u.id)),
    h('div.units', units.length ? units.map((s) => h('div', s)) : h('span.warn', t('admin.users.no_units'))),
    u.devices.length
      ? h('div.devices',
        h('div.small', t('admin.users.devices', { n: u.devices.length, active })),
        h('ul.plain', u.devices.map((d) => h('li.small', { 'data-device': d.device },
          h('span.mono', { title: d.device }, shortId(d.device)), ' ',
          pill(t('admin.dev.state.' + d.state), d.state === 'active' ? 'ok' : 'bad'),
          d.last_seen_ms ? ' ' + t('admin.dev.last_seen', { at: fmtTimeVN(d.last_seen_ms) }) : ''))),
        h('a.link.small', { href: link('admin', { tab: 'devices', user: u.id }) }, t('admin.users.see_devices')))
      : h('div.devices.small', h('span', t('admin.users.no_devices')), ' ',
        h('a.link', { href: link('admin', { tab: 'code', user: u.id }) }, t('admin.user.make_code'))));
}
