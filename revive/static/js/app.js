/* Small page behaviours driven by data-* attributes (CSP forbids inline handlers).
 *
 *   <form data-confirm="确定退回该专利？">        ask before submitting (also on <button>/<a>)
 *   <select data-autosubmit>                       submit the enclosing form on change
 *   <button data-disable-on-submit>                disable the form's submit buttons once sent
 *   <input type="checkbox" data-check-all="ids">   toggle every checkbox named "ids" in the form
 *   <select data-require-when="other,…" data-require-target="id">   the element "id" is
 *                                                  required while the select's value is one of them
 *   <a data-history-back href="…">                 an error page after a form was sent: back in
 *                                                  history (the form as typed), else the link
 *   <details class="navgroup">                     main-menu drop-downs: one open at a time,
 *                                                  closed by a click elsewhere or Esc
 *   <button class="nav-toggle">                   菜单 on a phone: shown, and the menu folded
 *                                                  behind it (aria-expanded), by this script
 *   <div class="table-wrap">                       marked .fits when its table fits (the header
 *                                                  row then sticks to the window's top), else
 *                                                  .scrolls-x, under a hint to scroll sideways
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-disable-on-submit")) {
      window.setTimeout(function () {
        Array.prototype.forEach.call(form.querySelectorAll("button[type=submit], input[type=submit]"), function (b) {
          b.disabled = true;
        });
      }, 0);
    }
  });

  document.addEventListener("click", function (event) {
    var back = event.target.closest && event.target.closest("a[data-history-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
      return;
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  function applyRequire(el) {
    var when = el.getAttribute && el.getAttribute("data-require-when");
    var target = when && document.getElementById(el.getAttribute("data-require-target"));
    if (target) {
      target.required = when.split(",").indexOf(el.value) >= 0;
    }
  }
  document.addEventListener("change", function (event) { applyRequire(event.target); });
  Array.prototype.forEach.call(document.querySelectorAll("[data-require-when]"), applyRequire);

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      if (typeof el.form.requestSubmit === "function") {
        el.form.requestSubmit();
      } else {
        el.form.submit();
      }
    }
    var group = el.getAttribute && el.getAttribute("data-check-all");
    if (group && el.form) {
      Array.prototype.forEach.call(el.form.querySelectorAll('input[type=checkbox][name="' + group + '"]'), function (box) {
        box.checked = el.checked;
      });
    }
  });

  // Main-menu drop-downs (<details class="navgroup">) work without script; this only closes
  // them the way menus close: when another opens, on a click outside, on Esc.
  function closeMenus(except) {
    Array.prototype.forEach.call(document.querySelectorAll("details.navgroup[open]"), function (d) {
      if (d !== except) {
        d.removeAttribute("open");
      }
    });
  }

  // A drop-down hanging from a group near the screen's edge is moved back inside the window
  // (on a phone, or at 200 % zoom, menus near the right edge ran off the screen).
  function keepInView(details) {
    var menu = details.querySelector(".navmenu");
    if (!menu) {
      return;
    }
    menu.style.left = "";
    menu.style.right = "";
    var box = menu.getBoundingClientRect();
    var width = document.documentElement.clientWidth;
    if (box.right > width) {
      menu.style.left = "auto";
      menu.style.right = "0";
      box = menu.getBoundingClientRect();
    }
    if (box.left < 0) {
      menu.style.left = (parseFloat(getComputedStyle(menu).left) || 0) - box.left + 4 + "px";
      menu.style.right = "auto";
    }
  }

  document.addEventListener("toggle", function (event) {
    var el = event.target;
    if (el.matches && el.matches("details.navgroup") && el.open) {
      closeMenus(el);
      keepInView(el);
    }
  }, true);

  // Tabbing past an open drop-down closes it (it stayed open over the page).
  document.addEventListener("focusin", function (event) {
    var open = document.querySelector("details.navgroup[open]");
    if (open && !open.contains(event.target)) {
      open.removeAttribute("open");
    }
  });

  document.addEventListener("click", function (event) {
    if (!(event.target.closest && event.target.closest("details.navgroup"))) {
      closeMenus(null);
    }
  });

  // The phone's menu button (CSS shows it at phone widths only). Without this script the
  // button stays hidden and the menu open.
  var topbar = document.querySelector(".topbar");
  var toggle = topbar && topbar.querySelector(".nav-toggle");
  function setMenuOpen(open) {
    topbar.classList.toggle("nav-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  if (toggle) {
    topbar.classList.add("nav-collapsible");
    toggle.hidden = false;
    setMenuOpen(false);
    toggle.addEventListener("click", function () {
      setMenuOpen(!topbar.classList.contains("nav-open"));
    });
  }

  // Tables: one that fits its box stops being a scroll box (CSS .table-wrap.fits), so the page
  // scrolls and the header row sticks; a wider one scrolls sideways in its box, with a hint
  // above it (on a phone, columns out of view were taken for missing).
  function fitTables() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), function (wrap) {
      if (!wrap.clientWidth) {
        return; // not shown (a closed <details>): measured when it opens
      }
      var wide = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("fits", !wide);
      wrap.classList.toggle("scrolls-x", wide);
      var hint = wrap.previousElementSibling;
      if (!(hint && hint.classList.contains("scroll-hint"))) {
        if (!wide) {
          return;
        }
        hint = document.createElement("p");
        hint.className = "scroll-hint";
        hint.setAttribute("aria-hidden", "true");
        hint.textContent = "表格较宽，可左右滑动查看其余各列 →";
        wrap.parentNode.insertBefore(hint, wrap);
      }
      hint.hidden = !wide;
    });
  }
  fitTables();
  document.addEventListener("toggle", function (event) {
    if (event.target.open && event.target.querySelector && event.target.querySelector(".table-wrap")) {
      fitTables();
    }
  }, true);
  var fitTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(fitTimer);
    fitTimer = window.setTimeout(fitTables, 100);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = document.querySelector("details.navgroup[open]");
      if (open) {
        open.removeAttribute("open");
        open.querySelector("summary").focus();
      } else if (toggle && topbar.classList.contains("nav-open") && toggle.offsetParent !== null) {
        setMenuOpen(false);
        toggle.focus();
      }
    }
  });
})();
