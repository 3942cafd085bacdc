// "Tôi": who this phone reports as, the language, the device's key fingerprint (to read out to
// the administrator when a phone is lost), and the way to the administrator's pages.
import { h } from '../dom.js';
import { t, lang, setLang } from '../i18n/index.js';
import { link } from '../router.js';
import { whoBlock } from './who.js';
import { shortId } from '../receipt.js';
import { appVersion } from '../sw-register.js';

export default async function me(ctx) {
  const { dev } = ctx;
  ctx.setTitle(t('me.title'));
  const langs = h('div.choices.row', { role: 'radiogroup', 'aria-label': t('me.language') }, [['vi', 'Tiếng Việt'], ['en', 'English']].map(([code, name]) =>
    h('label.choice', h('input', { type: 'radio', name: 'lang', value: code, checked: lang() === code, onchange: () => { setLang(code); ctx.refreshShell(); } }), h('span', name))));
  const p = dev?.principal;
  // The server announced a new address (a signed `admin move` statement): this app lives at its
  // own address, so the official is told where to go (device/identity.js followServerKey).
  const moved = dev?.movedTo;
  return h('div.screen',
    moved && h('section.card.moved', h('p.note.warn', t('me.moved', { address: moved.address })),
      h('a.mono', { href: moved.address, rel: 'noreferrer' }, moved.address)),
    p && h('section.card', h('h2', t('me.who')), await whoBlock(dev),
      h('p.small', t('me.device'), ' ', h('span.mono', { title: p.device }, shortId(p.device)))),
    h('section.card', h('h2', t('me.language')), langs),
    dev?.state === 'ready' && h('section.card', h('h2', t('sync.label')), h('p', t('me.sync_note')), h('button.primary.big', { type: 'button', onclick: () => ctx.syncNow().catch(() => {}) }, t('sync.now'))),
    h('section.card', h('h2', t('admin.title')), h('p', t('me.admin_note')), h('a.button.secondary', { href: link('admin') }, t('me.admin_open'))),
    h('p.small.center', t('me.version', { v: appVersion() })));
}
