// The administrator's calls (protocol.md §6). The admin token is a master key to the province's
// users and devices, so it lives in sessionStorage only: gone when the tab closes, never in the
// device store, and never sent anywhere but this server's /v1/admin/.
import { httpError } from './province.js';

const KEY = 'tram.adminToken';

export const adminToken = () => sessionStorage.getItem(KEY);
export const setAdminToken = (v) => (v ? sessionStorage.setItem(KEY, v) : sessionStorage.removeItem(KEY));

export async function admin(path, { method = 'GET', body } = {}) {
  const res = await fetch(`/v1/admin/${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    cache: 'no-store',
  });
  if (!res.ok) throw await httpError(res);
  return res.json();
}
