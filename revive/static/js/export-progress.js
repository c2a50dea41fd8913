/* Export job page: ReviveProgress (run-progress.js, loaded first) polls
 * GET /exports/<id>/progress, moves the bar, fills the counts and the stall notice, and
 * reloads once the job has finished (the download link appears).
 *
 *   <div id="export-progress" data-url="/exports/7/progress" data-active="1">
 */
(function () {
  "use strict";

  var box = document.getElementById("export-progress");
  if (!box || box.getAttribute("data-active") !== "1" || !window.ReviveProgress) {
    return;
  }
  var P = window.ReviveProgress;

  P.watch(box, function (_box, job) {
    P.moveBar(box, job.progress);
    P.setText(box.querySelector("[data-field=status_label]"), job.status_label);
    P.setText(box.querySelector("[data-field=processed]"), job.processed);
    P.setText(box.querySelector("[data-field=total]"), job.total);
    P.setText(document.getElementById("job-status"), job.status_label);
    var waiting = box.querySelector("[data-field=waiting]");
    var counts = box.querySelector("[data-field=counts]");
    if (waiting && counts) {
      waiting.hidden = Boolean(job.total);
      counts.hidden = !job.total;
    }
    var notice = document.querySelector("[data-field=notice]");
    if (notice) {
      P.setText(notice, job.notice || "");
      notice.hidden = !job.notice;
    }
  });
})();
