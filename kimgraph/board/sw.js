// KIMgraph notice board's service worker: network first, the saved copy when the
// server cannot be reached, so a reload during an outage never shows a blank screen.
// board.js fills the cache; this only reads it.
'use strict';

const OFFLINE_CACHE = 'kimgraph-board';
const NETWORK_TIMEOUT_MS = 8000;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const ours = url.pathname.startsWith('/board/') || url.pathname.startsWith('/board-assets/');
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !ours) return;
  event.respondWith(networkFirst(event.request));
});

// Waits NETWORK_TIMEOUT_MS for the server, then takes the saved copy if there is
// one; without a saved copy it keeps waiting for the server.
async function networkFirst(request) {
  const network = fetch(request);
  const slow = new Promise((resolve) => { setTimeout(resolve, NETWORK_TIMEOUT_MS, null); });
  const answer = await Promise.race([network, slow]).catch(() => null);
  if (answer) return answer;
  const saved = await caches.match(request, { cacheName: OFFLINE_CACHE, ignoreVary: true });
  if (saved) {
    network.catch(() => {}); // a late failure no longer matters
    return saved;
  }
  return network;
}
