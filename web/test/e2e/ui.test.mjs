// The real screens, driven as officials would use them on a 360×740 phone, against a real
// tram-server serving the built app (web/dist) and Debian's chromium: enrol by typing the code
// (lower case, no dashes), see who the phone is for, fill and submit a report offline with a
// photo, see it wait in the outbox, sync, and see the verified receipt; the reviewer enrols by
// the admin's link, returns the report with a reason; the official sees the reason, corrects and
// resubmits; the dashboard, the administrator's pages, English, and an offline reload.
//
// Screenshots of every main screen (Vietnamese) go to var/screenshots/ at the repository root.
//
//   cd web && node --test test/e2e/ui.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { startServer, buildApp, launchBrowser, setOffline, reload, waitFor, WEB_DIR } from './harness.mjs';
import { PHONE, SHOTS, phone, shot, shotOf, waitText, clickText, go, syncNow, attachPhoto } from './phone.mjs';

const MINH = { id: 'minh', role: 'official', units: ['03808'], name: 'Lò Văn Minh' };
const THU = { id: 'thu', role: 'reviewer', allUnits: true, name: 'Nguyễn Thị Thu' };
const MINH2 = { id: 'minh2', role: 'official', units: ['03808'], name: 'Lò Văn Minh' };

let srv, A, R, X, official, reviewer;
const shared = {};

before(async () => {
  const web = await buildApp();
  srv = await startServer({ web, users: [MINH, THU, MINH2] });
  A = await launchBrowser();
  R = await launchBrowser();
});

after(async () => {
  if (process.exitCode) {
    for (const b of [A, R, X]) if (b) console.log(b.logs.join('\n'));
  }
  for (const b of [A, R, X]) await b?.close();
  await srv?.stop();
});

test('an official enrols by typing the code and sees who the phone is for', async () => {
  const code = await srv.enrolCode('minh');
  official = await phone(A, srv.url + '/');
  await official.waitForSelector('#code');
  await shot(official, '01-enrol');
  // Typed carelessly: lower case, spaces, no dashes. The screen puts the dashes back as it goes.
  await official.type('#code', code.toLowerCase().replace(/-/g, ' '));
  assert.equal(await official.$eval('#code', (e) => e.value), code);
  await official.click('form button[type=submit]');
  await waitText(official, 'dl.who', 'Lò Văn Minh');
  await waitText(official, 'p.note', 'Đã tải xong dữ liệu', 60_000);
  await waitText(official, 'dl.who', 'Xã Mường La');
  const who = await official.$eval('dl.who', (e) => e.textContent);
  assert.match(who, /Cán bộ xã, phường/);
  assert.match(who, /03808/);
  await shot(official, '02-enrolled');
});

test('"Việc cần làm" lists what the commune owes, late items first', async () => {
  await clickText(official, 'a.button', 'Bắt đầu');
  await waitText(official, 'a.item', 'CT-CAPNUOC-XA');
  const codes = await official.$$eval('a.item .code', (els) => els.map((e) => e.textContent));
  assert.ok(codes.includes('CT-BACSI-TRAMYTE'));
  assert.ok(!codes.includes('CT-CAPNUOC-PHUONG'), 'a ward indicator is not due from a commune');
  assert.ok(!codes.includes('CT-CAOTOC-CT03'), 'a province-wide milestone is not due from a commune');
  await shot(official, '03-todo');
  // Report on the first half of 2026, now late. A tap while the list redraws must not open a
  // report for the period shown before: tapped before the app has seen the route change (the
  // item's guard), and right after it (the old list is already gone).
  const race = await official.evaluate(() => new Promise((resolve) => {
    const old = [...document.querySelectorAll('a.item')].map((a) => a.getAttribute('href'));
    let left = -1;
    window.addEventListener('hashchange', () => {
      left = document.querySelectorAll('a.item').length;
      document.querySelector('a.item')?.click();
    }, { once: true });
    location.hash = '#/todo?period=2026-H1';
    document.querySelector('a.item:not([href*="period=2026-H1"])')?.click();
    setTimeout(() => resolve({ old, left, hash: location.hash }), 50);
  }));
  assert.ok(race.old.length > 0 && race.old.every((href) => !href.includes('period=2026-H1')), `the list shown was another period's: ${race.old}`);
  assert.equal(race.hash, '#/todo?period=2026-H1', 'a tap on the old list opened a report');
  assert.equal(race.left, 0, 'the old list was still there when the route changed');
  await waitText(official, '.card.period', '6 tháng đầu năm 2026');
  await waitText(official, '.card.period', 'đã quá hạn');
  await clickText(official, 'a.item', 'CT-CAPNUOC-XA');
  await official.waitForSelector('#f-value');
  assert.match(await official.evaluate(() => location.hash), /period=2026-H1/, 'the form is for the period asked for');
});

