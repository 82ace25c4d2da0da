// leaktrace incident service: live progress of an analysis over server-sent events.
// The only script of the pages (served from /assets/, the CSP allows no inline script).
(function () {
  "use strict";
  function start() {
    var job = document.getElementById("job");
    var phase = document.getElementById("phase");
    if (!job || !phase || !window.EventSource) { return; }
    var terminal = ["done", "failed", "cancelled", "interrupted"];
    if (terminal.indexOf(phase.textContent) >= 0) { return; }
    var rows = document.getElementById("rows");
    var eta = document.getElementById("eta");
    var bar = document.getElementById("bar");
    var es = new EventSource("/api/v1/incidents/" + job.dataset.incident + "/events");
    es.addEventListener("progress", function (ev) {
      var p = JSON.parse(ev.data);
      phase.textContent = p.phase;
      phase.className = "phase " + p.phase;
      if (rows) { rows.textContent = String(p.rows); }
      if (eta) {
        eta.textContent = (p.eta_seconds === null || p.eta_seconds === undefined)
          ? "" : eta.dataset.label + " " + String(p.eta_seconds) + " s";
      }
      if (bar && p.bytes_total > 0 && terminal.indexOf(p.phase) < 0) {
        bar.value = Math.min(1, p.bytes_read / p.bytes_total);
      }
      if (terminal.indexOf(p.phase) >= 0) {
        es.close();
        window.location.reload();
      }
    });
    es.onerror = function () { es.close(); };
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
