/* Import job page: the import-specific renderer for ReviveProgress (run-progress.js, loaded
 * first), which polls GET /api/v1/import-jobs/<id> and reloads when the job stops running.
 *
 *   <div id="import-progress" data-url="/api/v1/import-jobs/7" data-active="1">
 */
(function () {
  "use strict";

  var box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-active") !== "1" || !window.ReviveProgress) {
    return;
  }
  var P = window.ReviveProgress;

  function setField(selector, value) {
    P.setText(document.querySelector(selector), value);
  }

  P.watch(box, function (_box, job) {
    P.moveBar(box, job.progress);
    setField("[data-field=stage]", job.status_label);
    setField("[data-field=processed_rows]", job.processed_rows);
    setField("[data-field=total_rows]", job.total_rows);
    setField("#job-status", job.status_label);
    var queued = job.status === "queued";
    var waiting = document.querySelector("[data-field=waiting]");
    var counts = document.querySelector("[data-field=counts]");
    if (waiting && counts) {
      waiting.hidden = !queued;
      counts.hidden = queued;
    }
    var notice = document.querySelector("[data-field=notice]");
    if (notice) {
      P.setText(notice, job.notice || "");
      notice.hidden = !job.notice;
    }
    [["preview_counts", "data-count"], ["result_counts", "data-result"]].forEach(function (g) {
      var counts = job[g[0]] || {};
      Object.keys(counts).forEach(function (key) {
        setField("[" + g[1] + '="' + key + '"]', counts[key]);
      });
    });
  });
})();