test('the report form checks the value against the range, keeps a photo, and submits offline into the outbox', async () => {
  const page = official;
  const head = await page.$eval('.report-head', (e) => e.textContent);
  assert.match(head, /> 90 %/, 'the target is shown');
  // The task's full wording (schema v3's task.text), folded under its short title.
  const wording = await page.$eval('details.task-text', (e) => ({ open: e.open, summary: e.querySelector('summary').textContent, text: e.querySelector('p').textContent }));
  assert.equal(wording.open, false);
  assert.match(wording.summary, /Nội dung nhiệm vụ/);
  assert.ok(wording.text.length > 100, `the full wording, not the title: ${wording.text}`);
  assert.equal(await page.$eval('.with-unit .unit', (e) => e.textContent), '%');
  await page.type('#f-value', '150');
  await page.click(`input[name=progress][value=on_track]`);
  await page.click('form.report-form button[type=submit]');
  await waitText(page, '#e-value', 'không được lớn hơn 100');
  await shot(page, '04-report-form-error');

  await page.click('#f-value', { clickCount: 3 });
  await page.type('#f-value', '78,5');
  await page.type('#f-narrative', 'Đã lắp đặt đường ống cấp nước cho bản Nà Lốc, 120 hộ được dùng nước sạch.');
  await page.type('#f-difficulties', 'Địa hình dốc, thiếu kinh phí bảo trì.');
  await attachPhoto(page);
  await shot(page, '05-report-form', { full: true });

  await setOffline(page, true);
  await page.click('form.report-form button[type=submit]');
  await waitText(page, '.card.report-head .pill', 'Đã ký, chờ gửi');
  await waitText(page, '.card', 'Báo cáo đang chờ gửi');
  shared.report = await page.evaluate(() => new URLSearchParams(location.hash.split('?')[1]).get('id'));
  assert.ok(shared.report, 'the report has an id');
  await shot(page, '06-report-sent-offline', { full: true });

  await page.click('nav.bottom a[href="#/outbox"]');
  await page.waitForSelector('li.card.entry');
  const entry = await page.$eval('li.card.entry', (e) => e.textContent);
  assert.match(entry, /Chờ gửi/);
  assert.match(entry, /Báo cáo \(1\)/);
  assert.match(entry, /Ảnh minh chứng \(1\)/);
  assert.match(await page.$eval('.syncbar', (e) => e.textContent), /Không có mạng/);
  await shot(page, '07-outbox-waiting');
});

test('back online, "Đồng bộ ngay" sends it and the receipt shows, verified, with the server time', async () => {
  const page = official;
  await setOffline(page, false);
  const said = await syncNow(page);
  assert.match(said, /Đã đồng bộ xong/);
  await go(page, '#/outbox?tab=receipts');
  await page.waitForSelector('article.receipt');
  const receipt = await page.$eval('article.receipt', (e) => e.textContent);
  assert.match(receipt, /Biên nhận điện tử số \d+/);
  assert.match(receipt, /Đã kiểm tra chữ ký số của máy chủ tỉnh/);
  assert.match(receipt, /\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d \(giờ Việt Nam, UTC\+7\)/);
  await shot(page, '08-receipt', { full: true });
  await go(page, '#/outbox?tab=waiting');
  await waitText(page, '.card.empty', 'Mọi thay đổi đã được gửi');
  assert.match(await page.$eval('.syncbar', (e) => e.textContent), /Đã gửi hết/);
});

