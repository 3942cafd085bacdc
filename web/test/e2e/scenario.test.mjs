// The CI scenario, end to end: a real tram-server on loopback, Debian's chromium, each person a
// browser profile of their own on a 360×740 phone, driving the real screens.
//
//   - Lò Văn Minh (official, xã Mường La 03808) enrols by typing the code; Cầm Thị Lan
//     (official, phường Tô Hiệu 03646) and Nguyễn Thị Thu (reviewer, all units) by the link;
//   - Quàng Văn Tuấn (official, Mường La too) works on the command line (tram-field);
//   - the officials lose signal, record their reports with a photo, reload the app offline and
//     find their work still there, get signal back, sync and read the verified receipts;
//   - a write for another commune is refused before signing (no sequence number used);
//   - Tuấn's report reaches Minh's browser, Minh's reaches Tuấn's tram-field;
//   - Minh's browser holds no row of Tô Hiệu's, Lan's none of Mường La's;
//   - the reviewer returns Minh's report with a comment; Minh reads it, fixes and resubmits; the
//     reviewer accepts;
//   - the dashboard's numbers are those of `tram-server report --json` on the same data.
//
// Screenshots: var/screenshots/scenario-NN-….png. Timing budgets are not checked here (they are
// the benchmark's: bench/budgets.mjs).
//
//   cd web && node --test test/e2e/scenario.test.mjs   (TRAM_E2E_LOGS=1: the consoles and server log)
// Longer than ~400 lines: one scenario in steps that build on each other (enrol, record, sync, review).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, buildApp, appWithDeviceApi, deviceCall, fieldDevice, launchBrowser, setOffline, reload, waitFor,
} from './harness.mjs';
import { phone, shot, shotOf, waitText, clickText, go, syncNow, swControls, attachPhoto } from './phone.mjs';

const MINH = { id: 'minh', role: 'official', units: ['03808'], name: 'Lò Văn Minh' };
const LAN = { id: 'lan', role: 'official', units: ['03646'], name: 'Cầm Thị Lan' };
const THU = { id: 'thu', role: 'reviewer', allUnits: true, name: 'Nguyễn Thị Thu' };
const TUAN = { id: 'tuan', role: 'official', units: ['03808'], name: 'Quàng Văn Tuấn' };
const PERIOD = '2026-H1';

let srv, web, A, B, R, minh, lan, thu, tuan, fieldReady;
const ids = {};

// Ed25519 with node:crypto: the receipts are checked here too, independently of the web code.
function verifyEd25519(keyHex, message, sigHex) {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(keyHex, 'hex')]);
  return verify(null, Buffer.from(message), createPublicKey({ key: der, format: 'der', type: 'spki' }), Buffer.from(sigHex, 'hex'));
}

const reportIdOf = (page) => page.evaluate(() => new URLSearchParams(location.hash.split('?')[1]).get('id'));

// Enrolment through the screen: the code typed (carelessly) or already in the link; then the
// first sync; then "Bắt đầu", and the service worker in control (the app now opens offline).
async function enrol(browser, user, { typed, shotName }) {
  const code = await srv.enrolCode(user.id);
  const page = await phone(browser, typed ? `${srv.url}/` : `${srv.url}/#/enrol?code=${code}`);
  await page.waitForSelector('#code');
  if (typed) await page.type('#code', code.toLowerCase().replace(/-/g, ''));
  assert.equal(await page.$eval('#code', (e) => e.value), code);
  if (shotName) await shot(page, shotName);
  await page.click('form button[type=submit]');
  await waitText(page, 'dl.who', user.name, 60_000);
  await waitText(page, 'p.note', 'Đã tải xong dữ liệu', 60_000);
  return page;
}

async function start(page) {
  await clickText(page, 'a.button', 'Bắt đầu');
  await swControls(page);
}

// An official records a report on the to-do list's item `code`, offline, with a photo.
async function fillReport(page, code, { value, narrative, difficulties }) {
  await go(page, `#/todo?period=${PERIOD}`);
  // The list of the period asked for, not the one still shown from before the route changed
  // (the current period by today's date): clicking that one made a report for another period.
  const item = `a.item[href*="period=${PERIOD}"]`;
  await waitFor(() => page.$$eval(item, (l, c) => l.some((a) => a.textContent.includes(c)), code), { what: `${code} in the list of ${PERIOD}` });
  await clickText(page, item, code);
  await page.waitForSelector('#f-value');
  await setOffline(page, true);
  await waitText(page, '.syncbar', 'Không có mạng');
  await page.type('#f-value', value);
  await page.click('input[name=progress][value=on_track]');
  await page.type('#f-narrative', narrative);
  await page.type('#f-difficulties', difficulties);
  await attachPhoto(page);
}

