// What the app reads: the server's last row image with this device's own change sets laid on top,
// in chain order. Laid on top are the pending ones (waiting or sent: flagged `_pending`) and the
// accepted ones that no pull has shown yet (the server has them, but the stored image predates
// them; without them a row would flicker back until the next pull). A rejected change set is
// simply no longer laid on top: its edits disappear, which is the "undo" the SDK does.
//
// The overlay also carries each field's writer: a new edit names it in its bases (`b`,
// docs/merge.md §5), so that the server sees it as following what the device saw.

// The liveness cell of a server image (field 0). core wire.parsePage names it `liveness`.
function serverLiveness(r) {
  return r.liveness || (r.cells && r.cells[0]) || null;
}

// One row as { t, id, deleted, pending, version, fields: { name: { value, writer } }, live: { writer } }.
export function overlayRow(server, entries, t, id) {
  let row = null;
  if (server) {
    row = { t, id, deleted: !!server.deleted, pending: false, version: server.v, fields: {}, live: null };
    for (const [name, c] of Object.entries(server.cells || {})) {
      if (c) row.fields[name] = { value: c.value, writer: c.writer || null };
    }
    const l = serverLiveness(server);
    row.live = l && l.writer ? { writer: l.writer } : null;
  }
  for (const e of entries) {
    for (const op of e.ops) {
      if (op.t !== t || op.id !== id) continue;
      if (!row) row = { t, id, deleted: false, pending: false, version: null, fields: {}, live: null };
      // A put writes "alive" to field 0 and its fields; a del writes "deleted" and nothing else.
      row.deleted = op.k === 'del';
      row.live = { writer: e.id };
      if (op.k === 'put') for (const [name, v] of Object.entries(op.f || {})) row.fields[name] = { value: v, writer: e.id };
      if (e.state === 'waiting' || e.state === 'sent') row.pending = true;
    }
  }
  return row;
}

// The app's form: { id, field: value, …, _pending, _deleted, _version }.
export function plain(row) {
  if (!row) return null;
  const out = { id: row.id };
  for (const [name, c] of Object.entries(row.fields)) out[name] = c.value;
  out._pending = row.pending;
  out._deleted = row.deleted;
  out._version = row.version;
  return out;
}

// Rows of one table: every server row, plus rows that exist only in our change sets.
export function overlayTable(t, serverRows, entries) {
  const byId = new Map(serverRows.map((r) => [r.id, r]));
  const ids = new Set(byId.keys());
  for (const e of entries) for (const op of e.ops) if (op.t === t) ids.add(op.id);
  const out = [];
  for (const id of ids) out.push(overlayRow(byId.get(id) || null, entries, t, id));
  return out;
}

// The bases of an op (docs/merge.md "What a device puts in b"): for every field written, the
// writer id (first 16 hex digits) of what the device sees on it; and for field 0, the liveness
// writer. No base for a field never written, or for a row the device has never seen.
export function basesFor(row, fieldIds) {
  const b = {};
  if (!row) return b;
  if (row.live && row.live.writer) b[0] = row.live.writer.slice(0, 16);
  for (const [name, id] of fieldIds) {
    const c = row.fields[name];
    if (c && c.writer) b[id] = c.writer.slice(0, 16);
  }
  return b;
}
