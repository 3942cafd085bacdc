// Make an enrolment code for a user (POST /v1/admin/enrolment-codes) and show it three ways: the
// code to read out or type, a QR of the enrolment link to scan with the phone's camera, and the
// link itself to send by Zalo or SMS. The code works once and expires (72 hours by default).
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { fmtTimeVN, fmtNum } from '../format.js';
import { problemText } from '../errors.js';
import { admin } from '../admin-api.js';
import { qrSvg } from '../qr.js';

export function enrolLink(code) {
  return `${location.origin}${location.pathname}#/enrol?code=${encodeURIComponent(code)}`;
}

export async function codeTab(ctx) {
  const user = h('input#cuser', { autocomplete: 'off', autocapitalize: 'none', spellcheck: false, required: true, value: ctx.params.user || '' });
  const ttl = h('input#cttl', { inputmode: 'numeric', value: '72' });
  const err = h('p.error', { role: 'alert' });
  const out = h('div');
  const btn = h('button.primary.big', { type: 'submit' }, t('admin.code.make'));
  return h('div', h('form.card', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      out.textContent = '';
      const hours = Number(ttl.value);
      if (!Number.isInteger(hours) || hours < 1 || hours > 720) return void (err.textContent = t('admin.code.bad_ttl'));
      btn.disabled = true;
      try {
        const r = await admin('enrolment-codes', { method: 'POST', body: { user: user.value.trim(), ttl_hours: hours } });
        out.append(codeCard(user.value.trim(), r.code, Date.now() + r.expires_in_s * 1000));
      } catch (e) {
        err.textContent = e.code === 'not_found' ? t('admin.code.no_user') : problemText(e);
      } finally {
        btn.disabled = false;
      }
    },
  },
  h('h2', t('admin.code.title')),
  h('label', { for: 'cuser' }, t('admin.user.id')), user,
  h('label', { for: 'cttl' }, t('admin.code.ttl')), ttl, h('p.hint', t('admin.code.ttl_hint')),
  err, btn), out);
}

function codeCard(user, code, expiresMs) {
  const url = enrolLink(code);
  const svg = qrSvg(url);
  const copy = (text) => (e) => navigator.clipboard?.writeText(text).then(() => (e.target.textContent = t('receipt.copied')));
  return h('section.card.code-card',
    h('p', t('admin.code.for', { user })),
    h('div.enrol-code.mono', { 'data-code': code }, code),
    svg ? h('div.qr', { html: svg, role: 'img', 'aria-label': t('admin.code.qr_label') }) : h('p.hint', t('admin.code.no_qr')),
    h('p.small', t('admin.code.link')), h('a.enrol-link.mono', { href: url }, url),
    h('div.actions',
      navigator.clipboard && h('button.secondary', { type: 'button', onclick: copy(code) }, t('admin.code.copy_code')),
      navigator.clipboard && h('button.secondary', { type: 'button', onclick: copy(url) }, t('admin.code.copy_link'))),
    h('p.warn', t('admin.code.expires', { at: fmtTimeVN(expiresMs), hours: fmtNum((expiresMs - Date.now()) / 3600000, 0) })));
}
