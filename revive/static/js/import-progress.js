/* Import job page: poll GET /api/v1/import-jobs/<id> while the job runs, move the progress bar
 * and counters, and reload the page once the job leaves its running state (so the preview,
 * errors and buttons rendered by the server appear).
 *
 *   <div id="import-progress" data-url="/api/v1/import-jobs/7" data-active="1" data-status="validating">
 */
(function () {
  "use strict";

  var box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-active") !== "1") {
    return;
  }
  var url = box.getAttribute("data-url");
  var bar = box.querySelector(".bar");
  var meter = box.querySelector("[role=progressbar]");
  var delay = 1000;
  var failures = 0;

  function setText(selector, value) {
    var el = document.querySelector(selector);
    if (el && value !== undefined && value !== null) {
      el.textContent = String(value);
    }
  }

  function render(job) {
    var pct = Math.max(0, Math.min(100, (job.progress || 0) * 100));
    if (bar) {
      bar.style.width = pct.toFixed(1) + "%";
    }
    if (meter) {
      meter.setAttribute("aria-valuenow", String(Math.round(pct)));
    }
    setText("[data-field=stage]", job.status_label);
    setText("[data-field=processed_rows]", job.processed_rows);
    setText("[data-field=total_rows]", job.total_rows);
    setText("#job-status", job.status_label);
    var groups = [["preview_counts", "data-count"], ["result_counts", "data-result"]];
    groups.forEach(function (g) {
      var counts = job[g[0]] || {};
      Object.keys(counts).forEach(function (key) {
        setText("[" + g[1] + '="' + key + '"]', counts[key]);
      });
    });
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
      var job = JSON.parse(xhr.responseText);
      render(job);
      if (!job.is_active) {
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

  function schedule() {
    if (failures > 20) {
      return; // give up quietly; a manual refresh still works
    }
    delay = Math.min(5000, delay * 1.2);
    window.setTimeout(poll, delay);
  }

  window.setTimeout(poll, delay);
})();
