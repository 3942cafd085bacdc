// Registers the service worker (offline app shell) and, when a new version has been downloaded
// and is waiting, offers "a new version is ready — reload" instead of switching under the user's
// fingers in the middle of a report.
import { h, clear } from './dom.js';
import { t } from './i18n/index.js';

let version = '';
let wanted = false;
export const appVersion = () => version || '—';

export function registerSW(bannerSlot) {
  // Offline, the version is the one in the shell cache's name (sw.js: tram-shell-<version>).
  fetch('version.txt', { cache: 'no-cache' }).then((r) => (r.ok ? r.text() : Promise.reject())).then((v) => (version = v.trim()))
    .catch(() => globalThis.caches?.keys().then((k) => (version = (k.find((n) => n.startsWith('tram-shell-')) || '').slice(11))))
    .catch(() => {});
  if (!('serviceWorker' in navigator) || location.protocol === 'file:') return;
  navigator.serviceWorker.register('sw.js').then((reg) => {
    const offer = (worker) => {
      if (!worker || !navigator.serviceWorker.controller) return; // first install: nothing to replace
      clear(bannerSlot).append(h('div.banner', { role: 'status' }, h('span', t('update.ready')),
        h('button.primary', { type: 'button', onclick: () => { wanted = true; worker.postMessage({ type: 'skip-waiting' }); } }, t('update.reload'))));
    };
    if (reg.waiting) offer(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => w.state === 'installed' && offer(w));
    });
    // Look for a new version when the app comes back to the foreground.
    document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && reg.update().catch(() => {}));
  }).catch(() => {});
  // Reload only when the user asked for the new version: the first install also changes the
  // controller (clients.claim), and reloading then would wipe what the user is typing.
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!wanted) return;
    wanted = false;
    location.reload();
  });
}
