// "Chờ gửi": what this phone has signed and not yet handed to the province, the receipts that
// prove what it did hand over (biên nhận điện tử), edits that lost to someone else's
// (chỉnh sửa trùng) and change sets the province refused (bị từ chối), each in plain words.
import { h, pill } from '../dom.js';
import { t, fieldLabel, enumLabel } from '../i18n/index.js';
import { fmtTimeVN, fmtBytes, fmtNum, fmtDate } from '../format.js';
import { receiptCard, parseReceipt, shortId } from '../receipt.js';
import { problemMessage } from '../errors.js';
import { link } from '../router.js';
import { bundleCard } from '../bundle.js';

const TABS = ['waiting', 'receipts', 'conflicts', 'rejected'];

export default async function outbox(ctx) {
  const { dev, params } = ctx;
  ctx.setTitle(t('outbox.title'));
  const tab = TABS.includes(params.tab) ? params.tab : 'waiting';
  const [entries, receipts, conflicts, rejections, files] = await Promise.all([
    dev.outbox(), call(dev, 'receipts'), call(dev, 'conflicts'), call(dev, 'rejections'), call(dev, 'attachments'),
  ]);
  const waiting = entries.filter((e) => e.state === 'waiting' || e.state === 'sent');
  const counts = { waiting: waiting.length, receipts: receipts.length, conflicts: conflicts.length, rejected: rejections.length };
  const tabs = h('div.tabs', { role: 'tablist' }, TABS.map((k) => h('a.tab', { href: link('outbox', { tab: k }), role: 'tab', class: k === tab ? 'on' : '', 'aria-selected': k === tab ? 'true' : 'false' },
    t('outbox.tab.' + k), counts[k] ? h('span.badge' + (k === 'conflicts' || k === 'rejected' ? '.bad' : ''), String(counts[k])) : null)));
  let body;
  if (tab === 'waiting') body = h('div', waitingList(waiting, entries), uploadList(files), dev.exportBundle && bundleCard(dev, waiting.length));
  else if (tab === 'receipts') body = receiptList(receipts, entries);
  else if (tab === 'conflicts') body = await conflictList(dev, conflicts);
  else body = rejectedList(dev, rejections);
  return h('div.screen', tabs, body);
}

async function call(dev, name) {
  try {
    return (await dev[name]?.()) || [];
  } catch {
    return [];
  }
}

// The rows a change set touched, when the device says (outbox entries may carry them).
function rowsOf(e) {
  const list = e.rows || e.ops || [];
  return list.map((r) => (Array.isArray(r) ? { table: r[0], id: r[1] } : { table: r.t || r.table, id: r.id })).filter((r) => r.table && r.id);
}

// "Báo cáo (1), ảnh minh chứng (2)": what a change set holds, by table.
function describe(e) {
  const n = new Map();
  for (const r of rowsOf(e)) n.set(r.table, (n.get(r.table) || 0) + 1);
  return [...n].map(([table, c]) => `${t('table.' + table)} (${c})`).join(', ');
}

function rowLinks(e) {
  const rows = rowsOf(e).filter((r) => r.table === 'progress_report');
  return rows.length ? h('div.small', rows.map((r) => h('a', { href: link('report', { id: r.id }) }, t('outbox.open_report')))) : null;
}

function waitingList(waiting, all) {
  if (!waiting.length) return h('div.card.empty', h('p', '✓ ', t('outbox.all_sent')), all.length > 0 && h('p.small', t('outbox.history', { n: all.length })));
  return h('div', h('p.note', t('outbox.waiting_note', { n: waiting.length })), h('ul.items', waiting.map((e) => h('li.card.entry',
    h('div.item-top', h('span.code', `#${e.seq}`), pill(t('outbox.state.' + e.state), e.state === 'sent' ? 'info' : 'warn')),
    e.createdAt && h('div.small', t('outbox.signed_at', { at: fmtTimeVN(e.createdAt) })),
    h('div', describe(e)),
    rowLinks(e)))));
}

