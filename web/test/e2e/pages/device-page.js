// The device test page: the device library alone, without the UI, with a few helpers the test
// drives through page.evaluate. A small service worker serves the page from its cache, so the
// page can be reloaded offline, as the app's own service worker lets the app be.
import { Device } from '../../../src/device/device.js';

const json = (v) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? `<${x.length} bytes>` : x)));

window.T = {
  Device,
  devices: {},
  // Opens (or returns) the device of this name; the first one is also window.dev.
  async open(name = 'default') {
    if (!this.devices[name]) this.devices[name] = await Device.open({ baseUrl: location.origin, name });
    if (name === 'default' || !window.dev) window.dev = this.devices[name];
    return this.devices[name];
  },
  // Plain results for page.evaluate: BigInts as strings, bytes as their length.
  json,
  // An error as { error: { code, message, problems } } (a DeviceError's message is { vi, en }).
  fail(e) {
    return { error: { code: e.code || e.name, message: e.message, problems: e.problems ? json(e.problems) : undefined, stack: String(e.stack || '') } };
  },
  // Random bytes as a Blob (getRandomValues gives at most 64 KiB per call).
  randomBlob(size, type) {
    const u8 = new Uint8Array(size);
    for (let o = 0; o < size; o += 65536) crypto.getRandomValues(u8.subarray(o, Math.min(size, o + 65536)));
    return new Blob([u8], { type });
  },
  swReady: false,
};

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/page-sw.js').then(() => navigator.serviceWorker.ready).then(() => { window.T.swReady = true; });
}
