// Errors in plain words. The device and the server name a stable code (protocol.md §2); the user
// sees what it means for them and what to do, never a stack trace.
import { t, tMaybe, lang } from './i18n/index.js';

export function codeOf(e) {
  if (!e) return '';
  if (e.code && typeof e.code === 'string') return e.code;
  if (e.error?.code) return e.error.code;
  if (e.name === 'TypeError' && /fetch|network/i.test(e.message || '')) return 'network';
  if (e.name === 'AbortError') return 'network';
  return '';
}

export function problemText(e) {
  if (e == null) return '';
  if (typeof e === 'string') return e;
  if (e.problems?.length) return e.problems.map(problemMessage).join(' · ');
  const code = codeOf(e);
  const known = code && tMaybe('err.' + code);
  if (known) return known;
  const m = e.message;
  // DeviceError carries { vi, en }: already in plain words, in both languages (and true offline
  // too: a refused file is not a network problem).
  if (m && typeof m === 'object') return m[lang()] || m.vi || m.en;
  if (!navigator.onLine) return t('err.network');
  const msg = m || e.error?.message || String(e);
  return code ? `${t('err.generic')} (${code}: ${msg})` : `${t('err.generic')} (${msg})`;
}

// One checkOps problem { field, code, message: { vi, en } } as a sentence for the field it names.
export function problemMessage(p) {
  if (!p) return '';
  if (p.message && typeof p.message === 'object') return p.message[lang()] || p.message.vi || p.message.en || p.code;
  return tMaybe('err.' + p.code) || p.message || p.code;
}
