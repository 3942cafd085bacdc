// The enrolled devices (GET /v1/admin/devices) with their user and state, and the two actions on
// a lost or cloned phone: revoke (stops it at once, even with an open session) and release.
import { h, pill, clear } from '../dom.js';
import { t } from '../i18n/index.js';
import { fmtTimeVN, fmtNum } from '../format.js';
import { problemText } from '../errors.js';
import { admin } from '../admin-api.js';
import { shortId } from '../receipt.js';

export async function devicesTab(ctx) {
  const box = h('div');
  const filter = h('input', { type: 'search', placeholder: t('admin.dev.filter'), value: ctx.params.user || '', oninput: () => draw() });
  let devices = [];
  async function load() {
    try {
      devices = (await admin('devices')).devices || [];
    } catch (e) {
      clear(box).append(h('p.error', problemText(e)));
      return;
    }
    draw();
  }
  function draw() {
    const q = filter.value.trim().toLowerCase();
    const list = devices.filter((d) => !q || d.user.toLowerCase().includes(q) || d.device.startsWith(q));
    clear(box).append(h('p.summary', t('admin.dev.count', { n: list.length })), h('ul.items', list.map((d) => h('li.card.device',
      h('div.item-top', h('strong', d.user), pill(t('admin.dev.state.' + d.state), d.state === 'active' ? 'ok' : 'bad')),
      h('div.mono.small', { title: d.device }, shortId(d.device)),
      h('div.small', t('admin.dev.seq', { n: fmtNum(d.seq, 0) }),
        d.last_seen_ms ? ' · ' + t('admin.dev.last_seen', { at: fmtTimeVN(d.last_seen_ms) }) : ''),
      h('div.actions', d.state === 'active'
        ? h('button.danger', { type: 'button', onclick: () => act(d, 'revoke') }, t('admin.dev.revoke'))
        : h('button.secondary', { type: 'button', onclick: () => act(d, 'release') }, t('admin.dev.release')))))));
  }
  async function act(d, what) {
    if (!confirm(t('admin.dev.confirm_' + what, { user: d.user }))) return;
    try {
      await admin(`devices/${d.device}/${what}`, { method: 'POST' });
      await load();
    } catch (e) {
      alert(problemText(e));
    }
  }
  await load();
  return h('div', h('p.note', t('admin.dev.note')), filter, box);
}
