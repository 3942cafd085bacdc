// Enrolment: the official types the code the administrator gave (or opens the QR link, which
// fills it in), the browser makes its own key and registers it, and the screen says who this
// device now acts for. Then the first sync brings the units, indicators and periods.
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { problemText, codeOf } from '../errors.js';
import { link } from '../router.js';
import { whoBlock } from './who.js';
import { invalidate } from '../data.js';

// protocol.md §5.1: the server compares the exact string, so upper-case what was typed, keep
// only letters and digits, and put the dashes back: "zph3f2hr zwn7ag43" → "ZPH3-F2HR-ZWN7-AG43".
export function normaliseCode(typed) {
  const raw = String(typed || '').toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 16);
  return raw.match(/.{1,4}/g)?.join('-') ?? '';
}

function needsPassphrase(dev, err) {
  if (err && /passphrase/i.test(codeOf(err) + ' ' + (err.message || ''))) return true;
  return dev.needsPassphrase === true || (typeof dev.needsPassphrase === 'function' && dev.needsPassphrase());
}

export default async function enrol(ctx) {
  const { dev, params } = ctx;
  ctx.setTitle(t('enrol.title'));
  if (dev.state === 'ready') return done(ctx);

  const code = h('input#code.code', {
    name: 'code', autocomplete: 'off', autocapitalize: 'characters', spellcheck: false, inputmode: 'text',
    placeholder: 'XXXX-XXXX-XXXX-XXXX', maxlength: 19, value: normaliseCode(params.code || ''),
    'aria-describedby': 'code-help',
    oninput: () => {
      const at = code.selectionStart === code.value.length;
      code.value = normaliseCode(code.value);
      if (at) code.setSelectionRange(code.value.length, code.value.length);
    },
  });
  const pass = h('input#pass', { type: 'password', autocomplete: 'new-password', minlength: 8 });
  const pass2 = h('input#pass2', { type: 'password', autocomplete: 'new-password' });
  const passBox = h('div.passbox', { hidden: !needsPassphrase(dev) },
    h('p.note', t('enrol.pass_why')),
    h('label', { for: 'pass' }, t('enrol.pass')), pass,
    h('label', { for: 'pass2' }, t('enrol.pass2')), pass2,
    h('p.warn', t('enrol.pass_forget')));
  const err = h('p.error', { role: 'alert' });
  const btn = h('button.primary.big', { type: 'submit' }, t('enrol.submit'));

  const form = h('form.card', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      const c = normaliseCode(code.value);
      if (c.length !== 19) {
        err.textContent = t('enrol.code_short');
        code.focus();
        return;
      }
      const opts = {};
      if (!passBox.hidden) {
        if (pass.value.length < 8) return void (err.textContent = t('enrol.pass_short'));
        if (pass.value !== pass2.value) return void (err.textContent = t('enrol.pass_differ'));
        opts.passphrase = pass.value;
      }
      btn.disabled = true;
      btn.textContent = t('enrol.working');
      try {
        await dev.enroll(c, opts);
        ctx.onEnrolled?.();
        ctx.go('enrol', { done: 1 });
      } catch (e) {
        if (!opts.passphrase && needsPassphrase(dev, e)) {
          passBox.hidden = false;
          err.textContent = t('enrol.pass_needed');
          pass.focus();
        } else {
          err.textContent = problemText(e);
        }
      } finally {
        btn.disabled = false;
        btn.textContent = t('enrol.submit');
      }
    },
  },
  h('p', t('enrol.intro')),
  h('label', { for: 'code' }, t('enrol.code')), code,
  h('p.hint#code-help', t('enrol.code_help')),
  passBox, err, btn);

  return h('div.screen',
    h('div.hero', h('img', { src: 'icon.svg', alt: '', width: 64, height: 64 }), h('p.lead', t('app.tagline'))),
    form,
    h('p.center', h('a', { href: link('admin') }, t('enrol.admin_link'))));
}

// After enrolment: who this device is for, and the first sync with its progress.
async function done(ctx) {
  const { dev } = ctx;
  const status = h('p.note', { 'aria-live': 'polite' }, t('enrol.first_sync'));
  const start = h('a.button.primary.big', { href: '#/' }, t('enrol.start'));
  let who = await whoBlock(dev);
  const card = h('div.card.ok-card', h('h2', '✓ ' + t('enrol.done')), who);
  ctx.syncNow?.().then(
    async () => {
      status.textContent = t('enrol.first_sync_done');
      // The unit names arrive with the first sync.
      invalidate();
      const fresh = await whoBlock(dev);
      who.replaceWith(fresh);
      who = fresh;
    },
    (e) => (status.textContent = problemText(e)));
  return h('div.screen', card, status, start);
}
