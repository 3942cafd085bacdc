// core/ against the real tram-server on loopback: enrol a WebCrypto key, open a session, pull
// and parse the seeded reference rows, write a progress report checked by checkOps, encode and
// sign it here, push it, and verify the signed receipt and head with the pinned server key.
// Then a report for a unit outside the official's scope: checkOps refuses it, and when forced
// past the check the server refuses it too (forbidden_scope, with a receipt).
// Skipped, saying so, only when build/dev/server/tram-server has not been built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/core/bytes.js';
import { changeSetId, encodeChangeSet } from '../../src/core/changeset.js';
import { Hlc } from '../../src/core/hlc.js';
import { createDeviceKey, openDeviceKey } from '../../src/core/keys.js';
import { checkOps, opToWire, Schema } from '../../src/core/schema.js';
import { parsePage, pushBody, sessionMessage, verifyHead, verifyReceipt } from '../../src/core/wire.js';
import { REPO, schemaJson } from './golden.mjs';

const SERVER = process.env.TRAM_SERVER_BIN || join(REPO, 'build/dev/server/tram-server');
const present = existsSync(SERVER);

function cli(...args) {
  const r = spawnSync(SERVER, args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `tram-server ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// `serve` prints "tram-server listening on 127.0.0.1:PORT" and "server key HEX" (serve.cpp).
function serve(data) {
  const proc = spawn(SERVER, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--threads', '2'], {
    cwd: data, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address from tram-server in 15 s: ${out} ${err}`)), 15_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const addr = /listening on ([0-9.]+):([0-9]+)/.exec(out);
      const key = /server key ([0-9a-f]{64})/.exec(out);
      if (addr && key) {
        clearTimeout(timer);
        resolve({ base: `http://${addr[1]}:${addr[2]}`, printedKey: key[1] });
      }
    });
    proc.on('exit', (code) => reject(new Error(`tram-server exited (${code}): ${err}`)));
  });
  return { proc, ready };
}