test('a reviewer enrols from the admin\'s link, sees the report with its photo, and returns it with a reason', async () => {
  const code = await srv.enrolCode('thu');
  reviewer = await phone(R, `${srv.url}/#/enrol?code=${code}`);
  await reviewer.waitForSelector('#code');
  assert.equal(await reviewer.$eval('#code', (e) => e.value), code, 'the link fills the code in');
  await reviewer.click('form button[type=submit]');
  await waitText(reviewer, 'dl.who', 'Nguyễn Thị Thu');
  await waitText(reviewer, 'p.note', 'Đã tải xong dữ liệu', 60_000);
  await clickText(reviewer, 'a.button', 'Bắt đầu');
  await go(reviewer, '#/review?period=2026-H1');
  await waitText(reviewer, 'a.item', 'Xã Mường La');
  await shot(reviewer, '09-review-queue');
  await clickText(reviewer, 'a.item', 'Xã Mường La');
  await reviewer.waitForSelector('section.decide');
  await waitFor(() => reviewer.evaluate(() => { const i = document.querySelector('figure.photo img'); return i && i.complete && i.naturalWidth > 0; }),
    { timeout: 30_000, what: 'the evidence photo to load' });
  await reviewer.click('section.decide button.danger');
  await waitText(reviewer, 'section.decide .error', 'lý do trả lại');
  await reviewer.type('#comment', 'Đề nghị bổ sung danh sách hộ được cấp nước.');
  await shot(reviewer, '10-review-item', { full: true });
  await reviewer.click('section.decide button.danger');
  await reviewer.waitForFunction(() => location.hash.startsWith('#/review') && !location.hash.includes('item'));
  const said = await syncNow(reviewer);
  assert.match(said, /Đã đồng bộ xong/);
});

test('the official sees the reason, corrects the report and sends it again', async () => {
  const page = official;
  await syncNow(page);
  await go(page, '#/todo?period=2026-H1');
  await waitText(page, 'a.item', 'Trả lại để chỉnh sửa');
  await shot(page, '11-todo-returned');
  await go(page, `#/report?id=${shared.report}`);
  await waitText(page, '.card.returned', 'Đề nghị bổ sung danh sách hộ được cấp nước.');
  await page.waitForSelector('#f-narrative');
  await page.type('#f-narrative', ' Danh sách 120 hộ kèm theo.');
  await shot(page, '12-report-returned', { full: true });
  await clickText(page, 'form.report-form button', 'Gửi lại báo cáo');
  // Signed and waiting, or already sent by the automatic sync.
  await waitFor(() => page.$eval('.card.report-head', (e) => /Đã ký, chờ gửi|Đã gửi, chờ duyệt/.test(e.textContent)), { what: 'the resubmitted state' });
  await syncNow(page);
  await go(page, '#/outbox?tab=receipts');
  await waitFor(() => page.$$eval('article.receipt', (l) => l.length >= 2), { what: 'a second receipt' });
  await go(page, '#/reports');
  await waitText(page, 'h2.group', 'Đã gửi, chờ duyệt');
  await shot(page, '13-reports');
});

