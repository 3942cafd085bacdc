// Ad hoc reports (báo cáo đột xuất, programme section III.3; schema v3 adhoc_report), through the
// real screens against a real tram-server and Debian's chromium: an official without signal
// writes a "khó khăn, vướng mắc" report about a task and sends it; it waits in the outbox; back
// online it syncs and the server's verified receipt settles it. The Department of Finance's
// reviewer, on another browser (its own device), finds it in "Báo cáo đột xuất đã nhận", cannot
// acknowledge it without a response, then acknowledges it with one. The official's browser
// syncs and shows the response; a third device enrolled afterwards pulls the acknowledged row
// from the server (what the server holds, not what a browser kept).
//
//   cd web && node --test test/e2e/adhoc.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, buildApp, appWithDeviceApi, deviceCall, launchBrowser, setOffline, reload, waitFor } from './harness.mjs';
import { phone, shot, waitText, clickText, go, syncNow } from './phone.mjs';

const MINH = { id: 'minh', role: 'official', units: ['03808'], name: 'Lò Văn Minh' };
const THU = { id: 'thu', role: 'reviewer', allUnits: true, name: 'Nguyễn Thị Thu' };
const HA = { id: 'ha', role: 'reviewer', allUnits: true, name: 'Quàng Thị Hà' };
const SUBJECT = 'Sạt lở đường vào bản Nà Lốc';
const RESPONSE = 'Sở Tài chính đã tiếp nhận, sẽ tham mưu UBND tỉnh hỗ trợ kinh phí khắc phục.';

let srv, web, A, R, Z, official, reviewer;
const shared = {};

before(async () => {
  web = await appWithDeviceApi(await buildApp());
  srv = await startServer({ web, users: [MINH, THU, HA] });
  [A, R] = await Promise.all([launchBrowser(), launchBrowser()]);
});

after(async () => {
  if (process.exitCode) for (const b of [A, R, Z]) if (b) console.log(b.logs.join('\n'));
  await Promise.all([A, R, Z].map((b) => b?.close()));
  await srv?.stop();
  if (web && !process.env.TRAM_KEEP_TEMP) rmSync(web, { recursive: true, force: true });
});

// Enrols this browser by the administrator's link and waits for the first download.
async function enrol(browser, user, name) {
  const page = await phone(browser, `${srv.url}/#/enrol?code=${await srv.enrolCode(user)}`);
  await page.waitForSelector('#code');
  await page.click('form button[type=submit]');
  await waitText(page, 'dl.who', name);
  await waitText(page, 'p.note', 'Đã tải xong dữ liệu', 60_000);
  await clickText(page, 'a.button', 'Bắt đầu');
  return page;
}

