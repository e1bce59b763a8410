/* dyadlab continuous rating: one slider, sampled on the device's clock, sent in batches.
 *
 * - The value is sampled CFG.rate_hz times a second at fixed device times
 *   t0 + k / rate_hz, on performance.timeOrigin + performance.now() (monotonic within the
 *   page); a tick that comes late (a busy phone) fills the samples it missed with the
 *   value of that moment, so a trace has no holes.
 * - The server's clock minus the device's is estimated NTP-style at the start and again
 *   at the end: five round trips to /api/v1/me/clock, the one with the shortest round
 *   trip kept (offset = server time - midpoint of the round trip). Every batch carries
 *   the latest estimate; the server aligns the samples with it at export.
 * - Every two seconds the new samples become a batch with a UUID of its own, queued in
 *   localStorage ("dyadlab:rating:PERSON:queue") and sent in order; a batch leaves the
 *   queue only when the server has it (201, or 200: stored before). A dropped connection
 *   loses nothing: the queue is sent when the connection is back (and by this page on
 *   its next visit). A refused batch (404, 409, 422) is dropped: it can never be stored.
 * - The session ends for both partners when either presses Stop, or at max_minutes: an
 *   acknowledgement saying running=false ends it on the other phone within a batch.
 * - A wake lock keeps the screen on while rating (when the browser offers one).
 * - The session this phone rates in, and the slider's value, are kept in localStorage
 *   ("dyadlab:rating:PERSON:session") until it ends: after a reload (or a crash) the
 *   page asks the server whether that session still runs (GET
 *   /api/v1/me/rating-sessions/ID) and, if so, shows it running and goes on sampling
 *   and sending into the same session from the value the slider held (the samples taken
 *   before the reload are queued when the page is left; the moments the page was away
 *   stay a gap in the trace; the clock is estimated again).
 * - Quick exit (participant.js) deletes the queue from the device.
 */
