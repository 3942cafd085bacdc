// The sync bar: is there signal, when did this phone last reach the province, how much is still
// waiting to leave, and — while syncing — what is happening, with counts and bytes, so that an
// official on a slow 2G link can see that something moves.
import { h, clear } from './dom.js';
import { t } from './i18n/index.js';
import { fmtShortVN, fmtBytes, fmtNum } from './format.js';
import { icon } from './icons.js';
import { problemText } from './errors.js';
import { on } from './events.js';
import { link } from './router.js';

const LAST_KEY = 'tram.lastSync';

export function lastSync() {
  const v = Number(localStorage.getItem(LAST_KEY));
  return Number.isFinite(v) && v > 0 ? v : null;
}

function pendingCount(entries) {
  return entries.filter((e) => e.state === 'waiting' || e.state === 'sent').length;
}

export function mountSyncBar(slot, dev) {
  const dot = h('span.dot');
  const netText = h('span.net');
  const last = h('span.last');
  const pending = h('span.pending');
  const btn = h('button.sync-btn', { type: 'button', onclick: () => run().catch(() => {}) }, h('span.ic', { html: icon('sync') }), h('span', t('sync.now')));
  const bar = h('div.progress', { hidden: true, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 }, h('div.fill'));
  const phase = h('div.phase', { 'aria-live': 'polite' });
  const alerts = h('div.alerts');
  const root = h('section.syncbar', { 'aria-label': t('sync.label') },
    h('div.row', h('div.info', h('div', dot, netText, ' · ', pending), last), btn), bar, phase, alerts);
  clear(slot).append(root);
  let quiet = 0;

  function showNet() {
    const online = navigator.onLine;
    root.classList.toggle('offline', !online);
    netText.textContent = online ? t('sync.online') : t('sync.offline');
  }

  // What waits, when the phone last reached the province, and what needs the user: refused
  // changes, a wrong clock (dev.info(); older devices without it: the outbox and localStorage).
  async function showCounts() {
    let info = null;
    try {
      info = dev.info ? await dev.info() : { pending: pendingCount(await dev.outbox()) };
    } catch {}
    const ls = info?.lastSyncAt || lastSync();
    last.textContent = ls ? t('sync.last', { at: fmtShortVN(ls) }) : t('sync.never');
    const n = info?.pending || 0;
    const files = info?.uploads || 0;
    pending.textContent = n ? t('sync.pending', { n }) : files ? t('sync.files_pending', { n: files }) : info ? t('sync.nothing_pending') : '';
    root.classList.toggle('has-pending', n + files > 0);
    clear(alerts);
    if (info?.rejected) alerts.append(h('a.alert', { href: link('outbox', { tab: 'rejected' }) }, t('sync.rejected', { n: info.rejected })));
    if (info?.clockAhead) alerts.append(h('div.alert', t('receipt.clock_ahead')));
  }

  // Busy while any sync runs: the one this button started, or an automatic one (dev.startAuto),
  // whose progress arrives as 'sync' events.
  function setBusy(on) {
    btn.disabled = on;
    root.classList.toggle('busy', on);
    if (on) root.classList.remove('failed');
    else bar.hidden = true;
  }

  function progress(p) {
    if (!p || !p.phase) return;
    setBusy(true);
    bar.hidden = false;
    const pct = p.total ? Math.min(100, Math.round((100 * (p.done || 0)) / p.total)) : null;
    bar.classList.toggle('indeterminate', pct == null);
    bar.firstChild.style.width = pct == null ? '' : pct + '%';
    if (pct != null) bar.setAttribute('aria-valuenow', pct);
    const counts = p.total ? t('sync.count', { done: fmtNum(p.done || 0, 0), total: fmtNum(p.total, 0) }) : '';
    const bytes = p.bytes ? fmtBytes(p.bytes) : '';
    phase.textContent = [t('sync.phase.' + p.phase), counts, bytes].filter(Boolean).join(' · ');
  }

  // The end of a sync, whoever started it: what it did, or why it failed, in plain words.
  function finished(e) {
    setBusy(false);
    clearTimeout(quiet);
    if (e.ok) {
      localStorage.setItem(LAST_KEY, String(Date.now()));
      phase.textContent = summary(e.report);
      // Success needs no lasting words: the time of the last sync says it.
      const said = phase.textContent;
      quiet = setTimeout(() => phase.textContent === said && (phase.textContent = ''), 8000);
    } else {
      phase.textContent = problemText(e.error);
      root.classList.add('failed');
    }
    showCounts();
  }

  // Starts a sync, or joins the one running (the device hands back the running one's promise).
  async function run() {
    if (!btn.disabled) {
      setBusy(true);
      phase.textContent = t('sync.starting');
    }
    try {
      return await dev.sync({ onProgress: progress });
    } catch (e) {
      // Shown by finished(); a sync refused before it started (e.g. not enrolled) is shown here.
      if (root.classList.contains('busy')) finished({ ok: false, error: e });
      throw e;
    }
  }

  function summary(r) {
    if (!r || typeof r !== 'object') return t('sync.done');
    const parts = [t('sync.done')];
    if (r.pushed) parts.push(t('sync.sent_n', { n: r.pushed }));
    if (r.pulled) parts.push(t('sync.received_n', { n: r.pulled }));
    return parts.join(' · ');
  }

  showNet();
  showCounts();
  const offs = [
    on(window, 'online', () => { showNet(); }),
    on(window, 'offline', showNet),
    dev.on && on(dev, 'change', showCounts),
    // Every sync reports here: progress while it runs, then { done: true, ok, report | error }.
    dev.on && on(dev, 'sync', (e) => (e && e.done === true ? finished(e) : progress(e))),
  ];
  return {
    run,
    refresh: showCounts,
    destroy() {
      clearTimeout(quiet);
      for (const off of offs) off && off();
      clear(slot);
    },
  };
}
