// A handful of line icons as inline SVG (24×24, stroke = currentColor): no icon font to download.
const P = {
  list: 'M9 6h11M9 12h11M9 18h11M4 6h.01M4 12h.01M4 18h.01',
  doc: 'M14 3H6v18h12V7zM14 3v4h4M9 13h6M9 17h6',
  send: 'M22 2 11 13M22 2l-7 20-4-9-9-4z',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 4-6 8-6s8 2 8 6',
  check: 'M9 11l3 3 8-8M20 12v7H4V5h11',
  chart: 'M4 20V10M10 20V4M16 20v-7M22 20H2',
  key: 'M15 7a4 4 0 1 1-3.9 5H3v3h3v3h3v-3h2.1A4 4 0 0 1 15 7z',
  back: 'M15 18l-6-6 6-6',
  sync: 'M21 12a9 9 0 0 1-15.5 6.2M3 12A9 9 0 0 1 18.5 5.8M18 2v4h-4M6 22v-4h4',
  camera: 'M3 8h4l2-3h6l2 3h4v12H3zM12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z',
  ok: 'M5 12l5 5L20 7',
  warn: 'M12 3 2 21h20zM12 10v5M12 18h.01',
  x: 'M6 6l12 12M18 6 6 18',
  print: 'M6 9V3h12v6M6 18H3v-7h18v7h-3M6 14h12v7H6z',
  download: 'M12 3v12M7 10l5 5 5-5M4 21h16',
};

export function icon(name) {
  return `<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="${P[name] || ''}"/></svg>`;
}
