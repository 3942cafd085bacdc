// The frame every screen sits in: a title bar, the sync bar, the screen, and a bottom navigation
// within a thumb's reach. Which tabs show depends on the user's role.
import { h, clear } from './dom.js';
import { t } from './i18n/index.js';
import { link } from './router.js';
import { icon } from './icons.js';

const TABS = {
  official: [
    ['todo', 'nav.todo', 'list'],
    ['reports', 'nav.reports', 'doc'],
    ['adhoc', 'nav.adhoc', 'warn'], // báo cáo đột xuất (programme III.3)
    ['outbox', 'nav.outbox', 'send'],
    ['me', 'nav.me', 'user'],
  ],
  reviewer: [
    ['review', 'nav.review', 'check'],
    ['adhoc', 'nav.adhoc', 'warn'],
    ['dashboard', 'nav.dashboard', 'chart'],
    ['outbox', 'nav.outbox', 'send'],
    ['me', 'nav.me', 'user'],
  ],
  admin: [
    ['admin', 'nav.admin', 'key'],
    ['dashboard', 'nav.dashboard', 'chart'],
    ['me', 'nav.me', 'user'],
  ],
  none: [],
};

export function tabsFor(principal) {
  if (!principal) return TABS.none;
  if (principal.role === 'reviewer') return TABS.reviewer;
  if (principal.role === 'admin') return TABS.admin;
  return TABS.official; // official and department officials report the same way
}

export function mountShell(root) {
  const title = h('h1.title');
  const back = h('a.back', { href: '#/', 'aria-label': t('nav.back'), hidden: true, html: icon('back') });
  const header = h('header.top', back, title);
  const bar = h('div.syncbar-slot');
  const banner = h('div.banner-slot');
  const main = h('main#main', { tabindex: '-1' });
  const nav = h('nav.bottom', { 'aria-label': t('nav.label') });
  clear(root).append(header, banner, bar, main, nav);
  return {
    main,
    bar,
    banner,
    setTitle(text, backHref) {
      title.textContent = text;
      document.title = text ? `${text} · Tram` : 'Tram';
      back.hidden = !backHref;
      if (backHref) back.href = backHref;
    },
    setNav(principal, current) {
      clear(nav);
      const tabs = tabsFor(principal);
      nav.hidden = tabs.length === 0;
      document.body.classList.toggle('has-nav', tabs.length > 0);
      for (const [path, key, ic] of tabs) {
        nav.append(h('a', { href: link(path), class: path === current ? 'on' : '', 'aria-current': path === current ? 'page' : false },
          h('span.ic', { html: icon(ic) }), h('span', t(key))));
      }
    },
  };
}
