// A server receipt (protocol.md §9.1) in words an official can show as proof: the province's
// signed statement that it recorded this change set at this time. The device stores a receipt
// only after verifying its signature with the pinned server key, so a stored one is verified.
import { h } from './dom.js';
import { t } from './i18n/index.js';
import { fmtTimeVNZone } from './format.js';
import { problemMessage } from './errors.js';

export function parseReceipt(rc) {
  if (!rc) return null;
  if (typeof rc.body === 'string') {
    try {
      return { ...JSON.parse(rc.body), _raw: rc };
    } catch {
      return null;
    }
  }
  return rc.body && typeof rc.body === 'object' ? { ...rc.body, _raw: rc } : { ...rc, _raw: rc.sig ? rc : null };
}

export const shortId = (hex) => (hex ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : '');

export function receiptCard(rc, { verified = true, what } = {}) {
  const b = parseReceipt(rc);
  if (!b) return null;
  const ok = b.status === 'accepted';
  const raw = b._raw;
  return h('article.card.receipt' + (ok ? '' : '.rejected'),
    h('div.receipt-head', h('span.seal', verified ? '✓' : '!'), h('div',
      h('h3', t('receipt.title', { n: b.server_seq })),
      h('div.small', verified ? t('receipt.verified') : t('receipt.not_verified')))),
    what && h('p', what),
    h('p', ok ? t('receipt.received_at', { at: fmtTimeVNZone(b.received_at_ms) }) : t('receipt.refused_at', { at: fmtTimeVNZone(b.received_at_ms) })),
    !ok && b.code && h('p.error', problemMessage({ code: b.code })),
    b.clock_ahead && h('p.warn', t('receipt.clock_ahead')),
    h('dl.ids',
      h('dt', t('receipt.changeset')), h('dd.mono', { title: b.id }, shortId(b.id)),
      h('dt', t('receipt.seq')), h('dd', String(b.seq)),
      h('dt', t('receipt.server_seq')), h('dd', String(b.server_seq)),
      h('dt', t('receipt.device')), h('dd.mono', { title: b.device }, shortId(b.device))),
    raw && navigator.clipboard && h('button.link', { type: 'button', onclick: (e) => {
      navigator.clipboard.writeText(JSON.stringify({ body: raw.body, sig: raw.sig })).then(() => (e.target.textContent = t('receipt.copied')));
    } }, t('receipt.copy')));
}
