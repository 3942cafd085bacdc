// A real conflict (chỉnh sửa trùng): two officials of xã Mường La, each in a browser profile of
// their own, edit the same fields of the same report while offline; both sync. The server keeps
// the later edit (merge.md: the higher hybrid-clock rank) and records the other; the official
// whose edit was not kept sees, on "Chờ gửi › Sửa trùng", the field, the kept value and the lost
// one, in plain words; the other sees that theirs was kept. The real tram-server and chromium.
//
//   cd web && node --test test/e2e/conflicts.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, buildApp, appWithDeviceApi, deviceCall, launchBrowser, setOffline, reload } from './harness.mjs';
import { phone, syncNow, shot, go, waitText } from './phone.mjs';

const MINH = { id: 'minh', role: 'official', units: ['03808'], name: 'Lò Văn Minh' };
const HOA = { id: 'hoa', role: 'official', units: ['03808'], name: 'Điêu Thị Hoa' };
let srv, web, A, B, minh, hoa, report;

before(async () => {
  web = await appWithDeviceApi(await buildApp());
  srv = await startServer({ web, users: [MINH, HOA] });
  [A, B] = await Promise.all([launchBrowser(), launchBrowser()]);
});

after(async () => {
  if (process.exitCode) console.log([...(A?.logs || []), ...(B?.logs || [])].join('\n'));
  await Promise.all([A, B].map((b) => b?.close()));
  await srv?.stop();
  if (web && !process.env.TRAM_KEEP_TEMP) rmSync(web, { recursive: true, force: true });
});

async function enrolled(browser, user) {
  const page = await phone(browser, srv.url + '/');
  await deviceCall(page, 'default', (dev, c) => dev.enroll(c), await srv.enrolCode(user.id));
  await reload(page); // the app's own device handle opens the enrolled device
  await page.waitForSelector('.syncbar .sync-btn');
  assert.match(await syncNow(page, 90_000), /Đã đồng bộ xong/);
  return page;
}

const edit = (page, id, f) => deviceCall(page, 'default', (dev, rid, fields) => dev.write([{ t: 'progress_report', id: rid, k: 'put', f: fields }]), id, f);
const conflicts = (page) => deviceCall(page, 'default', (dev) => dev.conflicts());

test('Minh writes a report; Hoa, of the same commune, receives it', async () => {
  [minh, hoa] = await Promise.all([enrolled(A, MINH), enrolled(B, HOA)]);
  const w = await deviceCall(minh, 'default', async (dev) => {
    const links = await dev.query('indicator_unit', (x) => x.unit_code === '03808' && x.indicator === 'CT-CAPNUOC-XA');
    return dev.write([{ t: 'progress_report', k: 'put', f: { unit_code: '03808', indicator: links[0].indicator, period: '2026-H1',
      value: 70, progress: 'on_track', narrative: 'Đã khởi công đường ống bản Nà Lốc.', author: 'Lò Văn Minh', recorded_on: '2026-06-03', status: 'draft' } }]);
  });
  report = w.ids[0];
  assert.match(await syncNow(minh), /Đã đồng bộ xong/);
  assert.match(await syncNow(hoa), /Đã đồng bộ xong/);
  const seen = await deviceCall(hoa, 'default', (dev, id) => dev.get('progress_report', id), report);
  assert.equal(seen.narrative, 'Đã khởi công đường ống bản Nà Lốc.');
  assert.deepEqual(await conflicts(minh), []);
});

test('both edit the value, the progress and the narrative offline; Hoa edits last, so hers is kept', async () => {
  await Promise.all([setOffline(minh, true), setOffline(hoa, true)]);
  await edit(minh, report, { value: 78.5, progress: 'at_risk', narrative: 'Minh: đã xong 120 hộ.' });
  await new Promise((r) => setTimeout(r, 50)); // Hoa's edit comes later on the hybrid clock
  await edit(hoa, report, { value: 81.25, progress: 'on_track', narrative: 'Hoa: đã xong 125 hộ, còn 5 hộ.' });
  // Minh's reaches the province first, Hoa's later: the later edit still wins.
  await setOffline(minh, false);
  assert.match(await syncNow(minh), /Đã đồng bộ xong/);
  await setOffline(hoa, false);
  assert.match(await syncNow(hoa), /Đã đồng bộ xong/);
  assert.match(await syncNow(minh), /Đã đồng bộ xong/); // brings Hoa's edit and the conflict records
  for (const page of [minh, hoa]) {
    const row = await deviceCall(page, 'default', (dev, id) => dev.get('progress_report', id), report);
    assert.deepEqual([row.value, row.progress, row.narrative], [81.25, 'on_track', 'Hoa: đã xong 125 hộ, còn 5 hộ.'], 'both replicas agree');
  }
  const mine = await conflicts(minh);
  assert.deepEqual(mine.map((c) => [c.fieldName, c.mineLost]).sort(), [['narrative', true], ['progress', true], ['value', true]]);
  assert.equal(mine.find((c) => c.fieldName === 'narrative').value, 'Minh: đã xong 120 hộ.');
  const hers = await conflicts(hoa);
  assert.deepEqual(hers.map((c) => [c.fieldName, c.mineLost]).sort(), [['narrative', false], ['progress', false], ['value', false]]);
});

test('Minh\'s "Sửa trùng" screen shows each field with the kept and the lost value, in plain words', async () => {
  await go(minh, '#/outbox?tab=conflicts');
  await minh.waitForSelector('article.card.conflict');
  const cards = await minh.$$eval('article.card.conflict', (l) => l.map((e) => ({
    text: e.querySelector('p').textContent, note: e.querySelectorAll('p')[1].textContent,
    kept: e.querySelector('dd.kept').textContent, lost: e.querySelector('dd.lost').textContent })));
  const by = (word) => cards.find((c) => c.text.includes(word));
  assert.equal(cards.length, 3);
  assert.deepEqual(by('Kết quả thực hiện') && [by('Kết quả thực hiện').kept, by('Kết quả thực hiện').lost],
    ['Hoa: đã xong 125 hộ, còn 5 hộ.', 'Minh: đã xong 120 hộ.'], JSON.stringify(cards));
  const value = cards.find((c) => c.kept === '81,25');
  assert.ok(value, `the value in Vietnamese digits: ${JSON.stringify(cards)}`);
  assert.equal(value.lost, '78,5');
  const progress = cards.find((c) => c.kept === 'Đúng tiến độ');
  assert.ok(progress, `the progress in words: ${JSON.stringify(cards)}`);
  assert.equal(progress.lost, 'Có nguy cơ chậm');
  for (const c of cards) assert.match(c.note, /Bản của bạn không được giữ/);
  assert.match(await minh.$eval('.tabs', (e) => e.textContent), /Sửa trùng\s*3/);
  await shot(minh, 'conflicts-lost', { full: true });
  // Hoa's screen: her edits were kept.
  await go(hoa, '#/outbox?tab=conflicts');
  await hoa.waitForSelector('article.card.conflict');
  const notes = await hoa.$$eval('article.card.conflict', (l) => l.map((e) => e.querySelectorAll('p')[1].textContent));
  assert.equal(notes.length, 3);
  for (const n of notes) assert.match(n, /Bản của bạn được giữ/);
  // And in English.
  await minh.evaluate(() => localStorage.setItem('tram.lang', 'en'));
  await reload(minh);
  await go(minh, '#/outbox?tab=conflicts');
  await waitText(minh, 'article.card.conflict', 'Your version was not kept');
  await minh.evaluate(() => localStorage.setItem('tram.lang', 'vi'));
});
