// callin console: actions, dialogs, keys, ticking timers and the ready
// chime. htmx swaps the live fragments (morphing them in place by id:
// morph.js, so nothing the producer is doing is lost); this file only
// reads data- attributes, so a button morphed by a live update still does
// what it now says. No inline script and no eval: the page's
// Content-Security-Policy allows neither.
(function () {
  "use strict";
  var main = document.querySelector("main[data-show]");
  var show = main ? main.dataset.show : "";

  // A form being edited is not morphed until it is sent (morph.js).
  document.addEventListener("input", function (e) {
    var f = e.target.closest && e.target.closest("form");
    if (f && !f.closest("dialog")) f.setAttribute("data-dirty", "");
  });

  // ---- Timers: waits and time on air, escalating in colour and sign. ----
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    s = s % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h > 0 ? h + ":" : "") + mm + ":" + ss;
  }
  var waitWarn = main ? Number(main.dataset.waitWarn || 0) * 1000 : 0;
  var waitAlert = main ? Number(main.dataset.waitAlert || 0) * 1000 : 0;
  function level(el, ms) {
    var limit = Number(el.dataset.limit || 0) * 1000;
    if (limit > 0) { // on air: warn in the last fifth, "over" past the limit
      if (ms >= limit) return "over";
      if (ms >= limit * 0.8) return "warn";
      return "";
    }
    if (waitAlert && ms >= waitAlert) return "alert";
    if (waitWarn && ms >= waitWarn) return "warn";
    return "";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var ms = now - Date.parse(el.dataset.since);
      var text = clock(ms);
      if (el.textContent !== text) el.textContent = text;
      var lv = level(el, ms);
      if ((el.getAttribute("data-level") || "") !== lv) {
        if (lv) el.setAttribute("data-level", lv); else el.removeAttribute("data-level");
        el.title = lv === "over" ? "over the on-air warning" : lv ? "a long wait" : el.title;
      }
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);
  document.addEventListener("htmx:sseMessage", tick);
  tick();

  // ---- Actions: every button with data-post, read when pressed. ----
  // A button a live update removed (its caller moved or left while a
  // question was asked) still sends: htmx sends nothing from an element no
  // longer in the page, so the flash area sends it, and the server's answer
  // says what happened to the caller.
  function post(el, url, vals) {
    var src = document.body.contains(el) ? el : document.getElementById("flash");
    htmx.ajax("POST", url, { source: src, target: "#flash", swap: "innerHTML", values: vals || {} });
  }
  // A URL without a leading slash is relative to its row's data-base.
  function url(b, u) {
    if (u.charAt(0) === "/") return u;
    var base = b.closest("[data-base]");
    return base ? base.dataset.base + u : u;
  }
  function act(b) {
    if (b.disabled) return;
    if (b.dataset.ready) return openReady(b);
    if (b.dataset.notes) return openNotes(b);
    if (!b.dataset.post) return;
    var vals = b.dataset.vals ? JSON.parse(b.dataset.vals) : {}, to = url(b, b.dataset.post);
    closeMenus();
    if (b.dataset.confirm) return confirmThen(b.dataset.confirm, b.dataset.confirmWord, function () { post(b, to, vals); }, b);
    post(b, to, vals);
  }

  // ---- Dialogs: ready, notes, confirm. Each names its caller. ----
  function dialog(id) { return document.getElementById(id); }
  function open(d, focus) {
    if (!d.open) d.showModal();
    if (focus) focus.focus();
  }
  function rowOf(el) { return el.closest("[data-call]"); }
  function who(el) {
    var row = rowOf(el), n = row && row.querySelector("[data-testid=name]");
    var name = n ? n.textContent.trim() : "";
    var num = row ? row.dataset.number : "";
    return name && num ? name + " (" + num + ")" : name || num;
  }
  function openReady(b) {
    var d = dialog("ready-dialog");
    if (!d) return;
    var f = d.querySelector("form");
    f.dataset.url = url(b, b.dataset.ready);
    f.reset();
    d.querySelector("[data-who]").textContent = who(b);
    // The same dialog edits a ready or on-air caller's notes.
    d.querySelector("[data-title]").textContent = b.dataset.dialogTitle || "Mark ready";
    d.querySelector("[data-submit]").textContent = b.dataset.dialogSubmit || "Mark ready";
    var row = rowOf(b);
    if (row) {
      ["name", "location", "topic", "priority"].forEach(function (k) {
        var v = row.dataset["n" + k.charAt(0).toUpperCase() + k.slice(1)];
        if (v) f.elements[k].value = v;
      });
    }
    closeMenus();
    watch(d, b, "data-ready", f.querySelector("[data-submit]"));
    open(d, f.elements.name);
  }
  function openNotes(b) {
    var d = dialog("notes-dialog");
    if (!d) return;
    closeMenus();
    var body = d.querySelector("#notes-body");
    body.innerHTML = "<h2 id=\"notes-title\">Caller notes: " + "</h2><p>Loading…</p>";
    body.querySelector("h2").textContent = "Caller notes: " + who(b);
    open(d);
    htmx.ajax("GET", b.dataset.notes, { source: b, target: "#notes-body", swap: "innerHTML" }).then(function () {
      var t = body.querySelector("input[name=topic]");
      if (t) t.focus();
    });
  }
  var pending = null;
  function confirmThen(question, word, then, b) {
    var d = dialog("confirm-dialog");
    if (!d) { if (window.confirm(question)) then(); return; }
    d.querySelector("[data-question]").textContent = question;
    var ok = d.querySelector("[data-confirm-ok]");
    ok.textContent = word || "OK";
    pending = then;
    watch(d, b, "data-post", ok);
    open(d, ok);
  }

  // ---- Stale dialogs: a dialog about a caller follows the caller. ----
  // When the caller's state changes while it is open, it says so at once
  // and keeps its button only when the caller's row still offers the same
  // action (its question then as the row now asks it); when the caller
  // leaves, it closes with a message (issue 23).
  var watched = null;
  function watch(d, b, attr, ok) {
    var row = b && rowOf(b);
    var stale = d.querySelector("[data-stale]");
    if (stale) { stale.hidden = true; stale.textContent = ""; }
    if (ok) ok.disabled = false;
    watched = row ? { d: d, id: row.dataset.call, state: row.dataset.state, who: who(b), attr: attr, val: b.getAttribute(attr), ok: ok } : null;
  }
  function stateWords(row) {
    var m = row.querySelector("[data-testid=state], .mark");
    return m ? m.textContent.trim() : row.dataset.state;
  }
  function checkStale() {
    var w = watched;
    if (!w || !w.d.open) return;
    var row = document.getElementById("call-" + w.id);
    if (!row) {
      watched = null;
      w.d.close();
      toast(false, w.who + " is no longer in line; the dialog closed");
      return;
    }
    if (row.dataset.state === w.state) return;
    w.state = row.dataset.state;
    var same = null;
    row.querySelectorAll("button[" + w.attr + "]").forEach(function (x) { if (x.getAttribute(w.attr) === w.val) same = same || x; });
    var stale = w.d.querySelector("[data-stale]");
    var q = w.d.querySelector("[data-question]");
    if (same && same.dataset.confirm && q) q.textContent = same.dataset.confirm;
    if (w.ok) w.ok.disabled = !same;
    stale.textContent = w.who + " is now " + stateWords(row) + (same ? "." : ": this no longer applies.");
    stale.hidden = false;
  }
  document.addEventListener("htmx:afterSettle", checkStale);
  document.addEventListener("htmx:oobAfterSwap", checkStale);
  document.addEventListener("htmx:sseMessage", checkStale);
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.id === "ready-form") {
      e.preventDefault();
      // The dialog closes once the server took it (htmx:afterRequest), so
      // a refused priority keeps what was typed.
      htmx.ajax("POST", f.dataset.url, { source: f, target: "#flash", swap: "innerHTML" });
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var t = e.target;
    if (!e.detail.successful || !t.matches) return;
    // Forms marked data-reset-on-success (the chat) empty once sent. No
    // hx-on: the page's Content-Security-Policy allows no eval.
    if (t.matches("form[data-reset-on-success]")) t.reset();
    if (t.matches("form")) t.removeAttribute("data-dirty");
    var d = t.closest && t.closest("dialog");
    if (d && d.open && t.matches("form")) d.close();
  });
  document.addEventListener("close", function (e) {
    if (e.target.id === "confirm-dialog") pending = null;
    if (watched && watched.d === e.target) watched = null;
  }, true);

  // ---- Menus: one open at a time; closed by a click elsewhere or Esc. ----
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (m) { if (m !== except) m.removeAttribute("open"); });
  }
  // A menu opens upward when the window has no room below it and has
  // room above (a row near the bottom of a 768 px screen hid its Drop).
  function placeMenu(m) {
    var l = m.querySelector(".menu-list");
    m.removeAttribute("data-up");
    if (!l) return;
    var r = l.getBoundingClientRect(), s = m.getBoundingClientRect();
    if (r.bottom > window.innerHeight && s.top - r.height - 4 >= 0) m.setAttribute("data-up", "");
  }
  document.addEventListener("toggle", function (e) {
    if (e.target.matches && e.target.matches("details.menu") && e.target.open) { closeMenus(e.target); placeMenu(e.target); }
  }, true);

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.closest("[data-confirm-ok]")) {
      var then = pending;
      pending = null;
      t.closest("dialog").close();
      if (then) then();
      return;
    }
    if (t.closest("[data-close]")) { t.closest("dialog").close(); return; }
    var b = t.closest("button[data-post], button[data-ready], button[data-notes]");
    if (b) { e.preventDefault(); act(b); return; }
    if (!t.closest("details.menu")) closeMenus();
    var row = rowOf(t);
    if (row && row.closest(".board, .host") && !t.closest("a, button, summary, input")) select(row);
  });

  // ---- The server ends a stream whose session ended: reload for the login. ----
  document.addEventListener("htmx:sseOpen", function (e) {
    var src = e.detail && e.detail.source;
    if (src && !src.callinEnd) {
      src.callinEnd = true;
      src.addEventListener("end", function () { window.location.reload(); });
    }
  });

  // ---- Keyboard: j/k select a caller, letters press its buttons. ----
  // The selection is a call id, so it survives any update; the row shows
  // it with aria-current, which morphs never remove.
  var selected = "";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".board [data-call], .host .cards [data-call]")); }
  function current() { return selected ? document.getElementById("call-" + selected) : null; }
  function mark() {
    document.querySelectorAll("[aria-current=true]").forEach(function (r) {
      if (r.dataset.call !== selected) r.removeAttribute("aria-current");
    });
    var r = current();
    if (r && r.getAttribute("aria-current") !== "true") r.setAttribute("aria-current", "true");
  }
  function select(row) {
    selected = row ? row.dataset.call : "";
    mark();
    if (row) row.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:afterSwap", mark);
  document.addEventListener("htmx:oobAfterSwap", mark);
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (e.key === "Escape") { closeMenus(); return; }
    if (t.closest && t.closest("input, textarea, select, dialog[open]")) return;
    var all = rows(), r = current(), i = r ? all.indexOf(r) : -1;
    if (e.key === "j" || e.key === "ArrowDown" && r) { e.preventDefault(); select(all[Math.min(i + 1, all.length - 1)] || null); return; }
    if (e.key === "k" || e.key === "ArrowUp" && r) { e.preventDefault(); select(all[Math.max(i - 1, 0)] || null); return; }
    if (e.key === "n") {
      var n = document.querySelector("[data-testid=take-next]");
      if (n) { e.preventDefault(); act(n); }
      return;
    }
    if (!r) return;
    if (e.key === ".") {
      var m = r.querySelector("details.menu");
      if (m) { e.preventDefault(); m.setAttribute("open", ""); var first = m.querySelector("button"); if (first) first.focus(); }
      return;
    }
    if (e.key === "Enter" && !t.closest("button, a, summary")) {
      var p = r.querySelector("button.primary");
      if (p) { e.preventDefault(); act(p); }
      return;
    }
    var b = r.querySelector('button[data-key="' + e.key + '"]');
    if (b) { e.preventDefault(); act(b); return; }
    // Hold and drop leave a locked caller alone: say so rather than
    // doing nothing (issue 23).
    if ((e.key === "h" || e.key === "d") && r.classList.contains("locked")) {
      e.preventDefault();
      var n = r.querySelector("[data-testid=name]");
      toast(false, (n ? n.textContent.trim() : "The caller") + " is locked on air \u2014 unlock first");
    }
  });

  // toast shows a message in the flash area, as the server's would.
  function toast(ok, msg) {
    var f = document.getElementById("flash");
    if (!f) return;
    var p = document.createElement("p");
    p.className = "flash " + (ok ? "ok" : "err");
    p.setAttribute("data-testid", "flash-msg");
    p.setAttribute("role", ok ? "status" : "alert");
    p.textContent = msg;
    f.replaceChildren(p);
  }

  // ---- The ready chime: off unless this console turns it on. ----
  var soundKey = "callin.chime." + show;
  var soundBtn = document.getElementById("sound-toggle");
  var soundOn = false;
  try { soundOn = window.localStorage.getItem(soundKey) === "on"; } catch (err) { soundOn = false; }
  function showSound() {
    if (!soundBtn) return;
    soundBtn.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundBtn.textContent = "Chime when a caller is ready: " + (soundOn ? "on" : "off");
  }
  showSound();
  if (soundBtn) soundBtn.addEventListener("click", function () {
    soundOn = !soundOn;
    try { window.localStorage.setItem(soundKey, soundOn ? "on" : "off"); } catch (err) { /* private mode: this page only */ }
    showSound();
    if (soundOn) chime();
  });
  var audio = null;
  window.callinChimes = 0;
  function chime() {
    window.callinChimes++;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var t = audio.currentTime;
      [880, 1320].forEach(function (f, i) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = f;
        g.gain.setValueAtTime(0.0001, t + i * 0.18);
        g.gain.exponentialRampToValueAtTime(0.25, t + i * 0.18 + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.25);
        o.connect(g).connect(audio.destination);
        o.start(t + i * 0.18);
        o.stop(t + i * 0.18 + 0.3);
      });
    } catch (err) { /* no audio here */ }
  }
  // A caller is newly ready when a ready row appears that was not ready at
  // the last look.
  var ready = null;
  function readyNow() {
    var ids = {};
    document.querySelectorAll(".board [data-state=ready]").forEach(function (r) { ids[r.dataset.call] = true; });
    return ids;
  }
  function checkReady() {
    var now = readyNow();
    if (ready && soundOn) {
      for (var id in now) { if (!ready[id]) { chime(); break; } }
    }
    ready = now;
  }
  if (main) {
    checkReady();
    document.addEventListener("htmx:sseMessage", checkReady);
  }
})();
