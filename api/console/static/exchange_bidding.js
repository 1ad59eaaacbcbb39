/* The live bidding page: every few seconds the page's state (the high bid, the bidders, the
   time left, the history) is fetched from the service's own /bidding/state fragment. A new
   state (its version differs) is put in place and said once in the page's status line (for a
   screen reader, without re-reading the whole box); the same state only sets the countdowns
   to the service's clock again, which tick between fetches. Without this script the page
   works the same by its refresh link. When the listing's phase changes, the forms below may
   no longer fit: a notice asks for a refresh (nothing typed is thrown away by the script). */
(function () {
  "use strict";
  var box = document.getElementById("bidding-state");
  if (!box || !window.fetch || !window.DOMParser) { return; }
  var url = box.getAttribute("data-state-url");
  var day = box.getAttribute("data-day") || "d";  // as the page writes days: 3天 / 3d
  var updated = box.getAttribute("data-updated") || "";
  var status = document.getElementById("live-status");
  var first = box.querySelector(".bid-state");
  var phase = first ? first.getAttribute("data-phase") : "";
  var version = first ? first.getAttribute("data-version") : "";
  var every = 5000;

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(seconds) {
    var s = Math.max(0, seconds);
    var days = Math.floor(s / 86400);
    var rest = s % 86400;
    var text = Math.floor(rest / 3600) + ":" + two(Math.floor(rest % 3600 / 60)) + ":" + two(rest % 60);
    return days ? days + day + " " + text : text;
  }
  function set(item, seconds) {
    item.setAttribute("data-seconds", String(seconds));
    item.textContent = clock(seconds);
  }
  function tick() {
    var items = box.querySelectorAll("[data-seconds]");
    for (var i = 0; i < items.length; i++) {
      var left = parseInt(items[i].getAttribute("data-seconds"), 10);
      if (!isNaN(left)) { set(items[i], Math.max(0, left - 1)); }
    }
  }
  function show(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").body;
    var state = fresh.querySelector(".bid-state");
    if (!state) { return; }
    if (state.getAttribute("data-version") === version) {
      var now = fresh.querySelectorAll("[data-seconds]");
      var shown = box.querySelectorAll("[data-seconds]");
      for (var i = 0; i < shown.length && i < now.length; i++) {
        set(shown[i], parseInt(now[i].getAttribute("data-seconds"), 10) || 0);
      }
      return;
    }
    version = state.getAttribute("data-version");
    box.innerHTML = html;
    var high = document.getElementById("high-bid");
    if (status && high) { status.textContent = updated + " " + high.textContent.replace(/\s+/g, " ").trim(); }
    if (state.getAttribute("data-phase") !== phase) {
      var notice = document.getElementById("phase-changed");
      if (notice) { notice.hidden = false; }
    }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" })
      // Only the fragment itself (it says its version): never a sign-in page after a redirect.
      .then(function (r) { return r.ok && r.headers.get("X-Bidding-Version") ? r.text() : null; })
      .then(function (html) { if (html) { show(html); } })
      .catch(function () { /* the next fetch tries again */ })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setInterval(tick, 1000);
  window.setTimeout(poll, every);
}());
