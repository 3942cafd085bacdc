// The bilingual messages of checkOps (Vietnamese first, then English), one function per rule, so
// that the wording lives in one place and the rules in schema.js stay readable. Each takes the
// field's labels { vi, en } (or the table's) and returns { vi, en }.
import { ROLE_WORDS, STATE_WORDS } from './labels_en.js';

const role = (r) => ROLE_WORDS[r] ?? { vi: r, en: r };
const state = (s) => STATE_WORDS[s] ?? { vi: s, en: s };
// Vietnamese writes a decimal comma: 0,5.
const numVi = (n) => String(n).replace('.', ',');

const TYPE_WORDS = {
  integer: { vi: 'một số nguyên', en: 'a whole number' },
  real: { vi: 'một số', en: 'a number' },
  text: { vi: 'văn bản', en: 'text' },
  enum: { vi: 'một lựa chọn trong danh sách', en: 'one of the listed choices' },
  ref: { vi: 'một mã', en: 'a code' },
  boolean: { vi: 'có hoặc không', en: 'yes or no' },
  date: { vi: 'một ngày (năm-tháng-ngày)', en: 'a date (YYYY-MM-DD)' },
  attachment: { vi: 'một tệp đính kèm', en: 'an attachment' },
};

// Numbers in a refusal: en as JavaScript writes them (150, 2.5, -5), vi with a decimal comma
// and dot thousands (2,5; -1.234,5), as the engine's authorize.cpp writes them.
const numberEn = (n) => (Object.is(n, -0) ? '0' : String(n));
export function numberVi(n) {
  const s = numberEn(n);
  if (s.includes('e')) return s;
  const neg = s.startsWith('-');
  const [whole, frac] = (neg ? s.slice(1) : s).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return (neg ? '-' : '') + grouped + (frac ? ',' + frac : '');
}

/**
 * Why a value does not fit its indicator's range, without the field's label (the wording of
 * engine/src/authorize.cpp check_value_range; tests/golden/indicator-values.json holds both).
 * rule: 'percent' | 'count' | 'yes_no' | 'negative'; measure: the unit ('' when none).
 */
export function rangeText(rule, measure, value) {
  const vi = ` (đã nhập ${numberVi(value)})`;
  const en = ` (entered ${numberEn(value)})`;
  const unit = measure ? ` (${measure})` : '';
  switch (rule) {
    case 'percent': return { vi: 'tỷ lệ phần trăm phải từ 0 đến 100' + vi, en: 'a percentage must be from 0 to 100' + en };
    case 'yes_no': return { vi: 'chỉ nhập 1 (có) hoặc 0 (không)' + vi, en: 'enter only 1 (yes) or 0 (no)' + en };
    case 'count': return { vi: `số lượng${unit} phải là số nguyên, không âm` + vi, en: `a count${unit} must be a whole number, not negative` + en };
    default: return { vi: 'không được là số âm' + vi, en: 'must not be negative' + en };
  }
}