test('the dashboard shows the province report, and keeps it for offline viewing', async () => {
  const page = reviewer;
  await syncNow(page);
  await go(page, '#/dashboard?period=2026-H1');
  await waitText(page, 'p.note', 'Số liệu mới nhất');
  await page.waitForSelector('.unit-grid .tile');
  const tiles = await page.$$eval('.unit-grid', (grids) => grids.map((g) => g.querySelectorAll('.tile').length));
  assert.equal(tiles[0], 75, 'every commune and ward has a tile');
  assert.equal(tiles[1], 16, 'and every department (sở, ban, ngành), in a grid of their own');
  assert.match(await page.$eval('.unit-grid .tile[title^="Sở Y tế"]', (e) => e.textContent), /0\/\d+/);
  // Mường La sent one of its four reports (late: after 05/06/2026); the others are still missing.
  const muongLa = await page.$eval('.unit-grid .tile[title$="(03808)"]', (e) => [e.className, e.textContent]);
  assert.match(muongLa[0], /partial/);
  assert.match(muongLa[1], /1\/4/);
  assert.match(await page.$eval('.bignums', (e) => e.textContent), /1Trễ hạn/);
  await shot(page, '14-dashboard');
  await shotOf(page, 'section.card:has(ul.bars)', '15-dashboard-groups');
  await shotOf(page, 'section.card:has(ul.indicators)', '16-dashboard-indicators');
  await page.click('.unit-grid .tile[title$="(03808)"]');
  await shotOf(page, 'section.card:has(.unit-grid)', '17-dashboard-units');
  await page.evaluate(() => { const d = document.querySelector('details.detail'); d.open = true; d.scrollIntoView(); scrollBy(0, -60); });
  await shot(page, '18-dashboard-table');
  // The print view (print CSS): the report on A4, without the phone's frame.
  await page.emulateMediaType('print');
  await page.setViewport({ width: 794, height: 1123 });
  await page.evaluate(() => scrollTo(0, 0));
  await new Promise((r) => setTimeout(r, 300));
  await page.screenshot({ path: join(SHOTS, 'dashboard-print.png') });
  await page.pdf({ path: join(SHOTS, 'dashboard-print.pdf'), format: 'A4', printBackground: true });
  await page.setViewport(PHONE);
  await page.emulateMediaType(null);
  await setOffline(page, true);
  await go(page, '#/review');
  await go(page, '#/dashboard?period=2026-H1');
  await waitText(page, 'p.note', 'Số liệu đã lưu lúc');
  await page.waitForSelector('.unit-grid .tile');
  await setOffline(page, false);
});

test('the reviewer accepts the corrected report', async () => {
  const page = reviewer;
  await go(page, `#/review-item?id=${shared.report}`);
  await page.waitForSelector('section.decide');
  await page.click('section.decide button.primary');
  await page.waitForFunction(() => !location.hash.includes('item'));
  await syncNow(page);
  await go(page, '#/review?period=2026-H1&state=accepted');
  await waitText(page, 'a.item', 'Xã Mường La');
  // Accepted without a comment: the reason it was returned for is history, not the verdict shown
  // next to "Đã duyệt" (the accept clears review_comment).
  const reason = 'Đề nghị bổ sung danh sách hộ được cấp nước.';
  await syncNow(official);
  await go(official, `#/report?id=${shared.report}`);
  await waitText(official, '.report-head', 'Đã duyệt');
  await waitText(official, '.history-card', reason);
  assert.ok(!(await official.$eval('dl.fields', (e) => e.textContent)).includes(reason), 'the earlier return\'s reason is shown as the review comment');
  assert.equal(await official.$$eval('.card.returned', (l) => l.length), 0);
  await go(page, `#/review-item?id=${shared.report}`);
  await waitText(page, '.history-card', reason);
  assert.ok(!(await page.$eval('dl.fields', (e) => e.textContent)).includes(reason), 'the reviewer sees the old reason as the comment');
  // Leave these routes, so that the next test's visits to them draw afresh.
  await go(official, '#/todo');
  await go(page, '#/review');
});

