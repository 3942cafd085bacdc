// Words on screen: Vietnamese first, English when the user picks it (kept in localStorage).
// Every visible string goes through t(); vi.js and en.js hold the same keys.
import vi from './vi.js';
import en from './en.js';

const tables = { vi, en };
const KEY = 'tram.lang';
let current = (() => {
  try {
    return tables[localStorage.getItem(KEY)] ? localStorage.getItem(KEY) : 'vi';
  } catch {
    return 'vi';
  }
})();

export function lang() {
  return current;
}

export function setLang(l) {
  current = tables[l] ? l : 'vi';
  try {
    localStorage.setItem(KEY, current);
  } catch {}
  document.documentElement.lang = current;
}

// t('todo.due_in', { n: 3 }) → "còn 3 ngày". A missing English string falls back to Vietnamese,
// a missing key shows the key (so a gap is visible in screenshots rather than blank).
export function t(key, params) {
  let s = tables[current][key] ?? vi[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] ?? m));
  return s;
}

// Like t() but returns undefined when neither language has the key (for optional labels).
export function tMaybe(key) {
  return tables[current][key] ?? vi[key];
}

// A schema field's label: the schema's own (Vietnamese) label, or an English one from en.js.
export function fieldLabel(schemaField, table) {
  if (current !== 'vi') {
    const en = tables[current][`field.${table}.${schemaField.name}`] || schemaField.labels?.[current];
    if (en) return en;
  }
  return schemaField.label || schemaField.name;
}

// An enum value in plain words: "on_track" → "Đúng tiến độ".
export function enumLabel(table, field, value) {
  if (value == null || value === '') return '';
  return tMaybe(`enum.${table}.${field}.${value}`) ?? tMaybe(`enum.${field}.${value}`) ?? value;
}
