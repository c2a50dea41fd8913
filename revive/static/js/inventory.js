/* Inventory pages: review-queue batch form (selected count, comment required for some actions).
 * Generic behaviours (data-confirm, data-check-all) live in app.js; the server re-checks all. */
(function () {
  "use strict";

  var form = document.getElementById("batch-form");
  if (!form) {
    return;
  }
  var counter = document.getElementById("selected-count");
  var comment = document.getElementById("batch-comment");

  function selected() {
    return form.querySelectorAll('input[type=checkbox][name="ids"]:checked').length;
  }

  function refresh() {
    var n = selected();
    var all = form.querySelector('input[name="scope"][value="queue"]:checked');
    if (counter) {
      counter.textContent = all
        ? "（队列中全部 " + all.getAttribute("data-queue-total") + " 件）"
        : (n ? "（已选 " + n + " 条）" : "（未选择）");
    }
    Array.prototype.forEach.call(form.querySelectorAll("button[name=action]"), function (b) {
      b.disabled = n === 0 && !all;
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
