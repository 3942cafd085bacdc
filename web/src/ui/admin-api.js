// The administrator's calls (protocol.md §6). The admin token is a master key to the province's
// users and devices, so it lives in sessionStorage only: gone when the tab closes, never in the
// device store, and never sent anywhere but this server's /v1/admin/.
import { httpError } from './province.js';

const KEY = 'tram.adminToken';

export const adminToken = () => sessionStorage.getItem(KEY);
export const setAdminToken = (v) => (v ? sessionStorage.setItem(KEY, v) : sessionStorage.removeItem(KEY));

// body: an object (sent as JSON), or a string sent as it is (a bundle's bytes). `text: true`
// returns the answer's text unparsed (a receipt bundle, kept byte for byte).
export async function admin(path, { method = 'GET', body, text = false } = {}) {
  const res = await fetch(`/v1/admin/${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body == null ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    cache: 'no-store',
  });
  if (!res.ok) throw await httpError(res);
  return text ? res.text() : res.json();
}
