// callin console: ticking timers, the ready dialog and keyboard shortcuts.
// Everything else is htmx; this file only reads data- attributes.
(function () {
  "use strict";
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    s = s % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h > 0 ? h + ":" : "") + mm + ":" + ss;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var ms = now - Date.parse(el.dataset.since);
      el.textContent = clock(ms);
      var limit = Number(el.dataset.limit || 0) * 1000;
      var row = el.closest(".row");
      if (row && limit > 0) row.classList.toggle("over", ms > limit);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);
  // Live fragments come without timer text: fill it in as they land.
  document.addEventListener("htmx:sseMessage", tick);

  // The ready dialog: one form, pointed at the caller whose button opened it.
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-ready]");
    var dlg = document.getElementById("ready-dialog");
    if (b && dlg) {
      var f = dlg.querySelector("form");
      f.setAttribute("hx-post", b.dataset.ready);
      ["name", "location", "topic", "priority"].forEach(function (k) { f.elements[k].value = b.dataset[k] || (k === "priority" ? "0" : ""); });
      htmx.process(f);
      dlg.showModal();
      f.elements.name.focus();
      return;
    }
    if (e.target.closest("[data-close]")) e.target.closest("dialog").close();
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var dlg = document.getElementById("ready-dialog");
    if (dlg && dlg.open && dlg.contains(e.target) && e.detail.successful) dlg.close();
    // Forms marked data-reset-on-success (the chat) empty once sent. No
    // hx-on: the page's Content-Security-Policy allows no eval.
    if (e.detail.successful && e.target.matches && e.target.matches("form[data-reset-on-success]")) e.target.reset();
  });
  // The server ends a stream whose session ended (a logout elsewhere, an
  // expiry): reload, and the login page comes.
  document.addEventListener("htmx:sseOpen", function (e) {
    var src = e.detail && e.detail.source;
    if (src && !src.callinEnd) {
      src.callinEnd = true;
      src.addEventListener("end", function () { window.location.reload(); });
    }
  });

  // Keyboard: j/k select a caller row, letters press its buttons (data-key).
  var selected = null;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".console .row")); }
  function select(row) {
    if (selected) selected.classList.remove("selected");
    selected = row;
    if (row) { row.classList.add("selected"); row.scrollIntoView({ block: "nearest" }); }
  }
  document.addEventListener("htmx:afterSettle", function () {
    if (selected && !document.body.contains(selected)) {
      select(document.getElementById(selected.id));
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t.closest("input, textarea, select, dialog[open]")) return;
    var all = rows(), i = selected ? all.findIndex(function (r) { return r.id === selected.id; }) : -1;
    if (e.key === "j") { select(all[Math.min(i + 1, all.length - 1)] || null); return; }
    if (e.key === "k") { select(all[Math.max(i - 1, 0)] || null); return; }
    if (e.key === "n") { var n = document.querySelector("[data-testid=take-next]"); if (n) n.click(); return; }
    if (!selected) return;
    var row = document.getElementById(selected.id);
    var b = row && row.querySelector('[data-key="' + e.key + '"]');
    if (b) { e.preventDefault(); b.click(); }
  });
})();