test('the reviewer and the official exchange comments (ý kiến) on the report, written offline and synced', async () => {
  await go(reviewer, `#/review-item?id=${shared.report}`);
  await reviewer.waitForSelector('form.talk-form #talk');
  await setOffline(reviewer, true);
  await reviewer.type('#talk', 'Đề nghị lưu ảnh đồng hồ nước vào hồ sơ.');
  await reviewer.click('form.talk-form button[type=submit]');
  await waitText(reviewer, '.history-card li.talk', 'Đề nghị lưu ảnh đồng hồ nước vào hồ sơ.');
  await waitText(reviewer, '.history-card li.talk', 'Chờ gửi');
  assert.match(await reviewer.$eval('.history-card li.talk', (e) => e.textContent), /Nguyễn Thị Thu/);
  assert.equal(await reviewer.$eval('#talk', (e) => e.value), '');
  // An empty comment is not written. (A tap in the page, not at coordinates: the button may sit
  // under the bottom navigation bar until the page scrolls.)
  await reviewer.$eval('form.talk-form button[type=submit]', (b) => b.click());
  await waitText(reviewer, 'form.talk-form .error', 'Hãy viết nội dung ý kiến');
  await setOffline(reviewer, false);
  assert.match(await syncNow(reviewer), /Đã đồng bộ xong/);

  const page = official;
  await syncNow(page);
  await go(page, `#/report?id=${shared.report}`);
  await waitText(page, '.history-card li.talk', 'Đề nghị lưu ảnh đồng hồ nước vào hồ sơ.');
  assert.match(await page.$eval('.history-card', (e) => e.textContent), /Nguyễn Thị Thu/);
  await page.type('#talk', 'Đã lưu ảnh, gửi kèm bản giấy.');
  await page.$eval('form.talk-form button[type=submit]', (b) => b.click());
  await waitText(page, '.history-card li.talk', 'Đã lưu ảnh, gửi kèm bản giấy.');
  await shot(page, '13b-report-comments', { full: true });
  assert.match(await syncNow(page), /Đã đồng bộ xong/);

  await syncNow(reviewer);
  await go(reviewer, '#/review');
  await go(reviewer, `#/review-item?id=${shared.report}`);
  await waitText(reviewer, '.history-card', 'Đã lưu ảnh, gửi kèm bản giấy.');
  const talk = await reviewer.$$eval('.history-card li.talk', (l) => l.map((e) => e.textContent));
  assert.equal(talk.length, 2);
  assert.match(talk[0], /Nguyễn Thị Thu.*Đề nghị lưu ảnh/);
  assert.match(talk[1], /Lò Văn Minh.*Đã lưu ảnh, gửi kèm bản giấy/);
  assert.ok(talk.every((x) => !x.includes('Chờ gửi')), 'both sent');
});

