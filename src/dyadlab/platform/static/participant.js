/* dyadlab participant pages: quick exit, skip logic, drafts and offline-safe sending.
 *
 * No build step and no libraries. The pages work without this script; with it:
 * - quick exit deletes this person's drafts and unsent answers from the device (after
 *   one last attempt to send the unsent ones) and replaces the page's history entry;
 *   links between the study pages replace their entry too, so Back never leads into
 *   the study after a quick exit (see "quick exit" below);
 * - questions whose `relevant` condition is false are hidden and their answers cleared
 *   (the same XLSForm expression subset and semantics as dyadlab.platform._expressions);
 * - a slider (a number field without the script) becomes a visual-analogue scale that
 *   records nothing until the person moves or taps it, and can be cleared again;
 * - the draft of a form is kept in localStorage while it is being filled in;
 * - a submission gets a client-made UUID and waits in localStorage ("pending") until the
 *   server acknowledges it (201 stored, 200 stored before); it is retried when the
 *   browser comes online, every 15 s, and on every participant page. A retry with the
 *   same UUID never stores a duplicate. A busy server (503 or 429 with Retry-After)
 *   is left alone for Retry-After seconds plus up to half again at random (so that
 *   thousands of phones do not come back at the same moment), then sent again; the
 *   answer stays queued meanwhile. A refused answer (closed window, invalid) is
 *   taken off the queue and its draft stays in the form with a clear message;
 * - the server's problems (English in the API, each with a code) are said in the page's
 *   language, as the server-rendered page says them (routes/_messages.py).
 */
