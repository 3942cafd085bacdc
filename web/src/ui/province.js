// The province report from the server (GET /v1/report, the same library as `tram-server report`)
// and its copy on this phone, so a reviewer can open the dashboard without signal and see when
// the figures were fetched.
const KEY = 'tram.report.';

export function cachedReport(period) {
  try {
    const v = JSON.parse(localStorage.getItem(KEY + period));
    return v && v.data ? v : null;
  } catch {
    return null;
  }
}

export async function fetchReport(dev, period) {
  const res = await dev.fetchAuthed(`/v1/report?period=${encodeURIComponent(period)}&format=json`);
  if (!res.ok) throw await httpError(res);
  const data = await res.json();
  const entry = { fetchedAt: Date.now(), data };
  try {
    localStorage.setItem(KEY + period, JSON.stringify(entry));
  } catch {
    // Storage full: the dashboard still shows what it fetched, it just won't be there offline.
  }
  return entry;
}

export async function downloadReport(dev, period, format) {
  const res = await dev.fetchAuthed(`/v1/report?period=${encodeURIComponent(period)}&format=${format}`);
  if (!res.ok) throw await httpError(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `bao-cao-tong-hop-${period}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export async function httpError(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {}
  const e = new Error(body?.error?.message || `HTTP ${res.status}`);
  e.code = body?.error?.code || `http_${res.status}`;
  e.status = res.status;
  return e;
}
