// The app's entry: opens this browser's device (IndexedDB), mounts the frame, and routes by the
// URL's hash to one screen at a time. The device's state decides what may be shown: a new
// browser sees enrolment, a locked one the passphrase, a ready one its role's home screen. The
// administrator's pages need no enrolment (they use the admin token).
import './styles.css';
import { Device } from '../device/device.js';
import { h, clear } from './dom.js';
import { t, setLang, lang } from './i18n/index.js';
import { parseHash, go } from './router.js';
import { mountShell } from './shell.js';
import { mountSyncBar } from './syncbar.js';
import { registerSW } from './sw-register.js';
import { invalidate } from './data.js';
import { problemText } from './errors.js';
import { on } from './events.js';
import enrol from './screens/enrol.js';
import unlock from './screens/unlock.js';
import todo from './screens/todo.js';
import report from './screens/report.js';
import reports from './screens/reports.js';
import outbox from './screens/outbox.js';
import review from './screens/review.js';
import reviewItem from './screens/review-item.js';
import dashboard from './screens/dashboard.js';
import admin from './screens/admin.js';
import me from './screens/me.js';
import adhoc from './screens/adhoc.js';
import adhocItem from './screens/adhoc-item.js';

const SCREENS = { enrol, unlock, todo, report, reports, outbox, review, 'review-item': reviewItem, dashboard, admin, me, adhoc, 'adhoc-item': adhocItem };
// Screens that work without an enrolled device.
const OPEN = new Set(['enrol', 'admin', 'me']);
// Screens that redraw when the device's data changes (a sync brought rows, a write was stored).
const LIVE = new Set(['todo', 'reports', 'outbox', 'review', 'adhoc']);

let dev = null;
let shell = null;
let bar = null;
let cleanups = [];
let renderSeq = 0;
let drawnHash = null; // the route the screen on display was drawn for

function home(p) {
  if (!p) return 'enrol';
  if (p.role === 'reviewer') return 'review';
  if (p.role === 'admin') return 'dashboard';
  return 'todo';
}

async function route() {
  const seq = ++renderSeq;
  for (const c of cleanups.splice(0)) c();
  const hash = location.hash;
  if (hash !== drawnHash && shell.main.firstChild) {
    // Another route: the old screen goes at once, so that a tap while the new one loads cannot
    // act on it (a to-do list of the previous period opened a report for the wrong period).
    // A live redraw of the same route keeps it in place.
    clear(shell.main).append(h('div.screen', { 'aria-busy': 'true' }));
    drawnHash = null;
  }
  let { path, params } = parseHash();
  const ready = dev?.state === 'ready';
  if (!SCREENS[path]) path = '';
  if (!OPEN.has(path)) {
    if (!dev || dev.state === 'new') path = 'enrol';
    else if (dev.state === 'locked') path = 'unlock';
    else if (!path) path = home(dev.principal);
  }
  if (path === 'enrol' && dev?.state === 'locked') path = 'unlock';
  if (path === 'enrol' && ready && !params.done && !params.code) path = home(dev.principal);
  shell.setNav(ready ? dev.principal : null, path === 'review-item' ? 'review' : path === 'report' ? 'todo' : path === 'adhoc-item' ? 'adhoc' : path);
  if (ready && !bar) bar = mountSyncBar(shell.bar, dev);
  const ctx = {
    dev, params, path, go,
    alive: () => seq === renderSeq,
    setTitle: (text, back) => seq === renderSeq && shell.setTitle(text, back),
    cleanup: (fn) => cleanups.push(fn),
    syncNow: () => (bar ? bar.run() : dev.sync()),
    refreshShell: () => rebuild(),
    onEnrolled: () => startDevice(),
  };
  try {
    const el = await SCREENS[path](ctx);
    if (seq !== renderSeq) return; // the user moved on while this screen loaded
    clear(shell.main).append(el);
    drawnHash = hash;
    shell.main.focus({ preventScroll: true });
  } catch (e) {
    console.error(e);
    if (seq === renderSeq) {
      clear(shell.main).append(h('div.screen', h('div.card', h('p.error', problemText(e)))));
      drawnHash = hash;
    }
  }
  if (LIVE.has(path) && dev?.on) {
    let timer = 0;
    // Redraw after the device settles (a sync fires many changes), keeping the scroll position.
    cleanups.push(on(dev, 'change', () => {
      invalidate();
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (document.activeElement?.matches?.('input, textarea, select')) return; // never under the user's fingers
        const y = scrollY;
        route().then(() => scrollTo(0, y));
      }, 400);
    }), () => clearTimeout(timer));
  }
}

// Language changed: redraw the frame and the screen in the new words.
function rebuild() {
  bar?.destroy();
  bar = null;
  shell = mountShell(document.getElementById('app'));
  registerSW(shell.banner);
  route();
}

function startDevice() {
  if (dev?.state !== 'ready') return;
  invalidate();
  try {
    dev.startAuto?.();
  } catch {}
}

async function boot() {
  setLang(lang());
  shell = mountShell(document.getElementById('app'));
  registerSW(shell.banner);
  try {
    dev = await Device.open({ baseUrl: location.origin, name: 'default' });
  } catch (e) {
    // No IndexedDB (private mode on some browsers): the admin pages still work.
    console.error(e);
    shell.banner.append(h('div.banner.bad', t('boot.no_store'), ' ', problemText(e)));
  }
  if (dev) {
    on(dev, 'state', () => {
      invalidate();
      startDevice();
    });
    startDevice();
  }
  window.addEventListener('hashchange', route);
  await route();
  document.documentElement.classList.add('booted');
}

boot();
