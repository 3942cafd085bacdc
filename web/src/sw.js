// The service worker: keeps the app shell (the files build.mjs lists in __TRAM_FILES__) in a
// cache named after the build's version, so the app opens in about a second with no signal.
// It never touches the API (/v1/…): data goes through the device's own store and sync, and a
// cached API answer would show an official stale or someone else's data.
/* global __TRAM_FILES__, __TRAM_VERSION__ */
const VERSION = __TRAM_VERSION__;
const FILES = __TRAM_FILES__;
const CACHE = `tram-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  // 'reload' skips the HTTP cache, so a new version never precaches an old file.
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES.map((f) => new Request(f, { cache: 'reload' })))));
  // No skipWaiting here: the page offers "reload" and the user chooses when (see sw-register.js).
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('tram-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const scope = new URL(self.registration.scope);
  const path = url.pathname.slice(scope.pathname.length - 1);
  if (path.startsWith('/v1/') || path === '/healthz' || path === '/metrics' || path === '/version.txt') return;
  if (req.mode === 'navigate') {
    // Hash routes all load the one page: answer every navigation with the cached shell.
    event.respondWith(caches.open(CACHE).then(async (c) => (await c.match('./')) || fetch(req)));
    return;
  }
  event.respondWith(caches.open(CACHE).then(async (c) => (await c.match(req, { ignoreSearch: true })) || fetch(req)));
});