test('a browser-style device enrols, pushes a signed report and verifies the receipt', { skip: !present && `not built: ${SERVER} (the lead builds build/dev)`, timeout: 120_000 }, async () => {
  const data = mkdtempSync(join(tmpdir(), 'tram-web-core-'));
  let server;
  try {
    cli('seed', '--data', data);
    cli('admin', 'create-user', '--data', data, '--id', 'minh', '--role', 'official', '--units', '03808', '--name', 'Lò Văn Minh');
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(cli('admin', 'enrol-code', '--data', data, '--user', 'minh'))?.[0];
    assert.ok(code, 'an enrolment code');
    server = serve(data);
    const { base, printedKey } = await server.ready;
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/); // loopback only

    const call = async (method, path, body, token) => {
      const res = await fetch(base + path, {
        method, body, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
      return { status: res.status, text: await res.text() };
    };
    const json = async (...a) => {
      const r = await call(...a);
      assert.equal(r.status, 200, `${a[0]} ${a[1]}: ${r.text}`);
      return JSON.parse(r.text);
    };

    // Enrolment: a non-extractable WebCrypto key; the server key from the answer is pinned.
    const { publicKeyHex, record } = await createDeviceKey();
    assert.equal(record.kind, 'webcrypto');
    const key = await openDeviceKey(structuredClone(record));
    const me = await json('POST', '/v1/enroll', JSON.stringify({ code, public_key: publicKeyHex }));
    assert.equal(me.user, 'minh');
    assert.deepEqual(me.units, ['03808']);
    assert.equal(me.name, 'Lò Văn Minh');
    assert.equal(me.server_key, printedKey);
    const pinned = me.server_key;

    // Session: sign tram-session-v1:<challenge>.
    const { challenge } = await json('POST', '/v1/auth/challenge', JSON.stringify({ device: publicKeyHex }));
    const signature = toHex(await key.sign(sessionMessage(challenge)));
    const { token } = await json('POST', '/v1/auth/session', JSON.stringify({ device: publicKeyHex, challenge, signature }));
    assert.match(token, /^[0-9a-f]{64}$/);

    // Pull everything readable, page by page; every head verifies with the pinned key.
    const schema = new Schema(schemaJson());
    const rows = new Map();
    let after = 0;
    let pages = 0;
    let head;
    for (let more = true; more; pages++) {
      const r = await call('GET', `/v1/pull?after=${after}&limit=200`, undefined, token);
      assert.equal(r.status, 200, r.text);
      const page = parsePage(r.text, schema);
      assert.equal(await verifyHead(page.head, pinned), true);
      for (const row of page.rows) rows.set(`${row.t}/${row.id}`, row);
      after = page.next;
      more = page.more;
      head = page.head;
    }
    assert.ok(pages > 1, 'several pages');
    const periods = [...rows.values()].filter((r) => r.t === 'reporting_period');
    const period = periods.find((r) => r.cells.code.value === '2026-H1');
    assert.ok(period, 'the seeded period 2026-H1');
    assert.equal(period.cells.year.value, 2026);
    const mine = [...rows.values()].filter((r) => r.t === 'indicator_unit');
    assert.ok(mine.length > 0 && mine.every((r) => r.cells.unit_code.value === '03808'), 'indicator_unit rows: only 03808 (scoped)');
    // A percent indicator of 03808: its value 42.5 is in range (docs/schema-format.md §9.1).
    const indicator = mine.map((r) => rows.get(`indicator/${r.cells.indicator.value}`)).find((r) => r?.cells.kind.value === 'percent');
    assert.ok(indicator, 'the indicator row itself (province-wide)');
    assert.ok(![...rows.values()].some((r) => r.t === 'indicator_unit' && r.cells.unit_code.value === '03646'));

    // The report, as the official types it (a narrative in decomposed form, as some Vietnamese
    // keyboards give it): checked, converted, encoded (NFC) and signed here.
    const clock = new Hlc();
    const now = Date.now();
    const report = (id, unit) => ({
      t: 'progress_report', id, k: 'put',
      f: {
        unit_code: unit, indicator: indicator.id, period: period.id, value: 42.5, progress: 'on_track',
        narrative: 'Đã lắp đặt 12 bể chứa nước sạch'.normalize('NFD'), author: me.name,
        recorded_on: new Date(now).toISOString().slice(0, 10), recorded_at: new Date(now).toISOString().slice(0, 19) + 'Z',
        device: publicKeyHex, status: 'submitted',
      },
    });
    const principal = { role: me.role, units: me.units, all_units: me.all_units, name: me.name };
    const op1 = report(crypto.randomUUID(), '03808');
    assert.deepEqual(checkOps(schema, principal, [op1], () => null), []);
    // The indicator's range, checked before signing as the server checks it: 150 % is refused.
    const pulledRow = (t, id) => {
      const r = rows.get(`${t}/${id}`);
      return r ? Object.fromEntries(Object.entries(r.cells).map(([k, c]) => [k, c?.value ?? null])) : null;
    };
    const over = checkOps(schema, principal, [{ ...op1, f: { ...op1.f, value: 150 } }], pulledRow);
    assert.deepEqual(over.map((p) => [p.code, p.message.vi]), [['invalid_value', 'Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)']]);
    assert.deepEqual(checkOps(schema, principal, [op1], pulledRow), []);
    const cs1 = {
      device: publicKeyHex, seq: 1, prev: null, hlc: clock.tick(now), author: me.user, schema: schema.id, schema_v: schema.version,
      ops: [opToWire(schema, op1)],
    };
    const bytes1 = encodeChangeSet(cs1);
    const id1 = changeSetId(bytes1);
    const sig1 = await key.sign(bytes1);
    const pushed = await json('POST', '/v1/push', pushBody([{ bytes: bytes1, sig: sig1 }]), token);
    const [item] = pushed.results;
    assert.equal(item.status, 'accepted', JSON.stringify(item));
    assert.equal(item.id, id1);
    const receipt = await verifyReceipt(item.receipt, pinned, { id: id1, device: publicKeyHex, seq: 1 });
    assert.equal(receipt.accepted, true);
    assert.equal(receipt.clock_ahead, false);
    assert.equal(await verifyHead(pushed.head, pinned), true);
    assert.equal(pushed.head.log, receipt.log);
    assert.ok(pushed.head.server_seq > head.server_seq);
    // A receipt does not verify with another key, nor for another change set.
    await assert.rejects(verifyReceipt(item.receipt, '00'.repeat(32), { id: id1, device: publicKeyHex, seq: 1 }));
    await assert.rejects(verifyReceipt(item.receipt, pinned, { id: id1, device: publicKeyHex, seq: 2 }));

    // Outside the scope: checkOps refuses before signing...
    const op2 = report(crypto.randomUUID(), '03646');
    const problems = checkOps(schema, principal, [op2], () => null);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].code, 'forbidden_scope');
    assert.equal(problems[0].field, 'unit_code');
    assert.match(problems[0].message.vi, /03646 nằm ngoài phạm vi/);
    // ...and so does the server when the check is skipped: a rejection recorded with a receipt.
    const cs2 = { ...cs1, seq: 2, prev: id1, hlc: clock.tick(Date.now()), ops: [opToWire(schema, op2)] };
    const bytes2 = encodeChangeSet(cs2);
    const id2 = changeSetId(bytes2);
    const pushed2 = await json('POST', '/v1/push', pushBody([{ bytes: bytes2, sig: await key.sign(bytes2) }]), token);
    const [item2] = pushed2.results;
    assert.equal(item2.status, 'rejected');
    assert.equal(item2.code, 'forbidden_scope');
    const r2 = await verifyReceipt(item2.receipt, pinned, { id: id2, device: publicKeyHex, seq: 2 });
    assert.equal(r2.accepted, false);
    assert.equal(r2.code, 'forbidden_scope');
    assert.equal(r2.server_seq, receipt.server_seq + 1);

    // Pushing the first again is idempotent: the original receipt, byte for byte.
    const again = await json('POST', '/v1/push', pushBody([{ bytes: bytes1, sig: sig1 }]), token);
    assert.equal(again.results[0].status, 'duplicate');
    assert.deepEqual(again.results[0].receipt, item.receipt);

    // The accepted report comes back in the next pull, in NFC, written by our change set.
    const r = await call('GET', `/v1/pull?after=${after}`, undefined, token);
    const page = parsePage(r.text, schema);
    assert.equal(await verifyHead(page.head, pinned), true);
    const back = page.rows.find((x) => x.id === op1.id);
    assert.ok(back, 'the accepted report');
    assert.equal(back.cells.value.value, 42.5);
    assert.equal(back.cells.narrative.value, 'Đã lắp đặt 12 bể chứa nước sạch'.normalize('NFC'));
    assert.equal(back.cells.status.value, 'submitted');
    assert.equal(back.cells.author.value, 'Lò Văn Minh');
    assert.equal(back.cells.unit_code.writer, id1);
    assert.equal(back.liveness.writer, id1);
    assert.ok(!page.rows.some((x) => x.id === op2.id), 'the refused report never reached the replica');
  } finally {
    if (server) {
      server.proc.kill('SIGTERM');
      await new Promise((resolve) => (server.proc.exitCode !== null ? resolve() : server.proc.once('exit', resolve)));
    }
    rmSync(data, { recursive: true, force: true });
  }
});