test('the administrator makes a user, lists the users with their units and devices, makes an enrolment code, and sees the devices', async () => {
  X = await launchBrowser();
  const page = await phone(X, `${srv.url}/#/admin`);
  await page.waitForSelector('#token');
  await shot(page, '19-admin-token');
  await page.type('#token', await srv.adminToken());
  await page.click('form button[type=submit]');
  await page.waitForSelector('#uid');
  await page.type('#uid', 'lan');
  await page.type('#uname', 'Cầm Thị Lan');
  await page.type('#uunits', '03646');
  await page.click('form button[type=submit]');
  await waitText(page, 'p.note.ok', 'Đã lưu người dùng lan');
  await shot(page, '20-admin-user');
  // The list below the form: every user with their units and devices, the new one included.
  const card = (id) => page.$eval(`li.card.user[data-user="${id}"]`, (e) => e.textContent);
  await waitText(page, 'li.card.user[data-user="lan"]', 'Cầm Thị Lan');
  assert.match(await card('lan'), /03646/);
  assert.match(await card('lan'), /Chưa đăng ký thiết bị nào/);
  assert.match(await card('minh'), /Lò Văn Minh/);
  assert.match(await card('minh'), /Cán bộ xã, phường/);
  assert.match(await card('minh'), /03808/);
  assert.match(await card('minh'), /1 thiết bị, 1 đang dùng/);
  assert.match(await card('minh'), /Đang dùng/);
  assert.match(await card('thu'), /Toàn tỉnh/);
  assert.match(await card('thu'), /Cán bộ thẩm định/);
  // Every user the server holds (the seed's own user too), one card each.
  const token = await srv.adminToken();
  const held = (await (await fetch(`${srv.url}/v1/admin/users`, { headers: { Authorization: `Bearer ${token}` } })).json()).users;
  assert.ok(held.length >= 4);
  assert.equal(await page.$eval('section.user-list .summary', (e) => e.textContent), `${held.length} người dùng`);
  assert.deepEqual((await page.$$eval('li.card.user', (l) => l.map((e) => e.dataset.user))).sort(), held.map((u) => u.id).sort());
  await page.type('#ufilter', 'cam thi');
  await waitText(page, 'section.user-list .summary', '1 người dùng');
  assert.deepEqual(await page.$$eval('li.card.user', (l) => l.map((e) => e.dataset.user)), ['lan']);
  await page.click('#ufilter', { clickCount: 3 });
  await page.keyboard.press('Backspace');
  await waitText(page, 'section.user-list .summary', `${held.length} người dùng`);
  await shotOf(page, 'section.user-list', '20-admin-users-list');
  // "Sửa" fills the form with the user as the server has it.
  await page.click('li.card.user[data-user="minh"] button.edit');
  assert.equal(await page.$eval('#uid', (e) => e.value), 'minh');
  assert.equal(await page.$eval('#uname', (e) => e.value), 'Lò Văn Minh');
  assert.equal(await page.$eval('#uunits', (e) => e.value), '03808');
  // English, as chosen on the "Tôi" screen (the admin token survives the reload: same tab).
  await page.evaluate(() => localStorage.setItem('tram.lang', 'en'));
  await reload(page);
  await waitText(page, 'section.user-list h2', 'Users');
  assert.match(await card('lan'), /No device enrolled yet/);
  assert.match(await card('minh'), /Devices: 1, active: 1/);
  assert.match(await card('thu'), /Whole province/);
  await page.evaluate(() => localStorage.setItem('tram.lang', 'vi'));
  await reload(page);
  await waitText(page, 'section.user-list h2', 'Danh sách người dùng');
  // A user without a device: the list offers the enrolment code.
  await clickText(page, 'li.card.user[data-user="lan"] a', 'Tạo mã kích hoạt');
  await page.waitForSelector('#cuser');
  assert.equal(await page.$eval('#cuser', (e) => e.value), 'lan');
  await page.click('form button[type=submit]');
  await page.waitForSelector('.enrol-code');
  const code = await page.$eval('.enrol-code', (e) => e.textContent);
  assert.match(code, /^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);
  assert.match(await page.$eval('a.enrol-link', (e) => e.href), new RegExp(`#/enrol\\?code=${code}$`));
  await shot(page, '21-admin-code', { full: true });
  await go(page, '#/admin?tab=devices');
  await waitText(page, 'li.device', 'minh');
  const users = await page.$$eval('li.device strong', (l) => l.map((e) => e.textContent));
  assert.ok(users.includes('minh') && users.includes('thu'), `the two phones are listed (${users})`);
  await shot(page, '22-admin-devices');
  // The token lives in this tab's sessionStorage only.
  assert.equal(await page.evaluate(() => localStorage.getItem('tram.adminToken')), null);
});