export const msg = {
  range: (L, rule, measure, value) => {
    const r = rangeText(rule, measure, value);
    return { vi: `${L.vi}: ${r.vi}`, en: `${L.en}: ${r.en}` };
  },
  required: (L) => ({ vi: `${L.vi}: bắt buộc phải có`, en: `${L.en}: is required` }),
  type: (L, type) => ({ vi: `${L.vi}: phải là ${TYPE_WORDS[type].vi}`, en: `${L.en}: must be ${TYPE_WORDS[type].en}` }),
  tooBig: (L) => ({ vi: `${L.vi}: số quá lớn`, en: `${L.en}: the number is too large` }),
  min: (L, m) => ({ vi: `${L.vi}: phải từ ${numVi(m)} trở lên`, en: `${L.en}: must be ${m} or more` }),
  max: (L, m) => ({ vi: `${L.vi}: không được lớn hơn ${numVi(m)}`, en: `${L.en}: must be ${m} or less` }),
  maxLength: (L, max, got) => ({
    vi: `${L.vi}: tối đa ${max} ký tự (đang có ${got})`,
    en: `${L.en}: at most ${max} characters (now ${got})`,
  }),
  textBytes: (L) => ({ vi: `${L.vi}: văn bản quá dài`, en: `${L.en}: the text is too long` }),
  badText: (L) => ({ vi: `${L.vi}: có ký tự không hợp lệ`, en: `${L.en}: contains an invalid character` }),
  oneOf: (L, values) => ({ vi: `${L.vi}: phải là một trong: ${values.join(', ')}`, en: `${L.en}: must be one of: ${values.join(', ')}` }),
  badRef: (L) => ({ vi: `${L.vi}: mã không hợp lệ`, en: `${L.en}: not a valid code` }),
  pattern: (L) => ({ vi: `${L.vi}: không đúng định dạng`, en: `${L.en}: is not in the expected format` }),
  immutable: (L) => ({ vi: `${L.vi}: không được thay đổi sau khi đã tạo`, en: `${L.en}: cannot change once created` }),
  unknownField: (T, name) => ({ vi: `${T.vi}: không có trường ${name}`, en: `${T.en}: there is no field ${name}` }),
  unknownTable: (name) => ({ vi: `Không có bảng ${name}`, en: `There is no table ${name}` }),
  badRowId: (T) => ({ vi: `${T.vi}: mã bản ghi không hợp lệ`, en: `${T.en}: not a valid record id` }),
  badOp: (T, k) => ({ vi: `${T.vi}: thao tác ${k} không hợp lệ (put hoặc del)`, en: `${T.en}: ${k} is not an operation (put or del)` }),
  delFields: (T) => ({ vi: `${T.vi}: lệnh xoá không kèm trường nào`, en: `${T.en}: a delete carries no fields` }),
  roleTable: (T, r) => ({ vi: `Vai trò ${role(r).vi} không được ghi ${T.vi}`, en: `The ${role(r).en} role may not write ${T.en}` }),
  roleInsert: (T, r) => ({ vi: `Vai trò ${role(r).vi} không được tạo mới ${T.vi}`, en: `The ${role(r).en} role may not create ${T.en}` }),
  roleUpdate: (T, r) => ({ vi: `Vai trò ${role(r).vi} không được sửa ${T.vi}`, en: `The ${role(r).en} role may not edit ${T.en}` }),
  roleDelete: (T, r) => ({ vi: `Vai trò ${role(r).vi} không được xoá ${T.vi}`, en: `The ${role(r).en} role may not delete ${T.en}` }),
  roleField: (L, r) => ({ vi: `${L.vi}: vai trò ${role(r).vi} không được ghi trường này`, en: `${L.en}: the ${role(r).en} role may not write this field` }),
  scope: (L, unit) => ({
    vi: `${L.vi}: đơn vị ${unit} nằm ngoài phạm vi của thiết bị này`,
    en: `${L.en}: unit ${unit} is outside this device's scope`,
  }),
  provinceWide: (T) => ({
    vi: `${T.vi}: chỉ người dùng cấp tỉnh được ghi danh mục dùng chung toàn tỉnh`,
    en: `${T.en}: only a province-wide user may write province-wide reference data`,
  }),
  scopeRequired: (L) => ({ vi: `${L.vi}: bắt buộc (đơn vị của bản ghi)`, en: `${L.en}: is required (the record's unit)` }),
  author: (L, name) => ({
    vi: `${L.vi}: phải là tên đã đăng ký của người dùng (${name})`,
    en: `${L.en}: must be the name registered for this user (${name})`,
  }),
  noRow: (T) => ({ vi: `${T.vi}: không có bản ghi này để xoá`, en: `${T.en}: there is no such record to delete` }),
  stateRequired: (L) => ({ vi: `${L.vi}: bắt buộc (trạng thái)`, en: `${L.en}: is required (the workflow state)` }),
  startState: (T, initial, got) => ({
    vi: `${T.vi}: bản ghi mới bắt đầu ở trạng thái ${state(initial).vi}, không phải ${state(got).vi}`,
    en: `${T.en}: a new record starts as ${state(initial).en}, not ${state(got).en}`,
  }),
  locked: (T, cur) => ({ vi: `${T.vi}: đã ${state(cur).vi} và bị khoá`, en: `${T.en}: it is ${state(cur).en} and locked` }),
  noTransition: (T, from, to) => ({
    vi: `${T.vi}: không được chuyển từ ${state(from).vi} sang ${state(to).vi}`,
    en: `${T.en}: cannot move from ${state(from).en} to ${state(to).en}`,
  }),
  notEditable: (L, cur) => ({
    vi: `${L.vi}: không được sửa khi bản ghi đang ở trạng thái ${state(cur).vi}`,
    en: `${L.en}: cannot be edited while the record is ${state(cur).en}`,
  }),
  notDeletable: (T, cur) => ({
    vi: `${T.vi}: không được xoá khi bản ghi đang ở trạng thái ${state(cur).vi}`,
    en: `${T.en}: cannot be deleted while it is ${state(cur).en}`,
  }),
  transitionRole: (T, r, from, to) => ({
    vi: `${T.vi}: vai trò ${role(r).vi} không được chuyển từ ${state(from).vi} sang ${state(to).vi}`,
    en: `${T.en}: the ${role(r).en} role may not move it from ${state(from).en} to ${state(to).en}`,
  }),
  transitionNeeds: (T, L, from, to) => ({
    vi: `${T.vi}: chuyển từ ${state(from).vi} sang ${state(to).vi} cần có ${L.vi}`,
    en: `${T.en}: moving from ${state(from).en} to ${state(to).en} needs ${L.en}`,
  }),
};
