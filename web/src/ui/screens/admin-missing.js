// Evidence files that accepted reports name but no phone has finished uploading
// (GET /v1/admin/attachments/missing): the phone that holds them has to sync again.
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { problemText } from '../errors.js';
import { admin } from '../admin-api.js';
import { shortId } from '../receipt.js';

export async function missingTab() {
  let list;
  try {
    list = (await admin('attachments/missing')).missing || [];
  } catch (e) {
    return h('p.error', problemText(e));
  }
  if (!list.length) return h('div.card.empty', h('p', '✓ ', t('admin.missing.none')));
  return h('div', h('p.note', t('admin.missing.note', { n: list.length })), h('ul.items', list.map((m) => h('li.card',
    h('div', h('strong', m.table), ' / ', h('span.mono', m.row)),
    h('div.mono.small', { title: m.hash }, shortId(m.hash))))));
}
