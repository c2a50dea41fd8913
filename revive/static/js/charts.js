/* Render every <canvas data-chart="ID"> from the JSON block <script type="application/json" id="ID">.
 *
 * The JSON is {type, labels, datasets, options}, exactly Chart.js's config minus functions.
 * Colours may be CSS custom properties ("var(--status-entered)"): they are resolved against
 * app.css so charts and badges share one palette. Datasets without colours get the palette.
 * Needs vendor/chartjs/chart.umd.min.js loaded first (window.Chart). No inline JS (CSP).
 */
(function () {
  "use strict";

  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
  var PALETTE_VARS = ["--chart-1", "--chart-2", "--chart-3", "--chart-4", "--chart-5", "--chart-6"];
  var FALLBACK_PALETTE = ["#1d4f91", "#2e8b57", "#d9822b", "#5b5fc7", "#c0392b", "#1b998b"];
  var numberFormat = new Intl.NumberFormat("zh-CN");

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function resolveColor(value) {
    if (Array.isArray(value)) {
      return value.map(resolveColor);
    }
    if (typeof value === "string") {
      var m = /^var\((--[\w-]+)\)$/.exec(value.trim());
      if (m) {
        return cssVar(m[1], "#8795a8");
      }
    }
    return value;
  }

  function palette() {
    return PALETTE_VARS.map(function (name, i) { return cssVar(name, FALLBACK_PALETTE[i]); });
  }

  function applyDefaults(Chart) {
    var d = Chart.defaults;
    d.font.family = FONT;
    d.font.size = 12;
    d.color = cssVar("--muted", "#5f6b7a");
    d.borderColor = cssVar("--chart-grid", "#e6e9ef");
    d.maintainAspectRatio = false;
    d.responsive = true;
    d.locale = "zh-CN";
    d.plugins.legend.labels.boxWidth = 12;
    d.plugins.legend.labels.boxHeight = 12;
    d.plugins.tooltip.titleFont = { family: FONT, weight: "600" };
    d.plugins.tooltip.bodyFont = { family: FONT };
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      d.animation = false;
    }
  }

  function isCircular(type) {
    return type === "doughnut" || type === "pie" || type === "polarArea";
  }

  /* Pie/doughnut tooltips show the share with its denominator: "愿意：12（40.0%，共 30）". */
  function circularTooltip(ctx) {
    var data = ctx.dataset.data || [];
    var total = data.reduce(function (a, b) { return a + (Number(b) || 0); }, 0);
    var share = total ? (ctx.parsed / total * 100).toFixed(1) + "%" : "—";
    return ctx.label + "：" + numberFormat.format(ctx.parsed) + "（" + share + "，共 " + numberFormat.format(total) + "）";
  }

  function buildConfig(spec) {
    var colors = palette();
    var type = spec.type || "bar";
    var datasets = (spec.datasets || []).map(function (ds, i) {
      var out = Object.assign({}, ds);
      if (out.backgroundColor === undefined) {
        out.backgroundColor = isCircular(type) ? colors : colors[i % colors.length];
      }
      out.backgroundColor = resolveColor(out.backgroundColor);
      if (out.borderColor !== undefined) {
        out.borderColor = resolveColor(out.borderColor);
      } else if (isCircular(type)) {
        out.borderColor = "#fff";
      }
      if (type === "bar") {
        out.borderRadius = out.borderRadius === undefined ? 3 : out.borderRadius;
        out.maxBarThickness = out.maxBarThickness || 36;
      }
      return out;
    });

    var options = Object.assign({}, spec.options || {});
    options.plugins = Object.assign({}, options.plugins || {});
    options.plugins.tooltip = Object.assign({}, options.plugins.tooltip || {});
    if (isCircular(type)) {
      options.plugins.tooltip.callbacks = { label: circularTooltip };
      if (options.cutout === undefined && type === "doughnut") {
        options.cutout = "58%";
      }
    } else {
      // Counts are integers: no "0.5 件" ticks on small datasets.
      var valueAxis = options.indexAxis === "y" ? "x" : "y";
      options.scales = Object.assign({}, options.scales || {});
      var axis = Object.assign({ beginAtZero: true }, options.scales[valueAxis] || {});
      axis.ticks = Object.assign({ precision: 0 }, axis.ticks || {});
      options.scales[valueAxis] = axis;
      var catAxis = valueAxis === "y" ? "x" : "y";
      options.scales[catAxis] = Object.assign({ grid: { display: false } }, options.scales[catAxis] || {});
    }
    return { type: type, data: { labels: spec.labels || [], datasets: datasets }, options: options };
  }

  function renderAll() {
    if (typeof window.Chart === "undefined") {
      return; // the table fallbacks below each chart still carry the figures
    }
    applyDefaults(window.Chart);
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var block = document.getElementById(canvas.getAttribute("data-chart"));
      if (!block) {
        return;
      }
      var spec;
      try {
        spec = JSON.parse(block.textContent);
      } catch (err) {
        if (window.console) { window.console.error("charts.js: invalid JSON in #" + block.id, err); }
        return;
      }
      new window.Chart(canvas, buildConfig(spec));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
