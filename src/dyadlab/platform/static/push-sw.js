/* dyadlab service worker: shows Web Push reminders and opens the study on a click.
 *
 * Served at /s/push-sw.js (scope /s/, the participant pages). The push payload is
 * {title, body, url} from dyadlab.platform.notify.push_payload: a neutral text in the
 * participant's language. The notice has no icon, image or badge that could say more,
 * and a click opens (or focuses) only an address of this site.
 */
'use strict';

var FALLBACK_TITLE = 'Study';

function sameSite(url) {
  try {
    var parsed = new URL(url, self.registration.scope);
    if (parsed.origin === self.location.origin) {
      return parsed.href;
    }
  } catch (e) {
    /* not a URL: use the scope below */
  }
  return self.registration.scope;
}

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  var title = typeof data.title === 'string' && data.title ? data.title : FALLBACK_TITLE;
  var options = {
    body: typeof data.body === 'string' ? data.body : '',
    data: { url: sameSite(data.url || self.registration.scope) },
    tag: 'dyadlab-reminder',
    renotify: true
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var target = sameSite((event.notification.data && event.notification.data.url) || '');
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i += 1) {
        var client = list[i];
        if (client.url === target && 'focus' in client) {
          return client.focus();
        }
      }
      for (var j = 0; j < list.length; j += 1) {
        if (new URL(list[j].url).origin === self.location.origin && 'navigate' in list[j]) {
          return list[j].navigate(target).then(function (c) {
            return c ? c.focus() : self.clients.openWindow(target);
          });
        }
      }
      return self.clients.openWindow(target);
    })
  );
});
