/* dyadlab: "Turn on reminders on this device" (Web Push), on the participant overview.
 *
 * The opt-in (templates/participant/_push_optin.html) is shown only when this browser has
 * service workers, PushManager and notifications and the server sent its VAPID public
 * key. Turning on asks for notification permission, subscribes with the server's key
 * and stores the subscription with PUT /api/v1/me/push (session cookie + X-CSRF-Token).
 * Turning off unsubscribes and deletes it. On every visit an existing subscription is
 * sent again, so the server's copy stays current. The button keeps keyboard focus while
 * it works (aria-disabled, not disabled); results are announced in a role="status" line.
 */
(function () {
  'use strict';

  var box = document.getElementById('push-optin');
  if (!box || !box.dataset.key) {
    return;
  }
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    return;
  }
  var button = document.getElementById('push-toggle');
  var status = document.getElementById('push-status');
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute('content') : '';
  var registration = null;
  var subscribed = false;
  var busy = false;

  function say(key) {
    status.textContent = box.dataset[key] || '';
  }

  function show(on) {
    subscribed = on;
    button.textContent = on ? box.dataset.turnOff : box.dataset.turnOn;
  }

  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, '+').replace(/_/g, '/');
    padded += '===='.slice(0, (4 - (padded.length % 4)) % 4);
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function api(method, body, query) {
    var options = {
      method: method,
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': csrf, Accept: 'application/json' }
    };
    if (body) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch('/api/v1/me/push' + (query || ''), options).then(function (response) {
      if (!response.ok && !(method === 'DELETE' && response.status === 404)) {
        throw new Error('HTTP ' + response.status);
      }
      return response;
    });
  }

  function permission() {
    if (Notification.permission === 'granted') {
      return Promise.resolve('granted');
    }
    return new Promise(function (resolve) {
      var asked = Notification.requestPermission(resolve);
      if (asked && typeof asked.then === 'function') {
        asked.then(resolve);
      }
    });
  }

  function turnOn() {
    return permission().then(function (answer) {
      if (answer !== 'granted') {
        say('denied');
        return;
      }
      return registration.pushManager
        .subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.key) })
        .then(function (subscription) {
          return api('PUT', subscription.toJSON());
        })
        .then(function () {
          show(true);
          say('on');
        });
    });
  }

  function turnOff() {
    return registration.pushManager.getSubscription().then(function (subscription) {
      var done = function () {
        show(false);
        say('off');
      };
      if (!subscription) {
        done();
        return;
      }
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return api('DELETE', null, '?endpoint=' + encodeURIComponent(endpoint)).then(done);
      });
    });
  }

  button.addEventListener('click', function () {
    if (busy || !registration) {
      return;
    }
    busy = true;
    button.setAttribute('aria-disabled', 'true');
    say('working');
    var turningOff = subscribed;
    (turningOff ? turnOff() : turnOn())
      .catch(function () {
        say(turningOff ? 'failedOff' : 'failed');
      })
      .then(function () {
        busy = false;
        button.removeAttribute('aria-disabled');
      });
  });

  navigator.serviceWorker
    .register(box.dataset.worker, { scope: box.dataset.scope })
    .then(function (reg) {
      registration = reg;
      return reg.pushManager.getSubscription();
    })
    .then(function (subscription) {
      var on = Boolean(subscription) && Notification.permission === 'granted';
      if (on) {
        api('PUT', subscription.toJSON()).catch(function () {
          /* offline now: sent again on the next visit */
        });
      }
      show(on);
      box.hidden = false;
    })
    .catch(function () {
      /* no service worker here (e.g. a private window): the opt-in stays hidden */
    });
})();
