/* Review queue (templates/review/queue.html). CSP: no inline handlers, everything by data-*.
 *
 *   <input type="checkbox" data-review-check="demand-12">   tick every candidate of demand 12
 *   <input type="checkbox" data-review-group="demand-12" form="bulk-form">   one candidate
 *   #review-selected-count                                  "已勾选 N 条"
 *   #bulk-form + #bulk-error                                bulk reject needs a reason (and a
 *                                                           comment for "其他"); the server
 *                                                           checks the same, this only saves a
 *                                                           round trip.
 */
(function () {
  "use strict";

  var form = document.getElementById("bulk-form");
  if (!form) {
    return;
  }
  var counter = document.getElementById("review-selected-count");
  var errorBox = document.getElementById("bulk-error");

  function boxes() {
    return document.querySelectorAll('input[type=checkbox][name="match_ids"][form="bulk-form"]');
  }

  function updateCount() {
    var n = Array.prototype.filter.call(boxes(), function (b) { return b.checked; }).length;
    if (counter) {
      counter.textContent = n ? "（已勾选 " + n + " 条）" : "（未勾选）";
    }
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    var group = el.getAttribute && el.getAttribute("data-review-check");
    if (group) {
      Array.prototype.forEach.call(
        document.querySelectorAll('input[type=checkbox][data-review-group="' + group + '"]'),
        function (box) { box.checked = el.checked; }
      );
    }
    if (group || (el.name === "match_ids")) {
      updateCount();
    }
  });

  function showError(message) {
    if (!errorBox) {
      window.alert(message);
      return;
    }
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  // Capture phase: runs before app.js's data-confirm prompt on the same submit.
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var decision = submitter ? submitter.value : "";
    var picked = Array.prototype.some.call(boxes(), function (b) { return b.checked; });
    var message = "";
    if (!picked) {
      message = "请先勾选要处理的候选匹配";
    } else if (decision === "rejected") {
      var reason = form.elements.reason_code.value;
      if (!reason) {
        message = "否决时请选择原因";
      } else if (reason === "other" && !form.elements.comment.value.trim()) {
        message = "选择“其他”原因时请填写说明";
      }
    }
    showError(message);
    if (message) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  updateCount();
})();