(function () {
  "use strict";

  var doc = document;
  var body = doc.body;

  var messagesNode = doc.getElementById("dl-messages");
  var MSG = messagesNode ? JSON.parse(messagesNode.textContent) : {};
  var csrfNode = doc.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfNode ? csrfNode.getAttribute("content") : "";
  var PERSON = body.dataset.person || "";
  var PENDING_KEY = "dyadlab:pending:" + PERSON;
  var API = "/api/v1/me/responses";

  /* ------------------------------------------------------------ quick exit
   * The partner can be the threat, on a shared phone. A quick exit leaves nothing of
   * this person's answers on the device:
   * - drafts ("dyadlab:draft:PERSON:…" in localStorage) are deleted;
   * - answers waiting to be sent ("dyadlab:pending:PERSON") are sent one last time with
   *   fetch(keepalive), which the browser finishes after the page has gone, and are
   *   deleted from the device at once, whether that last attempt succeeds or not (a
   *   partner who picks up the phone must not find them; on a phone that is offline they
   *   are lost, and the page says so next to the button and wherever it says answers
   *   are waiting on the device);
   * - continuous-rating batches not yet sent and the session being rated
   *   ("dyadlab:rating:PERSON:…", rating.js) are deleted (not sent: a rating session
   *   stops with the exit);
   * - sessionStorage is cleared;
   * - the page's history entry is replaced by the exit page (location.replace). Links
   *   between the study pages replace their entry as well, so the study has one entry in
   *   the history and Back after a quick exit never leads into it.
   * The server deletes the session cookie on /exit. When the link is followed before
   * this script ran (a slow connection), the exit page names the person's key
   * (data-forget) and this script deletes the drafts and unsent answers there. */
  function forget(person) {
    try {
      var doomed = [];
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (key === "dyadlab:pending:" + person || key.indexOf("dyadlab:draft:" + person + ":") === 0 ||
            key.indexOf("dyadlab:rating:" + person + ":") === 0) {
          doomed.push(key);
        }
      }
      doomed.forEach(function (key) { window.localStorage.removeItem(key); });
    } catch (e) { /* storage disabled: nothing was kept */ }
    try { window.sessionStorage.clear(); } catch (e) { /* idem */ }
  }
  function quickExit(href) {
    if (PERSON) {
      try {
        var raw = window.localStorage.getItem(PENDING_KEY);
        (raw ? JSON.parse(raw) : []).forEach(function (entry) {
          window.fetch(API, {
            method: "POST",
            keepalive: true,
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
            body: JSON.stringify(entry)
          }).catch(function () { /* offline: lost, as the page said */ });
        });
      } catch (e) { /* never let this stop the exit */ }
      forget(PERSON);
    }
    window.location.replace(href);
  }

  /* ------------------------------------------------------------ navigation */
  if (body.dataset.forget) {
    forget(body.dataset.forget);
    return;
  }
  if (body.dataset.go) {
    window.location.replace(body.dataset.go);
    return;
  }
  doc.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey) { return; }
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link) { return; }
    var href = link.getAttribute("href");
    if (link.hasAttribute("data-quick-exit")) {
      event.preventDefault();
      quickExit(href);
    } else if (href.charAt(0) === "#" || href === "/s" || href.indexOf("/s/") === 0) {
      /* the same page (a skip link, the error summary) or another study page: replace
         this entry instead of adding one */
      event.preventDefault();
      window.location.replace(href);
      focusQuestion(href);
    }
  });
  /* An error summary's link (#item-NAME) puts focus in that question's field, not only
     the scroll position, so that keyboard and screen-reader users land on it. */
  function focusQuestion(href) {
    if (href.indexOf("#item-") !== 0) { return; }
    var item = doc.getElementById(href.slice(1));
    if (!item) { return; }
    var fields = Array.prototype.filter.call(
      item.querySelectorAll("input:not([type=hidden]), select, textarea"),
      function (f) { return f.getClientRects().length > 0; });
    var checked = fields.filter(function (f) { return f.checked; });
    var field = checked[0] || fields[0];
    if (field) { field.focus(); }
  }

  if (!PERSON) {
    return;
  }

  function msg(key, values) {
    var text = MSG[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  /* ------------------------------------------------------------ storage */
  function load(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }
  function store(key, value) {
    try {
      if (value === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, JSON.stringify(value));
      }
    } catch (e) {
      /* storage full or disabled: sending still works while online */
    }
  }
  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) {
      return (x + 0x100).toString(16).slice(1);
    }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  }

  /* ------------------------------------------------------------ expressions */
  var TOKEN = /\s+|\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}|(\d+\.\d*|\.\d+|\d+)|('[^']*'|"[^"]*")|(<=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)|([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z_][A-Za-z0-9_]*)*)|(\.)/y;
  var LEVELS = [["or"], ["and"], ["=", "!="], ["<", "<=", ">", ">="], ["+", "-"], ["*", "div", "mod"]];
  /* function -> [least, most] arguments: the same functions as the server's evaluator */
  var ARITY = {
    "not": [1, 1], "selected": [2, 2], "count-selected": [1, 1], "string-length": [1, 1],
    "true": [0, 0], "false": [0, 0], "if": [3, 3], "concat": [1, 20], "coalesce": [2, 2],
    "round": [1, 2], "int": [1, 1], "number": [1, 1], "string": [1, 1], "boolean": [1, 1],
    "floor": [1, 1], "ceiling": [1, 1], "abs": [1, 1], "pow": [2, 2], "min": [1, 20],
    "max": [1, 20], "contains": [2, 2], "starts-with": [2, 2], "ends-with": [2, 2],
    "substr": [2, 3], "regex": [2, 2], "selected-at": [2, 2], "today": [0, 0], "now": [0, 0],
    "once": [1, 1]
  };
  var NESTED_QUANTIFIER = /\([^()]*[*+}][^()]*\)\s*[*+{]/;

  function tokenize(text) {
    var tokens = [];
    var pos = 0;
    while (pos < text.length) {
      TOKEN.lastIndex = pos;
      var m = TOKEN.exec(text);
      if (!m) { throw new Error("bad character at " + pos); }
      if (m[1] !== undefined) { tokens.push({ kind: "ref", text: m[1] }); }
      else if (m[2] !== undefined) { tokens.push({ kind: "number", text: m[2] }); }
      else if (m[3] !== undefined) { tokens.push({ kind: "string", text: m[3].slice(1, -1) }); }
      else if (m[4] !== undefined) { tokens.push({ kind: "op", text: m[4] }); }
      else if (m[5] !== undefined) { tokens.push({ kind: "name", text: m[5] }); }
      else if (m[6] !== undefined) { tokens.push({ kind: "dot", text: "." }); }
      pos = TOKEN.lastIndex;
    }
    tokens.push({ kind: "end", text: "" });
    return tokens;
  }

  function parse(text, bare) {
    var tokens = tokenize(text);
    var i = 0;
    function peek() { return tokens[i]; }
    function is(options) {
      var t = peek();
      return (t.kind === "op" || t.kind === "name") && options.indexOf(t.text) >= 0;
    }
    function expect(op) {
      var t = tokens[i++];
      if (!(t.kind === "op" && t.text === op)) { throw new Error("expected " + op); }
    }
    function binary(level) {
      if (level === LEVELS.length) { return unary(); }
      var node = binary(level + 1);
      while (is(LEVELS[level])) {
        var op = tokens[i++].text;
        node = { k: "bin", op: op, l: node, r: binary(level + 1) };
      }
      return node;
    }
    function unary() {
      if (is(["-"])) { i++; return { k: "neg", x: unary() }; }
      return primary();
    }
    function primary() {
      var t = tokens[i++];
      if (t.kind === "number") { return { k: "lit", v: Number(t.text) }; }
      if (t.kind === "string") { return { k: "lit", v: t.text }; }
      if (t.kind === "ref") { return { k: "ref", name: t.text }; }
      if (t.kind === "dot") { return { k: "cur" }; }
      if (t.kind === "op" && t.text === "(") { var n = binary(0); expect(")"); return n; }
      if (t.kind === "name" && bare && !is(["("]) && LEVELS.every(function (l) { return l.indexOf(t.text) < 0; })) {
        return { k: "ref", name: "@" + t.text }; /* a column of the choice (choice_filter) */
      }
      if (t.kind === "name" && ARITY.hasOwnProperty(t.text) && is(["("])) {
        i++;
        var args = [];
        if (!is([")"])) {
          args.push(binary(0));
          while (is([","])) { i++; args.push(binary(0)); }
        }
        expect(")");
        if (args.length < ARITY[t.text][0] || args.length > ARITY[t.text][1]) {
          throw new Error("arity");
        }
        return { k: "call", name: t.text, args: args };
      }
      throw new Error("unexpected " + t.text);
    }
    var root = binary(0);
    if (peek().kind !== "end") { throw new Error("trailing input"); }
    return root;
  }

  function isEmpty(v) {
    return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
  }
  function truth(v) {
    if (typeof v === "boolean") { return v; }
    if (typeof v === "number") { return !(v === 0 || isNaN(v)); }
    return !isEmpty(v);
  }
  var NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  function num(v) {
    if (typeof v === "boolean") { return v ? 1 : 0; }
    if (typeof v === "number") { return isNaN(v) || !isFinite(v) ? null : v; }
    if (typeof v === "string" && NUMERIC.test(v.trim())) { return Number(v.trim()); }
    return null;
  }
  function text(v) {
    if (v === null || v === undefined) { return ""; }
    if (typeof v === "boolean") { return v ? "true" : "false"; }
    if (Array.isArray(v)) { return v.map(text).join(" "); }
    return String(v);
  }
  function selection(v) {
    if (isEmpty(v)) { return []; }
    if (Array.isArray(v)) { return v.map(text); }
    return text(v).split(/\s+/).filter(Boolean);
  }
  function compare(op, a, b) {
    if (op === "=" || op === "!=") {
      var same;
      if (typeof a === "boolean" || typeof b === "boolean") {
        same = truth(a) === truth(b);
      } else {
        var x = num(a), y = num(b);
        same = x !== null && y !== null ? x === y : text(a) === text(b);
      }
      return op === "=" ? same : !same;
    }
    if (isEmpty(a) || isEmpty(b)) { return false; }
    var p = num(a), q = num(b);
    if (p === null || q === null) {
      if (typeof a === "string" && typeof b === "string") { p = a; q = b; }
      else { return false; }
    }
    if (op === "<") { return p < q; }
    if (op === "<=") { return p <= q; }
    if (op === ">") { return p > q; }
    return p >= q;
  }
  function arithmetic(op, a, b) {
    var x = num(a), y = num(b);
    if (x === null || y === null) { return NaN; }
    if (op === "+") { return x + y; }
    if (op === "-") { return x - y; }
    if (op === "*") { return x * y; }
    if (y === 0) { return NaN; }
    return op === "div" ? x / y : x % y;
  }
  function evaluate(node, values, current) {
    switch (node.k) {
      case "lit": return node.v;
      case "ref": return values.hasOwnProperty(node.name) ? values[node.name] : null;
      case "cur": return current;
      case "neg": var n = num(evaluate(node.x, values, current)); return n === null ? NaN : -n;
      case "bin":
        if (node.op === "and") {
          return truth(evaluate(node.l, values, current)) && truth(evaluate(node.r, values, current));
        }
        if (node.op === "or") {
          return truth(evaluate(node.l, values, current)) || truth(evaluate(node.r, values, current));
        }
        var l = evaluate(node.l, values, current), r = evaluate(node.r, values, current);
        if (["=", "!=", "<", "<=", ">", ">="].indexOf(node.op) >= 0) { return compare(node.op, l, r); }
        return arithmetic(node.op, l, r);
      default:
        if (node.name === "if") {
          return evaluate(truth(evaluate(node.args[0], values, current)) ? node.args[1] : node.args[2],
                          values, current);
        }
        var args = node.args.map(function (a) { return evaluate(a, values, current); });
        if (MORE.hasOwnProperty(node.name)) { return MORE[node.name](args); }
        if (node.name === "not") { return !truth(args[0]); }
        if (node.name === "selected") { return selection(args[0]).indexOf(text(args[1])) >= 0; }
        if (node.name === "count-selected") { return selection(args[0]).length; }
        if (node.name === "string-length") { return text(args[0]).length; }
        return node.name === "true";
    }
  }
  function numbers(args) {
    return args.map(function (a) { var n = num(a); return n === null ? NaN : n; });
  }
  function oneNumber(f) {
    return function (a) { var x = numbers(a)[0]; return isNaN(x) ? NaN : f(x); };
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localDate(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  var MORE = {
    "concat": function (a) { return a.map(text).join(""); },
    "coalesce": function (a) { return isEmpty(a[0]) ? a[1] : a[0]; },
    "round": function (a) {
      var x = numbers(a)[0];
      var f = Math.pow(10, a.length > 1 ? Math.trunc(numbers(a)[1]) : 0);
      return isNaN(x) ? NaN : Math.floor(x * f + 0.5) / f;
    },
    "int": oneNumber(Math.trunc),
    "number": function (a) { return numbers(a)[0]; },
    "string": function (a) { return text(a[0]); },
    "boolean": function (a) { return truth(a[0]); },
    "floor": oneNumber(Math.floor),
    "ceiling": oneNumber(Math.ceil),
    "abs": oneNumber(Math.abs),
    "pow": function (a) { var r = Math.pow(numbers(a)[0], numbers(a)[1]); return isFinite(r) ? r : NaN; },
    "min": function (a) { var n = numbers(a); return n.some(isNaN) ? NaN : Math.min.apply(null, n); },
    "max": function (a) { var n = numbers(a); return n.some(isNaN) ? NaN : Math.max.apply(null, n); },
    "contains": function (a) { return text(a[0]).indexOf(text(a[1])) >= 0; },
    "starts-with": function (a) { return text(a[0]).indexOf(text(a[1])) === 0; },
    "ends-with": function (a) {
      var s = text(a[0]), e = text(a[1]);
      return s.length >= e.length && s.slice(s.length - e.length) === e;
    },
    "substr": function (a) {
      var s = text(a[0]), n = numbers(a);
      var end = a.length > 2 ? n[2] : s.length;
      if (isNaN(n[1]) || isNaN(end)) { return ""; }
      return s.slice(Math.max(Math.trunc(n[1]), 0), Math.max(Math.trunc(end), 0));
    },
    "regex": function (a) {
      var pattern = text(a[1]);
      if (NESTED_QUANTIFIER.test(pattern)) { return false; }
      try { return new RegExp(pattern).test(text(a[0])); } catch (e) { return false; }
    },
    "selected-at": function (a) {
      var chosen = selection(a[0]), n = numbers(a)[1];
      return !isNaN(n) && Math.trunc(n) >= 0 && Math.trunc(n) < chosen.length ? chosen[Math.trunc(n)] : "";
    },
    "today": function () { return localDate(new Date()); },
    "now": function () {
      var d = new Date();
      return localDate(d) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
    },
    "once": function (a) { return a[0]; }
  };
  var parsed = {};
  function relevantNow(expression, values) {
    try {
      if (!parsed.hasOwnProperty(expression)) { parsed[expression] = parse(expression); }
      return truth(evaluate(parsed[expression], values, null));
    } catch (e) {
      return true; /* show the question; the server checks again */
    }
  }
  /* For the tests: the evaluator, compared with the Python one. */
  window.dyadlabExpressions = { evaluate: function (expression, values) {
    return evaluate(parse(expression), values, null);
  }, truth: truth };

  /* ------------------------------------------------------------ the server's problems
   * The API's messages are English; each problem has a stable code. An answer problem
   * ("answer_" + code, with its params; a constraint's own message from the protocol as
   * it is) and every other refusal are said with the page's texts, as the server-rendered
   * page does (routes/_messages.py). */
  var PROBLEM_KEYS = { already_answered: "already_answered", invalid_time: "invalid_time",
    consent_required: "consent_needed", withdrawn: "withdrawn", unauthorized: "no_session",
    csrf: "csrf_failed" };
  function numberText(v) {
    if (typeof v !== "number") { return String(v); }
    var t = String(v);
    return doc.documentElement.lang === "nl" ? t.replace(".", ",") : t;
  }
  function problemText(code) {
    if (code === "not_open") {
      var f = doc.getElementById("questionnaire");
      return msg(f && f.dataset.kind === "event" ? "event_limit" : "not_open");
    }
    return msg(PROBLEM_KEYS[code] || "page_error");
  }
  function answerText(err) {
    var params = err.params || {};
    if (err.code === "constraint" && params.message) { return String(params.message); }
    if (err.code === "required") { return msg("required"); }
    if (err.code && MSG.hasOwnProperty("answer_" + err.code)) {
      var values = {};
      Object.keys(params).forEach(function (k) { values[k] = numberText(params[k]); });
      return msg("answer_" + err.code, values);
    }
    return err.item ? msg("answer_invalid") : problemText(err.code);
  }

  /* ------------------------------------------------------------ status line */
  var pendingStatus = doc.getElementById("pending-status");
  function showPendingCount() {
    if (!pendingStatus) { return; }
    var n = load(PENDING_KEY, []).length;
    pendingStatus.textContent = n ? msg("pending_count", { n: n }) : "";
  }

  /* ------------------------------------------------------------ the form */
  var form = doc.getElementById("questionnaire");
  var formStatus = doc.getElementById("form-status");
  var summary = doc.getElementById("error-summary");
  var draftKey = form ? "dyadlab:draft:" + PERSON + ":" + form.dataset.questionnaire : null;
  var items = form ? Array.prototype.slice.call(form.querySelectorAll("[data-item]")) : [];

  function inputsOf(item) {
    return Array.prototype.slice.call(item.querySelectorAll("input, textarea, select"));
  }
  function valueOf(item) {
    var type = item.dataset.type;
    var inputs = inputsOf(item);
    if (type === "note") { return ""; }
    if (type === "image" || type === "audio" || type === "file") {
      return inputs[0].files && inputs[0].files.length ? inputs[0].files[0].name : "";
    }
    if (type === "acknowledge") { return inputs[0].checked ? "OK" : ""; }
    if (type === "rank") {
      var placed = inputs.filter(function (i) { return i.value !== ""; });
      placed.sort(function (a, b) { return Number(a.value) - Number(b.value); });
      return placed.map(function (i) { return i.dataset.choice; });
    }
    if (type === "multiple") {
      return inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
    }
    if (type === "likert" || type === "single" || type === "yes_no") {
      var checked = inputs.filter(function (i) { return i.checked; })[0];
      return checked ? checked.value : "";
    }
    if (type === "slider") { return sliderField(item).value.trim(); }
    var input = inputs[0];
    if (type === "decimal" && doc.documentElement.lang === "nl" && /^-?\d+,\d+$/.test(input.value.trim())) {
      return input.value.trim().replace(",", "."); /* the Dutch decimal comma */
    }
    return type === "text" ? input.value : input.value.trim();
  }
  function setValue(item, value) {
    var type = item.dataset.type;
    var inputs = inputsOf(item);
    if (type === "note" || type === "image" || type === "audio" || type === "file") { return; }
    if (type === "acknowledge") { inputs[0].checked = value === "OK"; return; }
    if (type === "rank") {
      var order = Array.isArray(value) ? value.map(String) : [];
      inputs.forEach(function (i) {
        var at = order.indexOf(i.dataset.choice);
        i.value = at >= 0 ? String(at + 1) : "";
      });
      return;
    }
    if (type === "multiple" || type === "likert" || type === "single" || type === "yes_no") {
      var chosen = Array.isArray(value) ? value.map(String) : [String(value)];
      inputs.forEach(function (i) { i.checked = chosen.indexOf(i.value) >= 0; });
      return;
    }
    if (type === "slider") {
      sliderField(item).value = isEmpty(value) ? "" : String(value);
      showSlider(item);
      return;
    }
    inputs[0].value = value;
  }
  function clear(item) {
    var type = item.dataset.type;
    if (type === "slider") { setValue(item, ""); return; }
    inputsOf(item).forEach(function (i) {
      if (i.type === "radio" || i.type === "checkbox") { i.checked = false; }
      else { i.value = ""; }
    });
  }

  /* ------------------------------------------------------------ sliders
   * The server sends a slider as a number field that is empty until the person types a
   * number. Here that field becomes hidden and keeps the answer; a range control (with
   * no name, so it is never sent) is shown for it. Until the person moves the control
   * (input/change: a drag, a tap on the track, an arrow key) or taps it (click: not
   * fired when a touch turns into scrolling the page), the field stays empty, the thumb
   * is not drawn and the control says "not answered yet" (also as aria-valuetext, so a
   * screen reader does not read the middle value as an answer). "Clear answer" empties
   * the field again. */
  function sliderField(item) {
    return item.querySelector("input[name]");
  }
  function showSlider(item) {
    var field = sliderField(item);
    var range = item.querySelector("input[type=range]");
    if (!range) { return; }
    var answered = field.value.trim() !== "";
    range.value = answered ? field.value : field.dataset.mid;
    if (answered) {
      range.removeAttribute("aria-valuetext");
    } else {
      range.setAttribute("aria-valuetext", msg("slider_untouched"));
    }
    doc.getElementById("v-" + item.dataset.item).textContent = answered
      ? msg("slider_value", { value: numberText(Number(field.value)) }) : msg("slider_untouched");
    doc.getElementById("c-" + item.dataset.item).hidden = !answered;
    item.classList.toggle("untouched", !answered);
  }
  function upgradeSlider(item) {
    var field = item.querySelector("input[type=number]");
    if (!field) { return; }
    var name = item.dataset.item;
    var el = function (tag, props) {
      var node = doc.createElement(tag);
      Object.keys(props).forEach(function (k) { node.setAttribute(k, props[k]); });
      return node;
    };
    var range = el("input", { type: "range", min: field.min, max: field.max, step: field.step,
      "aria-describedby": "r-" + name + " e-" + name });
    if (field.hasAttribute("aria-invalid")) { range.setAttribute("aria-invalid", "true"); }
    field.id = "n-" + name;
    range.id = "f-" + name; /* the question's <label for> now names the range control */
    field.type = "hidden";
    field.removeAttribute("required");
    var hint = doc.getElementById("r-" + name);
    if (hint && hint.dataset.rangeText) { hint.textContent = hint.dataset.rangeText; }
    var row = el("div", { "class": "slider" });
    var low = el("span", { "class": "anchor", "aria-hidden": "true" });
    low.textContent = field.min;
    var high = el("span", { "class": "anchor", "aria-hidden": "true" });
    high.textContent = field.max;
    row.appendChild(low);
    row.appendChild(range);
    row.appendChild(high);
    var out = el("output", { id: "v-" + name, "for": range.id, "class": "value" });
    var button = el("button", { type: "button", id: "c-" + name, "class": "slider-clear",
      "aria-labelledby": "c-" + name + " l-" + name });
    button.textContent = msg("slider_clear");
    var box = field.parentNode;
    box.appendChild(row);
    box.appendChild(out);
    box.appendChild(button);
    var record = function () {
      field.value = range.value;
      showSlider(item);
    };
    range.addEventListener("input", record);
    range.addEventListener("change", record);
    range.addEventListener("click", function () {
      if (field.value.trim() === "") {
        record();
        applyLogic();
        saveDraft();
      }
    });
    button.addEventListener("click", function () {
      field.value = "";
      showSlider(item);
      range.focus();
      applyLogic();
      saveDraft();
    });
    showSlider(item);
  }
  /* A location: typed, or read from the browser -- only when the person presses the
   * button (the page never asks for it by itself). */
  function upgradeGeopoint(item) {
    if (!navigator.geolocation) { return; }
    var field = inputsOf(item)[0];
    var button = doc.createElement("button");
    button.type = "button";
    button.className = "geopoint-use";
    button.textContent = msg("geopoint_button");
    field.parentNode.insertBefore(button, field.nextSibling);
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var c = pos.coords;
        field.value = [c.latitude, c.longitude, c.altitude || 0, c.accuracy || 0].join(" ");
        applyLogic();
        saveDraft();
      }, function () {
        var e = doc.getElementById("e-" + item.dataset.item);
        e.textContent = msg("geopoint_failed");
        e.hidden = false;
      }, { enableHighAccuracy: true, timeout: 20000 });
    });
  }
  /* The value of a calculation (or of a default that is an expression). */
  function calculated(expression, values) {
    var v;
    try {
      if (!parsed.hasOwnProperty(expression)) { parsed[expression] = parse(expression); }
      v = evaluate(parsed[expression], values, null);
    } catch (e) {
      v = "";
    }
    if (typeof v === "number" && !isFinite(v)) { v = ""; }
    if (typeof v === "boolean") { v = v ? "true" : "false"; }
    return isEmpty(v) ? "" : v;
  }
  /* XLSForm choice_filter: only the choices it keeps are shown (and can be chosen). */
  function filterChoices(item, values) {
    var key = "cf:" + item.dataset.choiceFilter;
    try {
      if (!parsed.hasOwnProperty(key)) {
        parsed[key] = parse(item.dataset.choiceFilter.replace(/\b([A-Za-z_]\w*)::\w+/g, "$1"), true);
      }
    } catch (e) {
      return; /* show every choice; the server checks again */
    }
    item.querySelectorAll(".option[data-props]").forEach(function (option) {
      var props = JSON.parse(option.dataset.props);
      var scope = {};
      Object.keys(values).forEach(function (k) { scope[k] = values[k]; });
      Object.keys(props).forEach(function (k) { scope[k] = props[k]; });
      var keep = truth(evaluate(parsed[key], scope, null));
      option.hidden = !keep;
      option.querySelectorAll("input, select").forEach(function (i) {
        if (!keep) { if (i.tagName === "SELECT") { i.value = ""; } else { i.checked = false; } }
        i.disabled = !keep;
      });
    });
  }
  /* Answers of the questions shown now, in order; hides the others (skip logic). */
  function applyLogic() {
    var values = {};
    items.forEach(function (item) {
      var expression = item.dataset.relevant;
      if (item.dataset.type === "calculate") {
        var relevant = !expression || relevantNow(expression, values);
        var v = relevant ? calculated(item.dataset.calculation, values) : "";
        inputsOf(item)[0].value = text(v);
        if (!isEmpty(v)) { values[item.dataset.item] = v; }
        return;
      }
      var shown = !expression || relevantNow(expression, values);
      if (!shown && !item.hidden) { clear(item); }
      if (shown && item.hidden && isEmpty(valueOf(item))) {
        /* asked again: its default (XLSForm "default") is filled in again */
        fillDefault(item, values);
      }
      item.hidden = !shown;
      inputsOf(item).forEach(function (i) { i.disabled = !shown; });
      if (shown && item.dataset.choiceFilter) { filterChoices(item, values); }
      if (shown) {
        var v = valueOf(item);
        if (!isEmpty(v)) { values[item.dataset.item] = v; }
      }
    });
    fillPiped(values);
    return values;
  }
  /* An item's XLSForm "default": a literal (data-default), or an expression such as
   * today() or now() (data-default-expr) evaluated with the answers known now. */
  function fillDefault(item, values) {
    var d = item.dataset.default;
    if (d === undefined && item.dataset.defaultExpr !== undefined) {
      d = text(calculated(item.dataset.defaultExpr, values));
    }
    if (d === undefined || d === "") { return; }
    setValue(item, item.dataset.type === "multiple" ? d.split(/\s+/) : d);
  }
  /* XLSForm "piping": ${name} in a label or hint shows the current answer of name (the
   * server fills it in the same way, dyadlab.platform._expressions.fill_references). */
  var REFERENCE = /\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}/g;
  function fillPiped(values) {
    form.querySelectorAll(".piped[data-text]").forEach(function (span) {
      span.textContent = span.dataset.text.replace(REFERENCE, function (m, name) {
        return values.hasOwnProperty(name) ? text(values[name]) : "";
      });
    });
  }
  function saveDraft(extra) {
    var draft = load(draftKey, {}) || {};
    draft.answers = {};
    items.forEach(function (item) {
      var v = valueOf(item);
      if (!isEmpty(v)) { draft.answers[item.dataset.item] = v; }
    });
    draft.started_at = draft.started_at || new Date().toISOString();
    Object.keys(extra || {}).forEach(function (k) { draft[k] = extra[k]; });
    store(draftKey, draft);
    return draft;
  }
  function setStatus(text) {
    if (!formStatus) { return; }
    formStatus.textContent = text;
    formStatus.hidden = !text;
  }
  function showErrors(errors, message) {
    items.forEach(function (item) {
      var e = doc.getElementById("e-" + item.dataset.item);
      if (e) { e.hidden = true; e.textContent = ""; }
      item.classList.remove("invalid");
      inputsOf(item).forEach(function (i) { i.removeAttribute("aria-invalid"); });
      var fs = item.querySelector("fieldset");
      if (fs) { fs.removeAttribute("aria-invalid"); }
    });
    if (!summary) { return; }
    var list = doc.getElementById("error-list");
    list.textContent = "";
    if (!errors.length && !message) { summary.hidden = true; return; }
    errors.forEach(function (err) {
      var item = form.querySelector('[data-item="' + err.item + '"]');
      var li = doc.createElement("li");
      err = { item: err.item, message: err.local ? err.message : answerText(err) };
      if (item) {
        var e = doc.getElementById("e-" + err.item);
        e.textContent = err.message;
        e.hidden = false;
        item.classList.add("invalid");
        var fs = item.querySelector("fieldset");
        if (fs) { fs.setAttribute("aria-invalid", "true"); }
        inputsOf(item).forEach(function (i) { i.setAttribute("aria-invalid", "true"); });
        var a = doc.createElement("a");
        a.href = "#item-" + err.item;
        var q = item.querySelector(".q");
        a.textContent = q ? q.firstChild.textContent.trim() : err.item;
        li.appendChild(a);
        li.appendChild(doc.createTextNode(": " + err.message));
      } else {
        li.textContent = err.message;
      }
      list.appendChild(li);
    });
    doc.getElementById("error-summary-text").textContent = message || msg("fix_errors");
    summary.hidden = false;
    summary.focus();
  }
  function checkRequired(values) {
    var errors = [];
    items.forEach(function (item) {
      var required = item.dataset.required ||
        (item.dataset.requiredIf && relevantNow(item.dataset.requiredIf, values || {}));
      if (item.hidden || !required) { return; }
      if (isEmpty(valueOf(item))) {
        errors.push({ item: item.dataset.item, local: true,
          message: item.dataset.type === "slider" ? msg("slider_untouched") : msg("required") });
      }
    });
    return errors;
  }
  function finished() {
    form.hidden = true;
    if (summary) { summary.hidden = true; }
    store(draftKey, null);
    setStatus(msg("sent"));
    var after = doc.getElementById("after-send");
    if (after) { after.hidden = false; }
  }

  if (form) {
    form.noValidate = true;
    items.forEach(function (item) {
      if (item.dataset.type === "slider") { upgradeSlider(item); }
      if (item.dataset.type === "geopoint") { upgradeGeopoint(item); }
    });
    var draft = load(draftKey, null);
    if (draft && draft.answers) {
      /* restore in item order so that skip logic sees earlier answers first */
      items.forEach(function (item) {
        if (draft.answers.hasOwnProperty(item.dataset.item)) {
          setValue(item, draft.answers[item.dataset.item]);
        }
      });
    }
    /* dynamic defaults (today(), now()) are filled in when the page is loaded, into
       the questions shown and still empty (a draft's answer is kept) */
    var known = applyLogic();
    items.forEach(function (item) {
      if (item.dataset.defaultExpr !== undefined && !item.hidden && isEmpty(valueOf(item))) {
        fillDefault(item, known);
      }
    });
    applyLogic();
    var onEdit = function () {
      applyLogic();
      saveDraft();
    };
    form.addEventListener("input", onEdit);
    form.addEventListener("change", onEdit);
    if (draft && draft.notice) { setStatus(draft.notice); }
    if (draft && draft.submission_id && load(PENDING_KEY, []).some(function (p) {
      return p.submission_id === draft.submission_id;
    })) { setStatus(msg("saved_on_device")); }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var answers = applyLogic();
      var missing = checkRequired(answers);
      if (missing.length) { showErrors(missing); return; }
      /* A form with files is posted by the browser itself (multipart): files are not
       * kept on the device, so it needs a connection when it is sent. */
      if (form.dataset.uploads) { store(draftKey, null); form.submit(); return; }
      showErrors([]);
      var current = saveDraft();
      var queue = load(PENDING_KEY, []);
      var entry = null;
      queue.forEach(function (p) { if (p.submission_id === current.submission_id) { entry = p; } });
      if (!entry) {
        entry = { submission_id: newId() };
        queue.push(entry);
      }
      entry.questionnaire = form.dataset.questionnaire;
      entry.answers = answers;
      entry.started_at = current.started_at;
      entry.finished_at = new Date().toISOString();
      store(PENDING_KEY, queue);
      saveDraft({ submission_id: entry.submission_id, notice: "" });
      setStatus(msg("sending"));
      flush(true);
    });
  }

  /* ------------------------------------------------------------ sending */
  var sending = false;
  var again = false;
  function drop(id) {
    var rest = load(PENDING_KEY, []).filter(function (p) { return p.submission_id !== id; });
    store(PENDING_KEY, rest.length ? rest : null);
  }
  function isCurrent(entry) {
    if (!form) { return false; }
    var d = load(draftKey, null);
    return !!d && d.submission_id === entry.submission_id;
  }
  function send(entry) {
    return window.fetch(API, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify(entry)
    }).then(function (response) {
      var retryAfter = response.headers.get("Retry-After");
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data, retryAfter: retryAfter };
      });
    });
  }
  /* A busy server asked us to wait (Retry-After): nothing is sent until then. */
  var holding = false;
  function holdFor(retryAfter) {
    var seconds = parseFloat(retryAfter);
    if (!(seconds >= 0)) {
      var when = Date.parse(retryAfter || "");
      if (isNaN(when)) { return; }  /* none given: the 15 s round retries */
      seconds = Math.max(0, (when - Date.now()) / 1000);
    }
    seconds = Math.min(seconds, 600) * (1 + 0.5 * Math.random());
    holding = true;
    window.setTimeout(function () { holding = false; flush(false); }, seconds * 1000);
  }
  function flush(fromSubmit) {
    if (holding) { return; }
    if (sending) { again = true; return; }
    var queue = load(PENDING_KEY, []);
    if (!queue.length) { showPendingCount(); return; }
    sending = true;
    var offline = false;
    var chain = Promise.resolve();
    queue.forEach(function (entry) {
      chain = chain.then(function () {
        if (offline) { return; }
        return send(entry).then(function (result) {
          var current = isCurrent(entry);
          var error = (result.data && result.data.error) || {};
          if (result.status === 200 || result.status === 201) {
            drop(entry.submission_id);
            if (current) { finished(); }
          } else if (result.status === 409 || result.status === 422) {
            drop(entry.submission_id);
            if (current) {
              var notice = problemText(error.code);
              saveDraft({ submission_id: null, notice: result.status === 409 ? notice : "" });
              if (result.status === 422) {
                var details = error.details || [];
                /* a problem of the whole submission (e.g. the device's clock) has no item */
                showErrors(details, details.length ? null : answerText({ code: error.code }));
                setStatus("");
              } else {
                setStatus(notice);
              }
            }
          } else if (result.status === 403 && error.code === "csrf") {
            if (current) { setStatus(problemText("csrf")); }
          } else if (result.status >= 500 || result.status === 0 || result.status === 429) {
            offline = true;
            if ((result.status === 503 || result.status === 429) && !holding) {
              holdFor(result.retryAfter);
            }
            if (current || fromSubmit) { setStatus(msg("saved_on_device")); }
          } else {
            /* 401/403/404: not logged in on this device or not allowed; keep it */
            if (current) { setStatus(problemText(error.code)); }
          }
        }, function () {
          offline = true;
          if (isCurrent(entry) || fromSubmit) { setStatus(msg("saved_on_device")); }
        });
      });
    });
    chain.then(function () {
      sending = false;
      showPendingCount();
      if (again) { again = false; flush(false); }
    });
  }

  window.addEventListener("online", function () { flush(false); });
  window.setInterval(function () { flush(false); }, 15000);
  showPendingCount();
  flush(false);
})();
