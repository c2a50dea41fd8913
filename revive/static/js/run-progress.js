/* Progress polling shared by every long-running job page (imports, match runs, index builds).
 *
 * ReviveProgress.watch(box, render): poll box's data-url while the row is active, call
 * render(row) on each answer (default: move the .bar and fill [data-field=…] inside the box),
 * and reload the page once the row leaves its running state so the server-rendered results
 * appear. Backs off to 5 s between polls and gives up quietly after 20 failures.
 *
 * Boxes marked up as <div data-run-progress data-url="/api/v1/match-runs/7" data-active="1">
 * are watched automatically with the default renderer.
 */
(function () {
  "use strict";

  function moveBar(box, progress) {
    var pct = Math.max(0, Math.min(100, (progress || 0) * 100));
    var bar = box.querySelector(".bar");
    var meter = box.querySelector("[role=progressbar]");
    if (bar) {
      bar.style.width = pct.toFixed(1) + "%";
    }
    if (meter) {
      meter.setAttribute("aria-valuenow", String(Math.round(pct)));
    }
  }

  function setText(el, value) {
    if (el && value !== undefined && value !== null) {
      el.textContent = String(value);
    }
  }

  function defaultRender(box, row) {
    moveBar(box, row.progress);
    ["status_label", "processed", "total"].forEach(function (field) {
      setText(box.querySelector("[data-field=" + field + "]"), row[field]);
    });
    // nothing counted yet (queued): "尚未开始" rather than "已处理 0 / 0"
    var waiting = box.querySelector("[data-field=waiting]");
    var counts = box.querySelector("[data-field=counts]");
    if (waiting && counts) {
      waiting.hidden = Boolean(row.total);
      counts.hidden = !row.total;
    }
    // a run that stands still says why (no worker has taken it, or its worker went quiet)
    var notice = box.querySelector("[data-field=notice]");
    if (notice && row.notice !== undefined) {
      notice.textContent = row.notice || "";
      notice.hidden = !row.notice;
    }
  }

  function watch(box, render) {
    var url = box.getAttribute("data-url");
    var delay = 1000;
    var failures = 0;
    render = render || defaultRender;

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
        render(box, row);
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

  window.ReviveProgress = { watch: watch, moveBar: moveBar, setText: setText };

  var boxes = document.querySelectorAll("[data-run-progress][data-active='1']");
  for (var i = 0; i < boxes.length; i += 1) {
    watch(boxes[i]);
  }
})();
