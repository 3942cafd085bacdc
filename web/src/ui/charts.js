// Small SVG charts drawn by hand (no chart library: the app must load over EDGE). Colours come
// from CSS classes, so print and screen styles can differ.
import { h } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// One horizontal bar split into parts: [{ value, cls, label }]. Width follows the container.
export function stackedBar(parts, { height = 18, title } = {}) {
  const total = parts.reduce((a, p) => a + p.value, 0) || 1;
  let x = 0;
  const svg = s('svg', { viewBox: `0 0 100 ${height}`, preserveAspectRatio: 'none', class: 'bar', role: 'img', 'aria-label': title || parts.map((p) => `${p.label}: ${p.value}`).join(', ') });
  for (const p of parts) {
    if (!p.value) continue;
    const w = (100 * p.value) / total;
    svg.append(s('rect', { x, y: 0, width: w, height, class: p.cls }, s('title', {}, `${p.label}: ${p.value}`)));
    x += w;
  }
  return svg;
}

// Columns per period, each stacked from its parts; labels under the columns.
export function columns(groups, { height = 120 } = {}) {
  const n = groups.length || 1;
  const max = Math.max(1, ...groups.map((g) => g.parts.reduce((a, p) => a + p.value, 0)));
  const colW = 100 / n;
  const svg = s('svg', { viewBox: `0 0 100 ${height + 16}`, class: 'columns', role: 'img' });
  groups.forEach((g, i) => {
    let y = height;
    for (const p of g.parts) {
      const hgt = (height * p.value) / max;
      if (!hgt) continue;
      y -= hgt;
      svg.append(s('rect', { x: i * colW + colW * 0.2, y, width: colW * 0.6, height: hgt, class: p.cls }, s('title', {}, `${g.label} · ${p.label}: ${p.value}`)));
    }
    svg.append(s('text', { x: i * colW + colW / 2, y: height + 12, 'text-anchor': 'middle', class: 'lbl' }, g.label));
  });
  return svg;
}

// A value against its target on a 0..max scale: a filled bar and a tick at the target.
export function gauge(value, target, max, { label } = {}) {
  const v = Math.max(0, Math.min(100, (100 * (value || 0)) / (max || 1)));
  const tg = target == null ? null : Math.max(0, Math.min(100, (100 * target) / (max || 1)));
  return s('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'gauge', role: 'img', 'aria-label': label || '' },
    s('rect', { x: 0, y: 2, width: 100, height: 6, class: 'track' }),
    s('rect', { x: 0, y: 2, width: v, height: 6, class: 'fill' }),
    tg != null ? s('rect', { x: Math.max(0, tg - 0.6), y: 0, width: 1.2, height: 10, class: 'tick' }) : null);
}

export function legend(items) {
  return h('ul.legend', items.map(([cls, text]) => h('li', h('span.sw.' + cls), text)));
}
