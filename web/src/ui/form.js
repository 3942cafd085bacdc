// Inputs generated from the schema (schemas/sonla-2026/v2.json): one per field the user fills in,
// chosen by the field's type, labelled with the schema's label, limited by its min/max,
// max_length and enum values. The caller says which fields are filled in automatically.
import { h } from './dom.js';
import { t, fieldLabel, enumLabel } from './i18n/index.js';
import { fmtNum, parseNumber, numberForInput } from './format.js';
import { problemMessage, problemText } from './errors.js';

// One input for `field` of `table`, holding `value`. `extra` narrows a number (min, max, unit
// shown after it, hint; yesNo: a yes_no indicator's answer, a choice Có / Không that reads 1 / 0).
// Returns { el, read() → value | { error } , setError(text) }.
export function fieldInput(table, field, value, extra = {}) {
  const id = `f-${field.name}`;
  const err = h('p.field-error', { id: `e-${field.name}`, role: 'alert' });
  const label = h('label', { for: id }, fieldLabel(field, table), field.required && !extra.optional ? h('span.req', ' *') : null);
  let input;
  let read;
  if (extra.yesNo && (field.type === 'integer' || field.type === 'real')) {
    // The unit answers yes or no (schema v3 yes_no): two big choices, never a number to type.
    const name = field.name;
    const box = h('div.choices', { role: 'radiogroup', 'aria-labelledby': `l-${name}`, 'aria-describedby': `e-${name} h-${name}` }, [[1, 'answer.yes'], [0, 'answer.no']].map(([v, key]) =>
      h('label.choice', h('input', { type: 'radio', name, value: String(v), checked: value === v }), h('span', t(key)))));
    read = () => {
      const c = box.querySelector('input:checked');
      return c ? Number(c.value) : null;
    };
    return done(h('div.field', h('div.label', { id: `l-${name}` }, fieldLabel(field, table), field.required && !extra.optional ? h('span.req', ' *') : null),
      box, extra.hint && h('p.hint', { id: `h-${name}` }, extra.hint), err));
  }
  switch (field.type) {
    case 'integer':
    case 'real': {
      const min = maxOf(field.min, extra.min);
      const max = minOf(field.max, extra.max);
      input = h('input', { id, name: field.name, inputmode: field.type === 'integer' ? 'numeric' : 'decimal', autocomplete: 'off', value: numberForInput(value), 'aria-describedby': `e-${field.name} h-${field.name}` });
      const range = min != null && max != null ? t('form.range', { min: fmtNum(min), max: fmtNum(max) }) : min != null ? t('form.min', { min: fmtNum(min) }) : max != null ? t('form.max', { max: fmtNum(max) }) : '';
      const hint = [extra.hint, range].filter(Boolean).join(' · ');
      const wrap = h('div.with-unit', input, extra.unit && h('span.unit', extra.unit));
      read = () => {
        const n = parseNumber(input.value);
        if (n == null) return null;
        if (Number.isNaN(n) || (field.type === 'integer' && !Number.isInteger(n))) return { error: t('form.not_number') };
        if (min != null && n < min) return { error: t('form.too_small', { min: fmtNum(min) }) };
        if (max != null && n > max) return { error: t('form.too_big', { max: fmtNum(max) }) };
        return n;
      };
      return done(h('div.field', label, wrap, hint && h('p.hint', { id: `h-${field.name}` }, hint), err));
    }
    case 'enum': {
      // Radio buttons, not a <select>: every choice visible and a big target for the thumb.
      const name = field.name;
      const box = h('div.choices', { role: 'radiogroup', 'aria-labelledby': `l-${name}` }, field.values.map((v) =>
        h('label.choice', h('input', { type: 'radio', name, value: v, checked: v === value }), h('span', enumLabel(table, name, v)))));
      read = () => box.querySelector('input:checked')?.value ?? null;
      return done(h('div.field', h('div.label', { id: `l-${name}` }, fieldLabel(field, table), field.required ? h('span.req', ' *') : null), box, err));
    }
    case 'boolean': {
      input = h('input', { id, type: 'checkbox', checked: !!value });
      read = () => input.checked;
      return done(h('div.field', h('label.check', input, ' ', fieldLabel(field, table)), err));
    }
    case 'date': {
      input = h('input', { id, type: 'date', value: value || '' });
      read = () => input.value || null;
      return done(h('div.field', label, input, err));
    }
    default: {
      // Text: a text area for long answers (narrative, difficulties, proposals), one line otherwise.
      const long = !field.max_length || field.max_length > 200;
      input = long ? h('textarea', { id, name: field.name, rows: 4, maxlength: field.max_length || null }) : h('input', { id, name: field.name, maxlength: field.max_length || null, autocomplete: 'off' });
      input.value = value ?? '';
      const count = field.max_length && h('span.count');
      const showCount = () => count && (count.textContent = `${[...input.value].length}/${fmtNum(field.max_length, 0)}`);
      input.addEventListener('input', showCount);
      showCount();
      read = () => {
        const s = input.value.normalize('NFC').trim();
        return s === '' ? null : s;
      };
      return done(h('div.field', label, input, h('div.under', extra.hint && h('p.hint', extra.hint), count), err));
    }
  }
  function done(el) {
    // The message goes as soon as the user starts correcting the field.
    el.addEventListener('input', () => { err.textContent = ''; el.classList.remove('invalid'); });
    el.addEventListener('change', () => { err.textContent = ''; el.classList.remove('invalid'); });
    return {
      el,
      read,
      setError(text) {
        err.textContent = text || '';
        el.classList.toggle('invalid', !!text);
      },
    };
  }
}

const maxOf = (a, b) => (a == null ? b : b == null ? a : Math.max(a, b));
const minOf = (a, b) => (a == null ? b : b == null ? a : Math.min(a, b));

// A form's first problem, focused and scrolled to: a field marked invalid, else the message on top.
export function focusFirstError(form, topError) {
  const bad = form.querySelector('.invalid input, .invalid textarea') || (topError.textContent && topError);
  bad?.focus?.();
  bad?.scrollIntoView?.({ block: 'center' });
}

// A refused write (WriteRefused.problems name the field) shown on the form of `table`: each
// message next to its field's input, the rest on top; then the first one focused.
export function showWriteProblems(e, { schema, table, inputs, form, topError }) {
  const rest = [];
  for (const pr of e?.problems || []) {
    const name = typeof pr.field === 'number' ? schema.fields(pr.table || table).find((x) => x.id === pr.field)?.name : pr.field;
    const input = (pr.table || table) === table && inputs.get(name);
    if (input) input.setError(problemMessage(pr));
    else rest.push(problemMessage(pr));
  }
  if (!e?.problems?.length) rest.push(problemText(e));
  topError.textContent = rest.join(' · ');
  focusFirstError(form, topError);
}
