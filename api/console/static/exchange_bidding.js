/* The live bidding page: every few seconds the page's state (the high bid, the bidders, the
   time left, the history) is fetched from the service's own /bidding/state fragment and put in
   place; between fetches the countdowns tick. Without this script the page works the same by
   its refresh link. When the listing's phase changes, the forms below may no longer fit: a
   notice asks for a refresh (nothing typed is thrown away by the script). */
(function () {
  "use strict";
  var box = document.getElementById("bidding-state");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-state-url");
  var first = box.querySelector(".bid-state");
  var phase = first ? first.getAttribute("data-phase") : "";
  var day = box.getAttribute("data-day") || "d";  // as the page writes days: 3天 / 3d
  var every = 5000;

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(seconds) {
    var s = Math.max(0, seconds);
    var days = Math.floor(s / 86400);
    var rest = s % 86400;
    var text = Math.floor(rest / 3600) + ":" + two(Math.floor(rest % 3600 / 60)) + ":" + two(rest % 60);
    return days ? days + day + " " + text : text;
  }
  function tick() {
    var items = box.querySelectorAll("[data-seconds]");
    for (var i = 0; i < items.length; i++) {
      var left = parseInt(items[i].getAttribute("data-seconds"), 10);
      if (isNaN(left)) { continue; }
      left = Math.max(0, left - 1);
      items[i].setAttribute("data-seconds", String(left));
      items[i].textContent = clock(left);
    }
  }
  function show(html) {
    box.innerHTML = html;
    var now = box.querySelector(".bid-state");
    if (now && now.getAttribute("data-phase") !== phase) {
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
