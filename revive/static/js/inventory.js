/* Inventory pages: review-queue batch form (selected count, comment required for some actions,
 * select-all per stage). Generic behaviours (data-confirm, data-check-all) live in app.js; the
 * server re-checks all.
 *
 *   <input type="checkbox" data-check-stage="pending_school">   tick every row of the page at
 *                                                              that stage (data-status); shows
 *                                                              checked / mixed as rows change
 */
(function () {
  "use strict";

  var form = document.getElementById("batch-form");
  if (!form) {
    return;
  }
  var counter = document.getElementById("selected-count");
  var comment = document.getElementById("batch-comment");

  function ticked() {
    return form.querySelectorAll('input[type=checkbox][name="ids"]:checked');
  }

  function rowsAt(stage) {
    return form.querySelectorAll('input[type=checkbox][name="ids"][data-status="' + stage + '"]');
  }

  // A stage's box ticks (or clears) that stage's rows; the count and buttons follow (refresh).
  form.addEventListener("change", function (event) {
    var stage = event.target.getAttribute && event.target.getAttribute("data-check-stage");
    if (stage) {
      Array.prototype.forEach.call(rowsAt(stage), function (box) {
        box.checked = event.target.checked;
      });
    }
  });

  function syncStages() {
    Array.prototype.forEach.call(form.querySelectorAll("input[data-check-stage]"), function (head) {
      var rows = Array.prototype.slice.call(rowsAt(head.getAttribute("data-check-stage")));
      var on = rows.filter(function (box) { return box.checked; }).length;
      head.checked = rows.length > 0 && on === rows.length;
      head.indeterminate = on > 0 && on < rows.length;
    });
  }

  /* A button is usable when the whole queue is chosen, or when a ticked row is at one of
   * its stages (data-sources vs each row's data-status): 学校审核通过 stays off while only
   * 待学院审核 rows are ticked. The server refuses a wrong-stage patent all the same. */
  function refresh() {
    syncStages();
    var rows = ticked();
    var n = rows.length;
    var all = form.querySelector('input[name="scope"][value="queue"]:checked');
    var statuses = {};
    Array.prototype.forEach.call(rows, function (box) {
      statuses[box.getAttribute("data-status")] = true;
    });
    if (counter) {
      counter.textContent = all
        ? "（队列中全部 " + all.getAttribute("data-queue-total") + " 件）"
        : (n ? "（已选 " + n + " 条）" : "（未选择）");
    }
    Array.prototype.forEach.call(form.querySelectorAll("button[name=action]"), function (b) {
      var sources = (b.getAttribute("data-sources") || "").split(" ");
      var fits = sources.some(function (s) { return statuses[s]; });
      b.disabled = !all && !fits;
      b.title = b.disabled ? (n ? "勾选的专利都不在这一审核阶段" : "请先勾选专利") : "";
    });
  }

  // After every other change handler: app.js ticks the rows of 全选本页 on the document,
  // which hears the event after this form does (the count read 未选择 with every row ticked).
  form.addEventListener("change", function () { window.setTimeout(refresh, 0); });

  // Runs in the capture phase, before app.js asks for confirmation.
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.hasAttribute("data-comment-required") && comment && !comment.value.trim()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      comment.setCustomValidity("请填写意见或原因");
      comment.reportValidity();
      comment.focus();
    }
  }, true);

  if (comment) {
    comment.addEventListener("input", function () {
      comment.setCustomValidity("");
    });
  }

  refresh();
})();
