// Dates, numbers and times as officials write them: dd/mm/yyyy, decimal comma and dot thousands
// in Vietnamese, and times in Vietnam (UTC+7, no daylight saving) with the zone said once.
import { lang, t } from './i18n/index.js';

const VN_OFFSET_MS = 7 * 3600 * 1000;

// The calendar date in Vietnam now (YYYY-MM-DD): deadlines are counted in Vietnam time.
export function todayVN(nowMs = Date.now()) {
  return new Date(nowMs + VN_OFFSET_MS).toISOString().slice(0, 10);
}

// 'YYYY-MM-DD' → 'dd/mm/yyyy'.
export function fmtDate(iso) {
  if (!iso) return '';
  const [y, m, d] = String(iso).slice(0, 10).split('-');
  return d && m && y ? `${d}/${m}/${y}` : String(iso);
}

// A moment (ms since epoch, or an ISO string) as 'dd/mm/yyyy hh:mm' in Vietnam time.
export function fmtTimeVN(at, { seconds = false } = {}) {
  if (at == null || at === '') return '';
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return String(at);
  const s = new Date(ms + VN_OFFSET_MS).toISOString();
  return `${fmtDate(s.slice(0, 10))} ${s.slice(11, seconds ? 19 : 16)}`;
}

// Short, for the sync bar: "06:02 07/12" (the year only when it is not this one).
export function fmtShortVN(ms) {
  const s = new Date(ms + VN_OFFSET_MS).toISOString();
  const thisYear = new Date(Date.now() + VN_OFFSET_MS).toISOString().slice(0, 4);
  const d = fmtDate(s.slice(0, 10));
  return `${s.slice(11, 16)} ${s.slice(0, 4) === thisYear ? d.slice(0, 5) : d}`;
}

// With the zone, for proofs: "03/06/2026 14:05 (giờ Việt Nam, UTC+7)".
export function fmtTimeVNZone(at) {
  const s = fmtTimeVN(at, { seconds: true });
  return s ? `${s} (${t('time.zone')})` : '';
}

export function fmtNum(n, maxDigits = 2) {
  if (n == null || n === '' || !Number.isFinite(Number(n))) return '';
  return new Intl.NumberFormat(lang() === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: maxDigits }).format(Number(n));
}

export function fmtBytes(n) {
  if (!n) return '0 KB';
  if (n < 1024 * 1024) return `${fmtNum(Math.max(1, Math.round(n / 1024)), 0)} KB`;
  return `${fmtNum(n / 1024 / 1024, 1)} MB`;
}

// Days from `a` to `b`, both 'YYYY-MM-DD'.
export function daysBetween(a, b) {
  return Math.round((Date.parse(b) - Date.parse(a)) / 86400000);
}

// '2026-H1' → '6 tháng đầu năm 2026'; '2026' → 'năm 2026'.
export function periodLabel(code) {
  if (!code) return '';
  const m = /^(\d{4})(-H1)?$/.exec(code);
  if (!m) return code;
  return t(m[2] ? 'period.h1' : 'period.year', { y: m[1] });
}

// Parse what the user typed as a number, accepting the Vietnamese decimal comma ("97,5").
export function parseNumber(s) {
  const str = String(s ?? '').trim().replace(/\s/g, '');
  if (!str) return null;
  // "1.234,5" (vi) → 1234.5; "97,5" → 97.5; "97.5" → 97.5
  const norm = /,/.test(str) ? str.replace(/\./g, '').replace(',', '.') : str;
  const n = Number(norm);
  return Number.isFinite(n) ? n : NaN;
}

// A value for an <input type=number>-like text field, written the user's way.
export function numberForInput(n) {
  if (n == null || n === '') return '';
  return lang() === 'vi' ? String(n).replace('.', ',') : String(n);
}
