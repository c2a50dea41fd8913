/* Match-run / index-build progress: poll the JSON URL of every [data-run-progress] box that is
 * active, move its bar and counters, and reload the page once the work leaves its running
 * state (so the results rendered by the server appear).
 *
 *   <div data-run-progress data-url="/api/v1/match-runs/7" data-active="1">…</div>
 */
(function () {
  "use strict";

  function watch(box) {
    var url = box.getAttribute("data-url");
    var bar = box.querySelector(".bar");
    var meter = box.querySelector("[role=progressbar]");
    var delay = 1000;
    var failures = 0;

    function setText(field, value) {
      var el = box.querySelector("[data-field=" + field + "]");
      if (el && value !== undefined && value !== null) {
        el.textContent = String(value);
      }
    }

    function render(row) {
      var pct = Math.max(0, Math.min(100, (row.progress || 0) * 100));
      if (bar) {
        bar.style.width = pct.toFixed(1) + "%";
      }
      if (meter) {
        meter.setAttribute("aria-valuenow", String(Math.round(pct)));
      }
      setText("status_label", row.status_label);
      setText("processed", row.processed);
      setText("total", row.total);
    }

    function schedule() {
      if (failures > 20) {
        return; // give up quietly; a manual refresh still works
      }
      delay = Math.min(5000, delay * 1.2);
      window.setTimeout(poll, delay);
    }

    function poll() {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        if (xhr.status !== 200) {
          failures += 1;
          schedule();
          return;
        }
        failures = 0;
        var row = JSON.parse(xhr.responseText);
        render(row);
        if (!row.is_active) {
          window.location.reload();
          return;
        }
        schedule();
      };
      xhr.onerror = function () {
        failures += 1;
        schedule();
      };
      xhr.send();
    }

    window.setTimeout(poll, delay);
  }

  var boxes = document.querySelectorAll("[data-run-progress][data-active='1']");
  for (var i = 0; i < boxes.length; i += 1) {
    watch(boxes[i]);
  }
})();