test('offline, an official writes a difficulty report about a task and sends it: it waits on the phone', async () => {
  official = await enrol(A, 'minh', 'Lò Văn Minh');
  await deviceCall(official, 'default', (dev) => dev.principal.user); // fetch the test module while online
  // Reachable from the bottom navigation.
  await official.waitForSelector('nav.bottom a[href="#/adhoc"]');
  await official.click('nav.bottom a[href="#/adhoc"]');
  await waitText(official, '.card.empty', 'Đơn vị chưa có báo cáo đột xuất nào');
  await setOffline(official, true);
  await clickText(official, 'a.adhoc-new', 'Viết báo cáo đột xuất');
  await official.waitForSelector('form.adhoc-form');
  // The two kinds as plain choices.
  const kinds = await official.$$eval('input[name=kind]', (l) => l.map((i) => [i.value, i.parentElement.textContent]));
  assert.deepEqual(kinds, [['difficulty', 'Khó khăn, vướng mắc'], ['adjustment', 'Đề nghị điều chỉnh, bổ sung Chương trình']]);
  // Sent with nothing filled in: the required fields say so, nothing is written.
  await official.click('form.adhoc-form button[type=submit]');
  await waitText(official, '#e-kind', 'Hãy chọn loại báo cáo');
  await waitText(official, '#e-subject', 'Hãy điền mục này');
  assert.deepEqual(await deviceCall(official, 'default', (dev) => dev.query('adhoc_report', () => true)), []);

  await official.click('input[name=kind][value=difficulty]');
  assert.ok(await official.$$eval('#f-task option', (l) => l.some((o) => o.value === 'NV01.01')), 'the tasks on this phone are offered');
  await official.select('#f-task', 'NV01.01');
  await official.type('#f-subject', SUBJECT);
  await official.type('#f-body', 'Mưa lớn ngày 01/6 làm sạt lở khoảng 200 m đường vào bản, xe không vào được.');
  await official.type('#f-proposal', 'Đề nghị tỉnh hỗ trợ kinh phí khắc phục khẩn cấp.');
  await shot(official, 'adhoc-1-form', { full: true });
  // Kept as a draft first: the form comes back as the draft, then "Gửi" sends that same row.
  await clickText(official, 'form.adhoc-form button', 'Lưu bản nháp');
  await waitText(official, 'h1.title', 'Sửa bản nháp báo cáo đột xuất');
  const draft = await deviceCall(official, 'default', (dev) => dev.query('adhoc_report', () => true));
  assert.deepEqual(draft.map((x) => [x.status, x.subject]), [['draft', SUBJECT]]);
  assert.equal(await official.$eval('#f-subject', (e) => e.value), SUBJECT);
  assert.equal(await official.$eval('#f-task', (e) => e.value), 'NV01.01');
  await official.click('form.adhoc-form button[type=submit]');
  await waitText(official, '.adhoc-list a.item', SUBJECT);
  await waitText(official, '.adhoc-list .pill', 'Chờ gửi');
  const rows = await deviceCall(official, 'default', (dev) => dev.query('adhoc_report', () => true));
  assert.equal(rows.length, 1);
  const r = rows[0];
  assert.equal(r.id, draft[0].id, 'the draft was sent, not copied');
  shared.id = r.id;
  assert.equal(r.kind, 'difficulty');
  assert.equal(r.status, 'submitted');
  assert.equal(r.task, 'NV01.01');
  assert.equal(r.unit_code, '03808');
  assert.equal(r.author, 'Lò Văn Minh');
  assert.match(r.recorded_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(r.device, await deviceCall(official, 'default', (dev) => dev.principal.device));
  assert.deepEqual((await deviceCall(official, 'default', (dev) => dev.outbox())).map((e) => e.state), ['waiting', 'waiting']);
  await shot(official, 'adhoc-2-list-offline');
});

test('back online, it syncs and the server\'s receipt settles it', async () => {
  await setOffline(official, false);
  assert.match(await syncNow(official, 60_000), /Đã đồng bộ xong/);
  assert.deepEqual((await deviceCall(official, 'default', (dev) => dev.outbox())).map((e) => e.state), ['accepted', 'accepted']);
  await go(official, `#/adhoc-item?id=${shared.id}`);
  await waitText(official, '.card', 'Đã gửi, chờ Sở Tài chính tiếp nhận');
  assert.equal(await official.$('form.adhoc-form'), null, 'a sent report is no longer a form');
});

test('the reviewer sees it received, must write a response, and acknowledges it', async () => {
  reviewer = await enrol(R, 'thu', 'Nguyễn Thị Thu');
  await reviewer.waitForSelector('nav.bottom a[href="#/adhoc"]');
  await reviewer.click('nav.bottom a[href="#/adhoc"]');
  await waitText(reviewer, '.adhoc-list a.item', SUBJECT);
  const item = await reviewer.$eval('.adhoc-list a.item', (e) => e.textContent);
  assert.match(item, /Xã Mường La/);
  assert.match(item, /Khó khăn, vướng mắc/);
  assert.match(item, /Đã gửi, chờ tiếp nhận/);
  assert.match(await reviewer.$eval('p.summary', (e) => e.textContent), /1 báo cáo chờ tiếp nhận/);
  await shot(reviewer, 'adhoc-3-received');
  await clickText(reviewer, '.adhoc-list a.item', SUBJECT);
  await reviewer.waitForSelector('button.adhoc-ack');
  const facts = await reviewer.$eval('dl.fields', (e) => e.textContent);
  assert.match(facts, /NV01\.01/);
  assert.match(facts, /Đề nghị tỉnh hỗ trợ kinh phí khắc phục khẩn cấp/);
  await reviewer.click('button.adhoc-ack');
  await waitText(reviewer, '.decide .error', 'Hãy ghi ý kiến phản hồi cho đơn vị');
  await reviewer.type('#response', RESPONSE);
  await reviewer.click('button.adhoc-ack');
  await waitText(reviewer, '.card.adhoc-response', RESPONSE);
  await waitText(reviewer, '.card.adhoc-response', 'Người phản hồi: Nguyễn Thị Thu');
  assert.equal(await reviewer.$('button.adhoc-ack'), null, 'acknowledged once');
  assert.match(await syncNow(reviewer, 60_000), /Đã đồng bộ xong/);
  // The screen redraws by itself once the acknowledgement has left the phone.
  await waitText(reviewer, '.report-head .pill', 'Đã tiếp nhận');
  assert.equal(await reviewer.$('p.note.warn'), null, 'no longer waiting to be sent');
  await shot(reviewer, 'adhoc-4-acknowledged', { full: true });
});

test('the official\'s browser shows the Department of Finance\'s response', async () => {
  await go(official, '#/adhoc');
  assert.match(await syncNow(official, 60_000), /Đã đồng bộ xong/);
  await waitText(official, '.adhoc-list .pill', 'Đã tiếp nhận');
  await waitText(official, '.adhoc-list .adhoc-response', RESPONSE);
  await clickText(official, '.adhoc-list a.item', SUBJECT);
  await waitText(official, '.card.adhoc-response', 'Ý kiến phản hồi của Sở Tài chính');
  await waitText(official, '.card.adhoc-response', RESPONSE);
  await shot(official, 'adhoc-5-response', { full: true });
  // The same screen in English (the language the user picked, kept in localStorage).
  await official.evaluate(() => localStorage.setItem('tram.lang', 'en'));
  await reload(official);
  await waitText(official, '.card.adhoc-response', 'The Department of Finance\'s response');
  await waitText(official, 'nav.bottom a.on', 'Ad hoc');
  await waitText(official, '.report-head', 'Difficulties, obstacles');
  await official.evaluate(() => localStorage.setItem('tram.lang', 'vi'));
});

test('the server holds the acknowledged report: a device enrolled now pulls it', async () => {
  Z = await launchBrowser();
  const fresh = await enrol(Z, 'ha', 'Quàng Thị Hà');
  const rows = await waitFor(async () => {
    const l = await deviceCall(fresh, 'default', (dev) => dev.query('adhoc_report', () => true));
    return l.length ? l : null;
  }, { what: 'the ad hoc report on a new device' });
  assert.equal(rows.length, 1);
  assert.equal(rows[0].id, shared.id);
  assert.equal(rows[0].status, 'acknowledged');
  assert.equal(rows[0].response, RESPONSE);
  assert.equal(rows[0].responded_by, 'Nguyễn Thị Thu');
  assert.equal(rows[0].subject, SUBJECT);
  assert.ok(!rows[0]._pending, 'nothing of it waits on this device');
});