before(async () => {
  web = await appWithDeviceApi(await buildApp());
  srv = await startServer({ web, users: [MINH, LAN, THU, TUAN] });
  [A, B, R] = await Promise.all([launchBrowser(), launchBrowser(), launchBrowser()]);
  // Tuấn's tram-field, meanwhile. Its clock is 200 days behind: its report carries a date before
  // the deadline, and the report library counts the earlier of that and the server's time, so
  // the period has reports on time, late and missing — three different numbers to compare.
  tuan = fieldDevice(join(srv.root, 'tuan'));
  fieldReady = (async () => {
    const code = await srv.enrolCode('tuan');
    await tuan.run('init', '--server', srv.url, '--code', code, '--name', TUAN.name, '--clock-offset-days', '-200');
    const out = await tuan.run('report', '--period', PERIOD, '--indicator', 'CT-BACSI-TRAMYTE', '--value', '1', '--progress', 'đúng tiến độ',
      '--narrative', 'Trạm y tế xã có 01 bác sĩ; đang tuyển thêm 01 bác sĩ theo chính sách thu hút.', '--submit');
    ids.tuan = out.match(/Recorded report (\S+)/)[1];
    await tuan.run('sync');
  })();
  fieldReady.catch(() => {}); // awaited (and reported) by the test that needs it
});

after(async () => {
  if (process.env.TRAM_E2E_LOGS || process.exitCode) {
    for (const b of [A, B, R]) if (b) console.log(b.logs.join('\n'));
    if (process.env.TRAM_E2E_LOGS) console.log(srv?.log.join(''));
  }
  await Promise.all([A, B, R].map((b) => b?.close()));
  await srv?.stop();
  if (web && !process.env.TRAM_KEEP_TEMP) rmSync(web, { recursive: true, force: true });
});

test('two officials and a reviewer enrol through the screens: one by typing the code, two by the link', async () => {
  [minh, lan, thu] = await Promise.all([
    enrol(A, MINH, { typed: true, shotName: 'scenario-01-enrol-typed' }),
    enrol(B, LAN, { typed: false, shotName: 'scenario-02-enrol-link' }),
    enrol(R, THU, { typed: false }),
  ]);
  assert.match(await minh.$eval('dl.who', (e) => e.textContent), /03808/);
  assert.match(await lan.$eval('dl.who', (e) => e.textContent), /03646/);
  await shot(minh, 'scenario-03-enrolled');
  await Promise.all([start(minh), start(lan), start(thu)]);
  await waitText(minh, 'a.item', 'CT-CAPNUOC-XA');
  // The device library on the app's own pages, loaded once while online (deviceCall).
  const who = await Promise.all([minh, lan, thu].map((p) => deviceCall(p, 'default', (dev) => ({ state: dev.state, user: dev.principal.user, all: dev.principal.all_units, units: dev.principal.units }))));
  assert.deepEqual(who.map((w) => [w.state, w.user, w.all]), [['ready', 'minh', false], ['ready', 'lan', false], ['ready', 'thu', true]]);
  assert.deepEqual([who[0].units, who[1].units], [['03808'], ['03646']]);
});

