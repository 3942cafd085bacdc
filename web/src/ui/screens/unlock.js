// Unlock: on a browser without non-extractable keys the device key is kept encrypted under the
// official's passphrase, and is opened once per visit.
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { problemText } from '../errors.js';

export default async function unlock(ctx) {
  const { dev } = ctx;
  ctx.setTitle(t('unlock.title'));
  const pass = h('input#pass', { type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p.error', { role: 'alert' });
  const btn = h('button.primary.big', { type: 'submit' }, t('unlock.submit'));
  return h('div.screen', h('form.card', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      btn.disabled = true;
      err.textContent = '';
      try {
        await dev.unlock(pass.value);
        ctx.go('');
      } catch (e) {
        err.textContent = /passphrase|decrypt|operation/i.test(String(e?.message || e?.code)) ? t('unlock.wrong') : problemText(e);
        pass.select();
      } finally {
        btn.disabled = false;
      }
    },
  }, h('p', t('unlock.intro')), h('label', { for: 'pass' }, t('enrol.pass')), pass, err, btn, h('p.warn', t('enrol.pass_forget'))));
}
