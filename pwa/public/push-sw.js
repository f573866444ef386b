/* Web Push handlers, imported into the generated service worker (importScripts).
 *
 * Payloads are {type, title, body, url, id} and never carry patient identifiers or
 * clinical detail (SPEC §6): the app fetches details after it opens. The worker only
 * shows the notification and, on click, focuses an open window or opens the url.
 */
/* eslint-env serviceworker */
'use strict';

function sameOriginPath(url) {
  try {
    const target = new URL(url || '/', self.location.origin);
    return target.origin === self.location.origin ? target.pathname + target.search + target.hash : '/';
  } catch (_) {
    return '/';
  }
}

self.addEventListener('push', (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch (_) {
    payload = { body: event.data ? event.data.text() : '' };
  }
  const title = payload.title || 'Doorstep';
  const options = {
    body: payload.body || '',
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    lang: 'en-GB',
    tag: payload.type && payload.id ? `${payload.type}:${payload.id}` : payload.type || undefined,
    renotify: Boolean(payload.type && payload.id),
    requireInteraction: payload.type === 'escalation',
    data: { url: sameOriginPath(payload.url), type: payload.type || null, id: payload.id || null },
  };
  if (!options.tag) delete options.renotify;
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const path = (event.notification.data && event.notification.data.url) || '/';
  const target = new URL(path, self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url === target && 'focus' in client) return client.focus();
      }
      for (const client of windows) {
        if ('navigate' in client && 'focus' in client) {
          return client.focus().then((focused) => (focused || client).navigate(target));
        }
      }
      return self.clients.openWindow(target);
    }),
  );
});