test('offline, the officials record reports with a photo; a reload without signal loses nothing', async () => {
  await Promise.all([
    (async () => {
      // Minh keeps a draft first, then reloads the app with no signal.
      await go(minh, `#/todo?period=${PERIOD}`);
      await waitText(minh, '.card.period', '6 tháng đầu năm 2026');
      await shot(minh, 'scenario-04-todo');
      await fillReport(minh, 'CT-CAPNUOC-XA', { value: '78,5',
        narrative: 'Đã hoàn thành công trình cấp nước sinh hoạt bản Nà Lời, 126 hộ được sử dụng nước sạch.',
        difficulties: 'Các bản vùng cao ở xa nguồn nước.' });
      await shot(minh, 'scenario-05-report-offline', { full: true });
      await clickText(minh, 'form.report-form button', 'Lưu bản nháp');
      await waitFor(() => reportIdOf(minh), { what: 'the draft to have an id' });
      ids.minh = await reportIdOf(minh);
      await waitText(minh, '.card.report-head .pill', 'Bản nháp');
      await reload(minh);
      await minh.waitForSelector('#f-narrative');
      assert.equal(await minh.evaluate(() => navigator.onLine), false);
      assert.equal(await minh.$eval('#f-value', (e) => e.value), '78,5');
      assert.match(await minh.$eval('#f-narrative', (e) => e.value), /bản Nà Lời, 126 hộ/);
      assert.equal(await minh.$eval('input[name=progress]:checked', (e) => e.value), 'on_track');
      await waitText(minh, '.card.report-head', 'Chưa gửi lên tỉnh');
      await waitFor(() => minh.evaluate(() => { const i = document.querySelector('figure.photo img'); return i && i.complete && i.naturalWidth > 0; }),
        { what: 'the kept photo after the offline reload' });
      await shot(minh, 'scenario-06-draft-after-offline-reload', { full: true });
      await clickText(minh, 'form.report-form button', 'Gửi báo cáo');
      await waitText(minh, '.card.report-head .pill', 'Đã ký, chờ gửi');
    })(),
    (async () => {
      // Lan sends at once (into the outbox), then reloads with no signal.
      await fillReport(lan, 'CT-CAPNUOC-PHUONG', { value: '97,2',
        narrative: 'Tỷ lệ hộ dân trên địa bàn phường được sử dụng nước sạch đạt 97,2%.',
        difficulties: 'Một số hộ ở tổ 9 xa tuyến ống chính.' });
      await clickText(lan, 'form.report-form button', 'Gửi báo cáo');
      await waitText(lan, '.card.report-head .pill', 'Đã ký, chờ gửi');
      ids.lan = await reportIdOf(lan);
      await reload(lan);
      await go(lan, '#/outbox');
      await lan.waitForSelector('li.card.entry');
      const entry = await lan.$eval('li.card.entry', (e) => e.textContent);
      assert.match(entry, /Chờ gửi/);
      assert.match(entry, /Báo cáo \(1\)/);
      assert.match(entry, /Ảnh minh chứng \(1\)/);
      assert.match(await lan.$eval('.syncbar', (e) => e.textContent), /Không có mạng/);
      await shot(lan, 'scenario-07-outbox-offline');
    })(),
  ]);
  assert.ok(ids.minh && ids.lan, 'both reports have ids');
});

test('back online, each official syncs and reads verified receipts; the photos are uploaded', async () => {
  await Promise.all([setOffline(minh, false), setOffline(lan, false)]);
  const said = await Promise.all([syncNow(minh), syncNow(lan)]);
  for (const s of said) assert.match(s, /Đã đồng bộ xong/);
  await go(minh, '#/outbox?tab=receipts');
  await waitFor(() => minh.$$eval('article.receipt', (l) => l.length === 2), { what: 'two receipts (the draft, then the submission)' });
  const texts = await minh.$$eval('article.receipt', (l) => l.map((e) => e.textContent));
  for (const r of texts) assert.match(r, /Đã kiểm tra chữ ký số của máy chủ tỉnh/);
  await shot(minh, 'scenario-08-receipts', { full: true });
  for (const page of [minh, lan]) {
    const st = await deviceCall(page, 'default', async (dev) => ({
      outbox: (await dev.outbox()).map((e) => ({ state: e.state, seq: e.seq, body: e.receipt?.body, sig: e.receipt?.sig })),
      files: (await dev.attachments()).map((a) => a.state),
      device: dev.principal.device,
    }));
    assert.ok(st.outbox.length >= 1 && st.outbox.every((e) => e.state === 'accepted'), JSON.stringify(st.outbox.map((e) => e.state)));
    for (const e of st.outbox) {
      assert.ok(verifyEd25519(srv.serverKey, e.body, e.sig), `receipt of seq ${e.seq} verifies with node:crypto`);
      const body = JSON.parse(e.body);
      assert.deepEqual([body.status, body.seq, body.device], ['accepted', e.seq, st.device]);
    }
    assert.deepEqual(st.files, ['complete'], 'the photo is on the server');
  }
});

