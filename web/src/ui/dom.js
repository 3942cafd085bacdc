// A tiny hyperscript helper: enough DOM building for one-column phone screens without a framework
// (the whole app shell must stay small enough to load over EDGE).

// h('button.big', { onclick }, 'Gửi') → <button class="big">Gửi</button>; h('input#code.x') sets
// the id too. Attributes starting with "on" become listeners; `false`/`null` children and
// attributes are skipped.
export function h(tag, attrs, ...children) {
  const name = /^[a-z0-9-]*/i.exec(tag)[0];
  const el = document.createElement(name || 'div');
  const classes = [];
  for (const [, kind, v] of tag.slice(name.length).matchAll(/([.#])([^.#]+)/g)) kind === '#' ? (el.id = v) : classes.push(v);
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
    else if (k === 'html') el.innerHTML = v; // only for our own static SVG
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === false || c == null) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// A labelled pill, e.g. the state of a report; `kind` picks the colour (ok, warn, bad, info).
export function pill(text, kind = 'info') {
  return h('span.pill.' + kind, text);
}

// A short message that goes away by itself, for "Đã lưu bản nháp" and the like.
export function toast(text, kind = 'ok') {
  const el = h('div.toast.' + kind, { role: 'status' }, text);
  document.body.append(el);
  setTimeout(() => el.remove(), 3500);
}
