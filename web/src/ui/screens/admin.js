// "Quản trị hệ thống": asks for the admin token once per tab, then offers the jobs of
// protocol.md §6 as tabs: users, enrolment codes (with the QR of the enrolment link), devices
// (revoke, release), bundles carried by hand (§16) and attachments still missing on the server.
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { problemText } from '../errors.js';
import { link } from '../router.js';
import { admin, adminToken, setAdminToken } from '../admin-api.js';
import { usersTab } from './admin-users.js';
import { codeTab } from './admin-code.js';
import { devicesTab } from './admin-devices.js';
import { missingTab } from './admin-missing.js';
import { bundlesTab } from './admin-bundles.js';

const TABS = { users: usersTab, code: codeTab, devices: devicesTab, bundles: bundlesTab, missing: missingTab };

export default async function adminScreen(ctx) {
  ctx.setTitle(t('admin.title'));
  if (!adminToken()) return tokenForm(ctx);
  const tab = TABS[ctx.params.tab] ? ctx.params.tab : 'users';
  const tabs = h('div.tabs', { role: 'tablist' }, Object.keys(TABS).map((k) =>
    h('a.tab', { href: link('admin', { tab: k }), class: k === tab ? 'on' : '', role: 'tab' }, t('admin.tab.' + k))));
  const out = h('button.link', { type: 'button', onclick: () => { setAdminToken(null); ctx.go('admin'); } }, t('admin.sign_out'));
  return h('div.screen', tabs, await TABS[tab](ctx), h('p.center', out));
}

function tokenForm(ctx) {
  const token = h('input#token.mono', { type: 'password', autocomplete: 'off', spellcheck: false, placeholder: t('admin.token_placeholder') });
  const err = h('p.error', { role: 'alert' });
  const btn = h('button.primary.big', { type: 'submit' }, t('admin.enter'));
  return h('div.screen', h('form.card', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      const v = token.value.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(v)) return void (err.textContent = t('admin.token_shape'));
      setAdminToken(v);
      btn.disabled = true;
      try {
        await admin('devices'); // proves the token before showing anything
        ctx.go('admin', { tab: 'users' });
      } catch (e) {
        setAdminToken(null);
        err.textContent = e.code === 'unauthenticated' ? t('admin.token_wrong') : problemText(e);
      } finally {
        btn.disabled = false;
      }
    },
  }, h('p', t('admin.token_intro')), h('label', { for: 'token' }, t('admin.token')), token, h('p.hint', t('admin.token_where')), err, btn));
}