test('a write for another commune is refused before signing, and uses no sequence number', async () => {
  const r = await deviceCall(minh, 'default', async (dev) => {
    const chain = await dev.store.getMeta('chain');
    const outbox = (await dev.outbox()).length;
    let refused = null;
    try {
      await dev.write([{ t: 'progress_report', k: 'put', f: {
        unit_code: '03646', indicator: 'CT-CAPNUOC-PHUONG', period: '2026-H1', value: 50, progress: 'on_track',
        author: dev.principal.name, recorded_on: '2026-06-01', status: 'draft' } }]);
    } catch (e) {
      refused = { code: e.code, problems: e.problems.map((p) => p.code) };
    }
    return { chain, chainAfter: await dev.store.getMeta('chain'), outbox, outboxAfter: (await dev.outbox()).length, refused };
  });
  assert.ok(r.refused, 'the write was refused');
  assert.equal(r.refused.code, 'write_refused');
  assert.ok(r.refused.problems.includes('forbidden_scope'), `forbidden_scope among ${r.refused.problems}`);
  assert.deepEqual(r.chainAfter, r.chain, 'the chain head did not move: no seq was used');
  assert.equal(r.chain.seq, 2);
  assert.equal(r.outboxAfter, r.outbox);
});

test('a report made with tram-field shows in the browser, and the browser\'s report in tram-field', async () => {
  await fieldReady;
  assert.match(await syncNow(minh), /Đã đồng bộ xong/);
  await go(minh, `#/todo?period=${PERIOD}`);
  await waitFor(() => minh.evaluate(() => [...document.querySelectorAll('a.item')].some((a) => a.textContent.includes('CT-BACSI-TRAMYTE') && a.textContent.includes('Đã gửi, chờ duyệt'))),
    { what: 'Tuấn\'s report on Minh\'s to-do list' });
  await go(minh, `#/report?id=${ids.tuan}`);
  await waitText(minh, 'dl.fields', TUAN.name);
  assert.match(await minh.$eval('dl.fields', (e) => e.textContent), /Trạm y tế xã có 01 bác sĩ/);
  await shot(minh, 'scenario-09-field-report-in-browser', { full: true });

  await tuan.run('sync');
  const shown = await tuan.json('show', ids.minh);
  const text = JSON.stringify(shown);
  assert.match(text, /bản Nà Lời, 126 hộ/);
  assert.match(text, /Lò Văn Minh/);
  const list = await tuan.json('list', '--period', PERIOD);
  const mine = list.reports.find((r) => r.id === ids.minh);
  assert.ok(mine, 'Minh\'s report in tram-field list');
  assert.deepEqual([mine.fields.status, mine.fields.value, mine.fields.unit_code, mine.fields.author], ['submitted', 78.5, '03808', MINH.name]);
  assert.ok(mine.fields.evidence, 'with its photo');
  assert.ok(!list.reports.some((r) => r.id === ids.lan), 'no report of Tô Hiệu in Tuấn\'s tram-field');
});

test('an official\'s browser never receives another commune\'s rows', async () => {
  const scoped = async (dev, other) => {
    const out = { units: dev.principal.units, foreign: [], counts: {} };
    for (const t of dev.schema.tables) {
      if (!t.scope) continue;
      const rows = await dev.query(t.name, null, { deleted: true });
      out.counts[t.name] = rows.length;
      for (const r of rows) if (r[t.scope.name] != null && !dev.principal.units.includes(r[t.scope.name])) out.foreign.push([t.name, r.id, r[t.scope.name]]);
    }
    out.otherReport = [await dev.get('progress_report', other, { deleted: true }), await dev.serverRow('progress_report', other)];
    out.files = (await dev.attachments()).map((a) => a.hash);
    out.evidence = (await dev.query('evidence')).map((e) => e.file);
    return out;
  };
  const [m, l] = await Promise.all([deviceCall(minh, 'default', scoped, ids.lan), deviceCall(lan, 'default', scoped, ids.minh)]);
  for (const [who, s] of [['Minh', m], ['Lan', l]]) {
    assert.deepEqual(s.foreign, [], `${who}'s browser holds rows of another unit`);
    assert.deepEqual(s.otherReport, [null, null], `${who}'s browser holds the other commune's report`);
  }
  assert.equal(m.counts.progress_report, 2, 'Minh sees Mường La\'s two reports (his and Tuấn\'s)');
  assert.equal(l.counts.progress_report, 1, 'Lan sees her own');
  assert.ok(!m.files.some((f) => l.evidence.includes(f)), 'no photo of Tô Hiệu on Minh\'s phone');
  assert.ok(!l.files.some((f) => m.evidence.includes(f)), 'no photo of Mường La on Lan\'s phone');
});

// The reviewer's screen of one report, once it is that report's (not the screen before it).
async function openForReview(id, unit) {
  await go(thu, `#/review-item?id=${id}`);
  await waitFor(() => thu.evaluate((id, unit) => location.hash.endsWith(id) && !!document.querySelector('section.decide')
    && document.querySelector('.report-head h2')?.textContent === unit, id, unit), { what: `the review screen of ${unit}'s report` });
}