test('English can be chosen, and the app opens offline from the service worker', async () => {
  const page = official;
  await go(page, '#/me');
  await page.waitForSelector('input[name=lang][value=en]');
  await shot(page, '23-me');
  await page.click('input[name=lang][value=en]');
  await waitText(page, 'nav.bottom', 'To do');
  await go(page, '#/todo?period=2026-H1');
  await waitText(page, '.card.period', 'First half of 2026');
  await waitText(page, 'a.item', 'Overdue, not reported');
  await shot(page, '24-todo-en');
  await page.click('input[name=lang][value=vi]').catch(() => {});
  await page.evaluate(() => localStorage.setItem('tram.lang', 'vi'));
  await waitFor(() => page.evaluate(() => !!navigator.serviceWorker.controller), { what: 'the service worker to control the page' })
    .catch(async () => { await reload(page); });
  await setOffline(page, true);
  await reload(page);
  await go(page, '#/todo?period=2026-H1');
  await waitText(page, 'a.item', 'CT-CAPNUOC-XA');
  // How fast is the benchmark's business (bench/budgets.mjs, `make bench-web`): timing is not
  // asserted on a shared CI machine. Printed for the log.
  console.log(`offline reload to the to-do list: ${Math.round(await page.evaluate(() => performance.now()))} ms`);
  assert.match(await page.$eval('.syncbar', (e) => e.textContent), /Không có mạng/);
  await setOffline(page, false);
});

test('a browser without sealed Ed25519 keys asks for a passphrase at enrolment and to unlock', async () => {
  const code = await srv.enrolCode('minh2');
  const b = await launchBrowser();
  try {
    const page = await b.open('about:blank');
    await page.setViewport(PHONE);
    // As on browsers without WebCrypto Ed25519: the device falls back to a key under a passphrase.
    await page.evaluateOnNewDocument(() => {
      const gen = crypto.subtle.generateKey.bind(crypto.subtle);
      crypto.subtle.generateKey = (alg, ...rest) => ((alg?.name || alg) === 'Ed25519' ? Promise.reject(new DOMException('no', 'NotSupportedError')) : gen(alg, ...rest));
    });
    await page.goto(`${srv.url}/#/enrol?code=${code}`, { waitUntil: 'load' });
    // The device knows at once (dev.needsPassphrase): the screen asks before the first try.
    await page.waitForSelector('.passbox:not([hidden]) #pass');
    await page.type('#pass', 'núi Sơn La 2026');
    await page.type('#pass2', 'núi Sơn La 2026');
    await shot(page, '25-enrol-passphrase', { full: true });
    await page.click('form button[type=submit]');
    assert.equal(await page.$eval('p.error', (e) => e.textContent), '');
    await waitText(page, 'dl.who', 'Lò Văn Minh', 60_000);
    await reload(page);
    await page.waitForSelector('form #pass:not([hidden])');
    await waitText(page, 'h1.title', 'Mở khóa thiết bị');
    assert.match(await page.$eval('h1.title', (e) => e.textContent), /Mở khóa thiết bị/);
    await page.type('#pass', 'sai mật khẩu');
    await page.click('form button[type=submit]');
    await waitText(page, 'p.error', 'Mật khẩu không đúng', 60_000);
    await page.click('#pass', { clickCount: 3 });
    await page.type('#pass', 'núi Sơn La 2026');
    await page.click('form button[type=submit]');
    await page.waitForSelector('nav.bottom a[href="#/todo"].on', { timeout: 60_000 });
  } finally {
    await b.close();
  }
});

// The size budget only (bytes are deterministic). The time to open over EDGE, the offline reopen,
// the save and the first sync are measured by the benchmark (bench/budgets.mjs, `make bench-web`),
// not here: timing on a loaded 2-core CI machine or under ASan would make this test flaky.
test('the app shell (JS, CSS, index.html, sw.js) fits 150 KB gzipped', () => {
  const dist = join(WEB_DIR, 'dist');
  const files = ['app.js', 'app.css', 'index.html', 'sw.js'];
  const gz = files.map((f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length);
  const total = gz.reduce((a, b) => a + b, 0);
  console.log(files.map((f, i) => `${f} ${gz[i]} B`).join(' + ') + ` = ${total} B gzipped`);
  assert.ok(total <= 150 * 1024, `the app shell is ${total} B gzipped, over 150 KB`);
});