(function () {
  "use strict";

  var cfgNode = document.getElementById("rating-config");
  var box = document.getElementById("rating");
  if (!cfgNode || !box) { return; }
  var CFG = JSON.parse(cfgNode.textContent);
  var T = CFG.texts;
  var PERSON = document.body.dataset.person || "";
  var csrfNode = document.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfNode ? csrfNode.getAttribute("content") : "";
  var QUEUE_KEY = "dyadlab:rating:" + PERSON + ":queue";
  var SESSION_KEY = "dyadlab:rating:" + PERSON + ":session";
  var PERIOD = 1000 / CFG.rate_hz;
  var BATCH_MS = 2000;
  var SYNC_ROUNDS = 5;

  var slider = document.getElementById("rating-slider");
  var output = document.getElementById("rating-value");
  var statusNode = document.getElementById("rating-status");
  var startButton = document.getElementById("rating-start");
  var stopButton = document.getElementById("rating-stop");
  var done = document.getElementById("rating-done");

  var state = {
    session: null, running: false, ending: false, ended: false, clock: null,
    buffer: [], t0: 0, k: 0, tick: null, sending: false, wake: null, failed: false
  };
  var memoryQueue = [];  /* when localStorage is not available */

  function deviceNow() { return performance.timeOrigin + performance.now(); }
  function text(key, values) {
    var s = T[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split("{" + k + "}").join(values[k]); });
    return s;
  }
  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function api(method, path, body) {
    var init = {
      method: method, credentials: "same-origin", cache: "no-store",
      headers: { "Accept": "application/json" }
    };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = CSRF;
      init.body = JSON.stringify(body || {});
    }
    return window.fetch(path, init);
  }

  /* ------------------------------------------------------------ the queue */
  function loadQueue() {
    try {
      var raw = window.localStorage.getItem(QUEUE_KEY);
      return raw ? JSON.parse(raw) : [];
    } catch (e) { return memoryQueue.slice(); }
  }
  function saveQueue(queue) {
    memoryQueue = queue.slice();
    try {
      if (queue.length) { window.localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); }
      else { window.localStorage.removeItem(QUEUE_KEY); }
    } catch (e) { /* storage full or disabled: kept in memory */ }
  }
  function drop(batchId) {
    saveQueue(loadQueue().filter(function (e) { return e.body.batch_id !== batchId; }));
  }
  function cutBatch(final) {
    var samples = state.buffer;
    state.buffer = [];
    if (!samples.length && !final) { return; }
    var queue = loadQueue();
    queue.push({ session: state.session, body: { batch_id: uuid4(), samples: samples, clock: state.clock } });
    saveQueue(queue);
  }
  function flush() {
    if (state.sending) { return Promise.resolve(false); }
    var queue = loadQueue();
    if (!queue.length) { showStatus(); return Promise.resolve(true); }
    state.sending = true;
    var entry = queue[0];
    var path = "/api/v1/me/rating-sessions/" + encodeURIComponent(entry.session) + "/samples";
    return api("POST", path, entry.body).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        drop(entry.body.batch_id);
        return r.json().then(function (data) {
          state.sending = false;
          if (!data.running && entry.session === state.session && state.running) { end(false); }
          return flush();
        });
      }
      state.sending = false;
      if (r.status === 429 || r.status >= 500 || r.status === 403) { showStatus(); return false; }
      drop(entry.body.batch_id);  /* 404, 409, 422: never storable */
      state.failed = true;
      return flush();
    }, function () {
      state.sending = false;
      showStatus();
      return false;
    });
  }

  /* ------------------------------------------------------------ the session on the device */
  function remember() {
    try {
      window.localStorage.setItem(SESSION_KEY, JSON.stringify(
        { rating: CFG.rating, session: state.session, value: Number(slider.value) }));
    } catch (e) { /* storage disabled: a reload shows Start, which joins the session */ }
  }
  function remembered() {
    try {
      var kept = JSON.parse(window.localStorage.getItem(SESSION_KEY) || "null");
      return kept && kept.rating === CFG.rating && kept.session ? kept : null;
    } catch (e) { return null; }
  }
  function forget() {
    try { window.localStorage.removeItem(SESSION_KEY); } catch (e) { /* disabled */ }
  }

  /* ------------------------------------------------------------ the clock */
  function syncClock() {
    var best = null;
    var left = SYNC_ROUNDS;
    function round() {
      var sent = deviceNow();
      return api("GET", "/api/v1/me/clock").then(function (r) {
        if (!r.ok) { throw new Error("clock " + r.status); }
        return r.json();
      }).then(function (data) {
        var back = deviceNow();
        var rtt = back - sent;
        var mid = (sent + back) / 2;
        if (best === null || rtt < best.rtt_ms) {
          best = { offset_ms: data.server_ms - mid, rtt_ms: rtt, at_ms: mid };
        }
        left -= 1;
        return left > 0 ? round() : best;
      });
    }
    return round();
  }

  /* ------------------------------------------------------------ sampling */
  function schedule() {
    var delay = Math.max(0, state.t0 + state.k * PERIOD - deviceNow());
    state.tick = window.setTimeout(sample, delay);
  }
  function sample() {
    var now = deviceNow();
    var value = Number(slider.value);
    while (state.t0 + state.k * PERIOD <= now) {
      state.buffer.push([Math.round((state.t0 + state.k * PERIOD) * 1000) / 1000, value]);
      state.k += 1;
    }
    if (state.running) { schedule(); }
  }
  function showValue() {
    var value = Number(slider.value);
    var shown = Math.round(value * 10) / 10;
    output.textContent = text("rating_value", { value: shown });
    slider.setAttribute("aria-valuetext", String(shown));
  }
  function showStatus() {
    var waiting = loadQueue().length;
    var parts = [];
    if (state.running) { parts.push(T.rating_running); }
    else if (state.ending && !state.ended) { parts.push(T.rating_sending_last); }
    else if (state.ended) { parts.push(waiting ? T.rating_ended_waiting : T.rating_ended); }
    if (waiting > 1 && !state.ended) { parts.push(text("rating_waiting", { n: waiting })); }
    if (state.failed) { parts.push(T.rating_failed); }
    statusNode.textContent = parts.join(" ");
    box.dataset.waiting = String(waiting);
  }
  function wake() {
    if (!("wakeLock" in navigator) || !state.running) { return; }
    navigator.wakeLock.request("screen").then(function (lock) { state.wake = lock; },
      function () { /* not allowed (battery saver): rating works without it */ });
  }

  /* ------------------------------------------------------------ start and end */
  function start() {
    startButton.disabled = true;
    statusNode.textContent = T.rating_preparing;
    startRequest(0).then(function (data) {
      state.session = data.session_id;
      box.dataset.session = String(data.session_id);
      remember();
      return syncClock();
    }).then(run).catch(function () {
      startButton.disabled = false;
      statusNode.textContent = T.rating_failed;
    });
  }
  function run(estimate) {
    state.clock = estimate;
    state.running = true;
    box.dataset.state = "running";
    slider.disabled = false;
    startButton.hidden = true;
    stopButton.hidden = false;
    slider.focus();
    wake();
    state.t0 = deviceNow();
    state.k = 0;
    sample();
    showStatus();
  }
  /* After a reload: the session this phone rated in, if it still runs, goes on. */
  function resume(kept) {
    startButton.disabled = true;
    statusNode.textContent = T.rating_preparing;
    var path = "/api/v1/me/rating-sessions/" + encodeURIComponent(kept.session);
    return api("GET", path).then(function (r) {
      if (r.status === 404) { return { running: false }; }
      if (!r.ok) { throw new Error("session " + r.status); }
      return r.json();
    }).then(function (data) {
      if (!data.running) {
        forget();
        startButton.disabled = false;
        showStatus();
        return;
      }
      state.session = kept.session;
      box.dataset.session = String(kept.session);
      if (typeof kept.value === "number" && isFinite(kept.value)) {
        slider.value = String(kept.value);
        showValue();
      }
      return syncClock().then(run);
    }).catch(function () {  /* offline: Start joins the session when it is back */
      startButton.disabled = false;
      statusNode.textContent = T.rating_failed;
    });
  }
  /* The couple's session; a busy server (503/429: the partner pressed Start at the same
     moment on SQLite) is asked again after its Retry-After, a few times. */
  function startRequest(attempt) {
    return api("POST", "/api/v1/me/rating-sessions", { rating: CFG.rating }).then(function (r) {
      if ((r.status === 503 || r.status === 429) && attempt < 5) {
        var wait = Number(r.headers.get("Retry-After")) || 1;
        return new Promise(function (resolve) {
          window.setTimeout(resolve, 1000 * Math.min(wait, 5) * (1 + Math.random() / 2));
        }).then(function () { return startRequest(attempt + 1); });
      }
      if (!r.ok) { throw new Error("start " + r.status); }
      return r.json();
    });
  }
  function end(byMe) {
    if (state.ending) { return; }
    state.ending = true;
    sample();
    state.running = false;
    window.clearTimeout(state.tick);
    slider.disabled = true;
    stopButton.hidden = true;
    box.dataset.state = "ending";
    showStatus();
    if (state.wake) { state.wake.release().catch(function () {}); state.wake = null; }
    var stopped = byMe
      ? api("POST", "/api/v1/me/rating-sessions/" + state.session + "/stop").catch(function () {})
      : Promise.resolve();
    stopped.then(syncClock).then(function (estimate) { state.clock = estimate; },
      function () { /* offline: the start's estimate stays */ }).then(function () {
      cutBatch(true);
      return flush();
    }).then(function () {
      forget();
      state.ended = true;
      box.dataset.state = "ended";
      done.hidden = false;
      showStatus();
    });
  }

  slider.step = String((CFG.max - CFG.min) / 100);
  slider.addEventListener("input", function () {
    showValue();
    if (state.running) { remember(); }
  });
  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", function () { end(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { wake(); }
  });
  window.addEventListener("online", flush);
  /* Leaving the page (a reload, another page, the tab closed): the samples since the last
     batch go to the queue on the device, to be sent on the next visit. */
  window.addEventListener("pagehide", function () {
    if (state.running) { sample(); cutBatch(false); }
  });
  window.setInterval(function () {
    if (state.running) { cutBatch(false); }
    flush().then(function () {
      if (state.ended) { showStatus(); }
    });
  }, BATCH_MS);
  box.hidden = false;
  showValue();
  flush();  /* batches left from an earlier visit */
  var kept = remembered();
  if (kept) { resume(kept); }
}());
