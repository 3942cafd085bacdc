// Driving the real screens as a person does on a 360×740 phone: open the app, wait for words on
// the screen, tap, press "Đồng bộ ngay", take screenshots. Shared by ui.test.mjs, the CI
// scenario (scenario.test.mjs) and the budgets benchmark (bench/budgets.mjs). Every wait is
// bounded (harness.waitFor).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, REPO, tempDir } from './harness.mjs';

export const PHONE = { width: 360, height: 740, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const SHOTS = process.env.TRAM_SCREENSHOTS || join(REPO, 'var/screenshots');

// A phone-sized page of this browser at `url`.
export async function phone(browser, url) {
  const page = await browser.open('about:blank');
  await page.setViewport(PHONE);
  await page.goto(url, { waitUntil: 'load' });
  return page;
}

// A phone-sized screenshot; `full` makes the viewport as tall as the page first (a full-page
// capture would paint the sticky header in the middle). Toasts are removed: they cover content.
export async function shot(page, name, { full = false } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await new Promise((r) => setTimeout(r, 250)); // let the last redraw and transitions settle
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  if (full) await page.setViewport({ ...PHONE, height: Math.max(PHONE.height, await page.evaluate(() => document.documentElement.scrollHeight)) });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  if (full) await page.setViewport(PHONE);
}

// One part of a long screen, as the phone shows it.
export async function shotOf(page, sel, name) {
  mkdirSync(SHOTS, { recursive: true });
  const el = await page.waitForSelector(sel);
  // The sticky header and the bottom bar would be painted over a tall element.
  await page.evaluate(() => document.querySelectorAll('header.top, nav.bottom').forEach((e) => (e.style.visibility = 'hidden')));
  await el.screenshot({ path: join(SHOTS, `${name}.png`) });
  await page.evaluate(() => document.querySelectorAll('header.top, nav.bottom').forEach((e) => (e.style.visibility = '')));
}

// Waits until an element matching `sel` contains `text`.
export function waitText(page, sel, text, timeout = 20_000) {
  return waitFor(() => page.evaluate((s, t) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(t)), sel, text),
    { timeout, what: `"${text}" in ${sel}` });
}

// Taps the first element matching `sel` that contains `text`, once it appears.
export async function clickText(page, sel, text) {
  await waitText(page, sel, text);
  await page.evaluate((s, t) => [...document.querySelectorAll(s)].find((e) => e.textContent.includes(t)).click(), sel, text);
}

// Moves to a screen (`#/path?query`).
export async function go(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

// Press "Đồng bộ ngay" (after any automatic sync already running) and wait until the sync bar
// says how it ended; returns what it says.
export async function syncNow(page, timeout = 30_000) {
  const idle = () => page.evaluate(() => !document.querySelector('.syncbar').classList.contains('busy'));
  await waitFor(idle, { timeout, what: 'a running sync to end' });
  // An automatic sync may start meanwhile (the button is then disabled and this one joins it):
  // either way the bar ends idle with the words of how the sync ended, read in one go.
  await page.evaluate(() => { document.querySelector('.syncbar .phase').textContent = ''; document.querySelector('.syncbar .sync-btn').click(); });
  return waitFor(() => page.evaluate(() => !document.querySelector('.syncbar').classList.contains('busy') && document.querySelector('.syncbar .phase').textContent),
    { timeout, what: 'the sync to finish' });
}

// Waits until the service worker controls the page (so that it opens offline), reloading once
// if the first load was not claimed.
export async function swControls(page) {
  const controlled = () => page.evaluate(() => !!navigator.serviceWorker.controller);
  try {
    await waitFor(controlled, { timeout: 15_000, what: 'the service worker to control the page' });
  } catch {
    await page.reload({ waitUntil: 'load' });
    await waitFor(controlled, { timeout: 15_000, what: 'the service worker to control the page (after a reload)' });
  }
}

// A photo "from the camera" on the open report form: a screenshot of this phone will do (each
// phone's screen differs, so its hash does); the page resizes it to JPEG before keeping it.
export async function attachPhoto(page) {
  const dir = tempDir('tram-photo-');
  try {
    const photo = join(dir, 'anh.png');
    await page.screenshot({ path: photo });
    const [camera] = await page.$$('input[type=file][capture]');
    await camera.uploadFile(photo);
    await page.waitForSelector('figure.photo img[src^="blob:"]');
    await waitText(page, '.photos-field .hint', 'Đã lưu ảnh');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
