// Create a user (or change an existing one's role and units): POST /v1/admin/users. Then the
// natural next step, an enrolment code for that user, is one tap away. Below the form, every user
// with their units and devices (admin-user-list.js); "Sửa" there fills the form.
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { problemText } from '../errors.js';
import { link } from '../router.js';
import { admin } from '../admin-api.js';
import { refData, unitTitle } from '../data.js';
import { userList } from './admin-user-list.js';

const ROLES = ['official', 'department', 'reviewer', 'admin'];

export async function usersTab(ctx) {
  const ref = ctx.dev?.state === 'ready' ? await refData(ctx.dev).catch(() => null) : null;
  const id = h('input#uid', { autocomplete: 'off', autocapitalize: 'none', spellcheck: false, required: true, pattern: '[A-Za-z0-9._\\-]+' });
  const name = h('input#uname', { autocomplete: 'off' });
  const role = h('select#urole', ROLES.map((r) => h('option', { value: r }, t('role.' + r))));
  const units = h('input#uunits', { autocomplete: 'off', inputmode: 'numeric', placeholder: '03808, 03646', list: 'unit-codes' });
  const all = h('input#uall', { type: 'checkbox' });
  const unitList = ref && h('datalist#unit-codes', [...ref.units.keys()].map((c) => h('option', { value: c }, unitTitle(ref, c))));
  role.addEventListener('change', () => {
    all.checked = role.value === 'reviewer' || role.value === 'admin';
  });
  const err = h('p.error', { role: 'alert' });
  const ok = h('div');
  const btn = h('button.primary.big', { type: 'submit' }, t('admin.user.save'));
  const listBox = h('div');
  const edit = (u) => {
    id.value = u.id;
    name.value = u.name || '';
    role.value = u.role || 'official';
    units.value = (u.units || []).join(', ');
    all.checked = !!u.all_units;
    form.scrollIntoView({ block: 'start' });
    name.focus();
  };
  const loadList = async () => listBox.replaceChildren(await userList(ctx, ref, edit));
  const form = h('form.card', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      ok.textContent = '';
      const codes = units.value.split(/[\s,;]+/).filter(Boolean);
      if (codes.some((c) => !/^[0-9]{5}$/.test(c))) return void (err.textContent = t('admin.user.bad_units'));
      if (!all.checked && !codes.length) return void (err.textContent = t('admin.user.need_units'));
      btn.disabled = true;
      try {
        const body = { id: id.value.trim(), role: role.value, units: codes, all_units: all.checked, name: name.value.normalize('NFC').trim() };
        const r = await admin('users', { method: 'POST', body });
        ok.append(h('p.note.ok', '✓ ', t('admin.user.saved', { id: r.user })),
          h('a.button.primary', { href: link('admin', { tab: 'code', user: r.user }) }, t('admin.user.make_code')));
        await loadList();
      } catch (e) {
        err.textContent = problemText(e);
      } finally {
        btn.disabled = false;
      }
    },
  },
  h('h2', t('admin.user.title')),
  h('label', { for: 'uid' }, t('admin.user.id')), id, h('p.hint', t('admin.user.id_hint')),
  h('label', { for: 'uname' }, t('admin.user.name')), name, h('p.hint', t('admin.user.name_hint')),
  h('label', { for: 'urole' }, t('admin.user.role')), role,
  h('label', { for: 'uunits' }, t('admin.user.units')), units, unitList, h('p.hint', t('admin.user.units_hint')),
  h('label.check', all, ' ', t('admin.user.all_units')),
  err, btn, ok);
  await loadList();
  return h('div', form, listBox);
}
