// "Who this device is for": name, role in plain words and the units, as shown after enrolment
// and on the "Tôi" screen.
import { h } from '../dom.js';
import { t } from '../i18n/index.js';
import { refData, unitTitle } from '../data.js';

export async function whoBlock(dev) {
  const p = dev.principal || {};
  const ref = await refData(dev).catch(() => null);
  const units = p.all_units ? [t('who.all_units')] : (p.units || []).map((c) => `${unitTitle(ref, c)} (${c})`);
  return h('dl.who',
    h('dt', t('who.name')), h('dd.name', p.name || p.user || ''),
    h('dt', t('who.role')), h('dd', t('role.' + p.role)),
    h('dt', units.length > 1 ? t('who.units') : t('who.unit')), h('dd', units.map((u) => h('div', u))),
    h('dt', t('who.user')), h('dd.mono', p.user || ''));
}