// Photos kept here that the province does not have yet, and how far each upload went.
function uploadList(files) {
  // Only files a signed change set names: a photo taken for a form never saved is not sent.
  const list = files.filter((f) => (f.state === 'waiting' || f.state === 'uploading') && (f.named || []).length > 0);
  if (!list.length) return null;
  return h('section.card', h('h3', t('outbox.files', { n: list.length })), h('ul.plain', list.map((f) =>
    h('li', h('span.mono', shortId(f.hash)), ' · ', fmtBytes(f.size || 0),
      f.offset ? ` · ${t('outbox.uploaded_pct', { pct: Math.floor((100 * f.offset) / (f.size || 1)) })}` : ''))),
  h('p.small', t('outbox.files_note')));
}

function receiptList(receipts, entries) {
  // Receipts may come as stored entries or bare {body, sig}; newest first.
  const list = receipts.map((r) => (r.receipt ? r : { receipt: r })).map((r) => ({ ...r, b: parseReceipt(r.receipt) })).filter((r) => r.b);
  list.sort((a, b) => (b.b.server_seq || 0) - (a.b.server_seq || 0));
  if (!list.length) return h('div.card.empty', h('p', t('receipt.none')));
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  return h('div', h('p.note', t('receipt.explain')), list.map((r) => {
    const e = bySeq.get(r.b.seq) || r;
    const card = receiptCard(r.receipt, { verified: r.verified !== false, what: e.rows ? describe(e) : '' });
    const links = rowLinks(e);
    if (card && links) card.append(links);
    return card;
  }));
}

async function conflictList(dev, conflicts) {
  if (!conflicts.length) return h('div.card.empty', h('p', t('conflict.none')));
  const schema = dev.schema;
  const cards = [];
  for (const c of conflicts) {
    const table = c.table || c.t;
    const rowId = c.id || c.row;
    const f = typeof c.field === 'number' ? schema.fields(table).find((x) => x.id === c.field) : schema.field(table, c.field);
    const row = await dev.get(table, rowId).catch(() => null);
    const kept = c.kept !== undefined ? c.kept : row?.[f?.name];
    const lost = c.lost !== undefined ? c.lost : plain(c.value);
    cards.push(h('article.card.conflict',
      h('h3', t('conflict.title')),
      h('p', t('conflict.explain', { field: f ? fieldLabel(f, table) : t('conflict.row') })),
      h('p', c.mineLost ? t('conflict.mine_lost') : t('conflict.mine_won')),
      h('dl.ids', h('dt', t('conflict.kept')), h('dd.kept', show(kept, f, table)), h('dt', t('conflict.lost')), h('dd.lost', show(lost, f, table))),
      table === 'progress_report' && h('a', { href: link('report', { id: rowId }) }, t('outbox.open_report'))));
  }
  return h('div', cards);
}

// A value in the change-set encoding ([tag, v]) or plain.
function plain(v) {
  return Array.isArray(v) && typeof v[0] === 'string' && v.length === 2 ? v[1] : v;
}

// As the official wrote it: "78,5", "Đúng tiến độ", "03/06/2026", "Có".
function show(v, f, table) {
  if (v == null || v === '') return t('conflict.empty');
  if (!f) return v === 1 || v === true ? t('conflict.row_kept') : v === 0 || v === false ? t('conflict.row_deleted') : String(v);
  if (f.type === 'enum') return enumLabel(table, f.name, v);
  if (f.type === 'real' || f.type === 'integer') return fmtNum(v, 6);
  if (f.type === 'date') return fmtDate(v);
  if (f.type === 'boolean') return v ? t('conflict.yes') : t('conflict.no');
  return String(v);
}

function rejectedList(dev, rejections) {
  if (!rejections.length) return h('div.card.empty', h('p', t('rejected.none')));
  return h('div', h('p.note', t('rejected.explain')), rejections.map((r) => h('article.card.rejected',
    h('div.item-top', h('span.code', `#${r.seq ?? ''}`), pill(t('rejected.pill'), 'bad')),
    h('p', problemMessage({ code: r.code, message: r.message && typeof r.message === 'object' ? r.message : null }) || r.code),
    typeof r.message === 'string' && h('p.small.mono', r.message),
    rowLinks(r),
    r.id && h('p.small.mono', shortId(r.id)),
    dev.dismissRejection && h('button.link', { type: 'button', onclick: () => dev.dismissRejection(r.seq) }, t('rejected.dismiss')))));
}
