// The staff console's only script: live updates. Every page works without it (forms post and
// redirect); with it, the inbox and an open conversation refresh themselves when the hotel's
// inbox changes, and the page title counts the guests waiting for staff.
(function () {
  "use strict";
  var live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) { return; }
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  function title(waiting) {
    document.title = waiting > 0 ? "(" + waiting + ") " + baseTitle : baseTitle;
  }
  function refresh(target) {
    var url = target.getAttribute("data-refresh");
    if (!url) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (r.ok) { return r.text(); } throw new Error(r.status); })
      .then(function (html) { target.innerHTML = html; })
      .catch(function () { /* the next change tries again */ });
  }
  var source = new EventSource(live.getAttribute("data-live"));
  source.addEventListener("inbox", function (event) {
    var pulse = JSON.parse(event.data);
    title(pulse.waiting);
    document.querySelectorAll("[data-refresh]").forEach(refresh);
  });
})();