// Accept or return: the decision is signed and stored, and the queue shows again.
async function decide(button) {
  await thu.$eval(`section.decide ${button}`, (b) => b.click());
  await waitFor(() => thu.evaluate(() => !location.hash.includes('item') && !document.querySelector('section.decide')), { what: 'the queue after the decision' });
}

test('the reviewer returns a report with a comment; the official fixes and resubmits; the reviewer accepts', async () => {
  const COMMENT = 'Đề nghị bổ sung danh sách hộ được cấp nước có xác nhận của trưởng bản.';
  assert.match(await syncNow(thu), /Đã đồng bộ xong/);
  await go(thu, `#/review?period=${PERIOD}`);
  // The server holds the three reports, sent for review. On a loaded machine an automatic sync
  // (the browser came back online) can still be finishing: wait for it, bounded, then compare.
  const sent = () => [ids.tuan, ids.lan, ids.minh].map((id) => [id, 'submitted']).sort();
  const onServer = async () => {
    const rep = JSON.parse(await srv.cli('report', '--data', srv.data, '--period', PERIOD, '--json'));
    return rep.lines.filter((l) => l.report).map((l) => [l.report, l.review_state]).sort();
  };
  await waitFor(async () => JSON.stringify(await onServer()) === JSON.stringify(sent()), { timeout: 30_000, interval: 1000, what: 'the three reports on the server' })
    .catch(() => {});
  assert.deepEqual(await onServer(), sent());
  await waitFor(() => thu.$$eval('a.item', (l) => l.length === 3), { what: 'three reports in the queue' });
  const queue = await thu.$$eval('a.item', (l) => l.map((e) => e.textContent).join('\n'));
  assert.match(queue, /Xã Mường La/);
  assert.match(queue, /Phường Tô Hiệu/);
  await shot(thu, 'scenario-10-review-queue', { full: true });

  // Minh's: returned, with the reason.
  await openForReview(ids.minh, 'Xã Mường La');
  await waitFor(() => thu.evaluate(() => { const i = document.querySelector('figure.photo img'); return i && i.complete && i.naturalWidth > 0; }),
    { timeout: 30_000, what: 'the evidence photo to load' });
  await thu.type('#comment', COMMENT);
  await shot(thu, 'scenario-11-review-return', { full: true });
  await decide('button.danger');
  // Lan's: accepted. Tuấn's stays waiting.
  await openForReview(ids.lan, 'Phường Tô Hiệu');
  await decide('button.primary');
  assert.match(await syncNow(thu), /Đã đồng bộ xong/);

  // Minh reads why, fixes it and sends it again.
  assert.match(await syncNow(minh), /Đã đồng bộ xong/);
  await go(minh, `#/todo?period=${PERIOD}`);
  await waitText(minh, 'a.item', 'Trả lại để chỉnh sửa');
  await go(minh, `#/report?id=${ids.minh}`);
  await waitText(minh, '.card.returned', COMMENT);
  assert.match(await minh.$eval('.card.returned', (e) => e.textContent), new RegExp(THU.name));
  await minh.waitForSelector('#f-narrative');
  await shot(minh, 'scenario-12-returned-to-official', { full: true });
  await minh.type('#f-narrative', ' Đã bổ sung danh sách 126 hộ có xác nhận của trưởng bản.');
  await clickText(minh, 'form.report-form button', 'Gửi lại báo cáo');
  await waitFor(() => minh.$eval('.card.report-head', (e) => /Đã ký, chờ gửi|Đã gửi, chờ duyệt/.test(e.textContent)), { what: 'the resubmitted state' });
  assert.match(await syncNow(minh), /Đã đồng bộ xong/);
  assert.equal((await deviceCall(minh, 'default', (dev) => dev.outbox())).filter((e) => e.state !== 'accepted').length, 0, 'all of Minh\'s change sets accepted');

  // The reviewer accepts the corrected report.
  assert.match(await syncNow(thu), /Đã đồng bộ xong/);
  await openForReview(ids.minh, 'Xã Mường La');
  await waitText(thu, 'dl.fields', 'Đã bổ sung danh sách 126 hộ');
  await decide('button.primary');
  assert.match(await syncNow(thu), /Đã đồng bộ xong/);
  const thuOut = await deviceCall(thu, 'default', (dev) => dev.outbox());
  assert.deepEqual(thuOut.map((e) => [e.seq, e.state, e.code]), thuOut.map((e) => [e.seq, 'accepted', null]), 'the reviewer\'s three decisions accepted');
  await go(thu, `#/review?period=${PERIOD}&state=accepted`);
  await waitFor(() => thu.$$eval('a.item', (l) => l.length === 2), { what: 'two accepted reports' });
  await shot(thu, 'scenario-13-review-accepted');

  // Minh's phone and Tuấn's tram-field learn the decision.
  assert.match(await syncNow(minh), /Đã đồng bộ xong/);
  await go(minh, `#/todo?period=${PERIOD}`);
  await waitFor(() => minh.evaluate(() => [...document.querySelectorAll('a.item')].some((a) => a.textContent.includes('CT-CAPNUOC-XA') && a.textContent.includes('Đã duyệt'))),
    { what: 'Minh\'s report accepted on his to-do list' });
  await tuan.run('sync');
  const shown = await tuan.json('list', '--period', PERIOD);
  assert.equal(shown.reports.find((r) => r.id === ids.minh)?.fields.status, 'accepted');
});

