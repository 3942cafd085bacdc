// Hash routing (#/todo, #/report?id=…): works from a file cache offline and needs nothing from
// the server, and the admin's QR link #/enrol?code=… lands straight on the enrolment screen.

export function parseHash(hash = location.hash) {
  const s = hash.replace(/^#\/?/, '');
  const q = s.indexOf('?');
  const path = q < 0 ? s : s.slice(0, q);
  const params = Object.fromEntries(new URLSearchParams(q < 0 ? '' : s.slice(q + 1)));
  return { path, params };
}

export function link(path, params) {
  const qs = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== '')).toString() : '';
  return `#/${path}${qs ? '?' + qs : ''}`;
}

export function go(path, params) {
  const target = link(path, params);
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = target;
}