test('the dashboard shows the numbers of `tram-server report` on the same data', async () => {
  await go(thu, `#/dashboard?period=${PERIOD}`);
  await waitText(thu, 'p.note', 'Số liệu mới nhất', 30_000);
  await thu.waitForSelector('.unit-grid .tile');
  const shown = await thu.evaluate(() => {
    const num = (s) => Number(String(s).replace(/[^\d]/g, ''));
    const big = Object.fromEntries(['on_time', 'late', 'missing'].map((k) => [k, num(document.querySelector(`.bignums .big.${k} .n`).textContent)]));
    const groups = [...document.querySelectorAll('ul.bars > li')].map((li) => {
      const m = li.querySelector('.small').textContent.match(/đúng hạn (\d+) · trễ (\d+) · chưa báo cáo (\d+)/);
      return { code: li.querySelector('strong').textContent, on_time: +m[1], late: +m[2], missing: +m[3] };
    });
    const smalls = [...document.querySelectorAll('section.card .small')].map((e) => e.textContent).join('\n');
    const lines = num(smalls.match(/([\d.]+) nội dung phải báo cáo/)[1]);
    const rv = smalls.match(/chờ duyệt (\d+), đã duyệt (\d+), trả lại (\d+), bản nháp (\d+)/);
    const tile = (u) => document.querySelector(`.unit-grid .tile[title$="(${u})"] .ct`).textContent;
    return { big, groups, lines, review: { submitted: +rv[1], accepted: +rv[2], returned: +rv[3], draft: +rv[4] }, tiles: { '03808': tile('03808'), '03646': tile('03646') } };
  });
  await shot(thu, 'scenario-14-dashboard');
  await shotOf(thu, 'section.card:has(ul.bars)', 'scenario-15-dashboard-groups');

  // The same data directory, read by the command line while the server serves it.
  const rep = JSON.parse(await srv.cli('report', '--data', srv.data, '--period', PERIOD, '--json'));
  const s = rep.summary;
  assert.deepEqual(shown.big, { on_time: s.on_time, late: s.late, missing: s.missing });
  assert.equal(shown.lines, s.lines);
  assert.deepEqual(shown.review, { submitted: s.review.submitted, accepted: s.review.accepted, returned: s.review.returned, draft: s.review.draft });
  const groups = new Map();
  for (const l of rep.lines) {
    if (l.aggregate) continue;  // a yes/no share line: computed, not a report (its own card)
    const g = groups.get(l.group) || { code: l.group || '—', on_time: 0, late: 0, missing: 0 };
    g[l.timeliness]++;
    groups.set(l.group, g);
  }
  assert.deepEqual(shown.groups, [...groups.values()], 'per task group');
  for (const u of ['03808', '03646']) {
    const ls = rep.lines.filter((l) => l.unit_code === u);
    assert.equal(shown.tiles[u], `${ls.filter((l) => l.timeliness !== 'missing').length}/${ls.length}`, `the tile of ${u}`);
  }
  // What this scenario did: three reports sent for the period (Minh's and Lan's accepted,
  // Tuấn's waiting); when they count as on time or late depends on today's date.
  assert.equal(s.on_time + s.late, 3);
  assert.deepEqual(s.review, { draft: 0, submitted: 1, accepted: 2, returned: 0 });
  console.log(`dashboard = tram-server report: on time ${s.on_time}, late ${s.late}, missing ${s.missing} of ${s.lines}; ${groups.size} task groups`);
});
