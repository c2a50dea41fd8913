/* Render every <canvas data-chart="ID"> from the JSON block <script type="application/json" id="ID">.
 *
 * The JSON is {type, labels, datasets, options}, exactly Chart.js's config minus functions.
 * Colours may be CSS custom properties ("var(--status-entered)"): they are resolved against
 * app.css so charts and badges share one palette. Datasets without colours get the palette.
 * Needs vendor/chartjs/chart.umd.min.js loaded first (window.Chart). No inline JS (CSP).
 *
 * spec.wrapLabels (horizontal bars): the category labels wrap to the room the chart leaves
 * them (at most 42 % of its width, two lines, then "…"), at every size: on a 375 px phone long
 * industry names ran off the canvas's left edge. The tooltip keeps the full name.
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

  /* Doughnut/pie legends carry each value with its share and denominator, so the figures can
   * be read without hovering: "转让：1 / 3 = 33.3%". */
  function circularLegendLabels(Chart) {
    var base = Chart.overrides.doughnut.plugins.legend.labels.generateLabels;
    return function (chart) {
      var items = base(chart);
      var data = (chart.data.datasets[0] || {}).data || [];
      var total = data.reduce(function (a, b) { return a + (Number(b) || 0); }, 0);
      items.forEach(function (item) {
        var value = Number(data[item.index]) || 0;
        var share = total ? (value / total * 100).toFixed(1) + "%" : "—";
        item.text = item.text + "：" + numberFormat.format(value) + " / " +
          numberFormat.format(total) + " = " + share;
      });
      return items;
    };
  }

  function isDark(color) {
    var m = /^#([0-9a-f]{6})$/i.exec(String(color || "").trim());
    if (!m) { return true; }
    var n = parseInt(m[1], 16);
    var lum = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
    return lum < 150;
  }

  /* Opt-in (options.plugins.segmentLabels.display): each bar segment carries its series name
   * and value, so a stacked chart is not read by colour alone; "名称 3" where it fits, the value
   * alone where only that fits, nothing on a sliver (the tooltip and the table still have it). */
  var segmentLabels = {
    id: "segmentLabels",
    afterDatasetsDraw: function (chart, args, opts) {
      if (!opts || !opts.display) { return; }
      var ctx = chart.ctx;
      var horizontal = chart.options.indexAxis === "y";
      ctx.save();
      ctx.font = "11px " + FONT;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      chart.data.datasets.forEach(function (ds, i) {
        var meta = chart.getDatasetMeta(i);
        if (meta.hidden) { return; }
        meta.data.forEach(function (bar, j) {
          var value = Number(ds.data[j]) || 0;
          if (!value) { return; }
          var p = bar.getProps(["x", "y", "base", "width", "height"], true);
          var w = horizontal ? Math.abs(p.x - p.base) : p.width;
          var h = horizontal ? p.height : Math.abs(p.base - p.y);
          var cx = horizontal ? (p.x + p.base) / 2 : p.x;
          var cy = horizontal ? p.y : (p.y + p.base) / 2;
          if (h < 13) { return; }
          var text = ds.label + " " + numberFormat.format(value);
          if (ctx.measureText(text).width > w - 4) {
            text = numberFormat.format(value);
            if (ctx.measureText(text).width > w - 4) { return; }
          }
          var bg = Array.isArray(ds.backgroundColor) ? ds.backgroundColor[j] : ds.backgroundColor;
          ctx.fillStyle = isDark(bg) ? "#fff" : "#1f2937";
          ctx.fillText(text, cx, cy);
        });
      });
      ctx.restore();
    }
  };

  var WRAP_SHARE = 0.42; // of the chart's width, at most, for the category labels
  var WRAP_LINES = 2;
  var measurer = null;

  function textWidth(text, font) {
    measurer = measurer || document.createElement("canvas").getContext("2d");
    measurer.font = font;
    return measurer.measureText(text).width;
  }

  /* "C3360 金属表面处理及热处理加工" in lines of at most maxWidth px: a line breaks at its last
   * space when it has one (after the code), else between any two characters (Chinese has no
   * spaces); the last line allowed ends in "…" when text is left over. */
  function wrapLabel(text, maxWidth, font) {
    text = String(text);
    if (textWidth(text, font) <= maxWidth) { return text; }
    var lines = [];
    var rest = text;
    while (rest && lines.length < WRAP_LINES) {
      var n = rest.length;
      while (n > 1 && textWidth(rest.slice(0, n), font) > maxWidth) { n -= 1; }
      var space = rest.lastIndexOf(" ", n);
      if (n < rest.length && space > 0) { n = space; }
      lines.push(rest.slice(0, n).trim());
      rest = rest.slice(n).trim();
    }
    if (rest) {
      var last = lines[lines.length - 1];
      while (last.length > 1 && textWidth(last + "…", font) > maxWidth) { last = last.slice(0, -1); }
      lines[lines.length - 1] = last + "…";
    }
    return lines;
  }

  function wrappedTicks(labels, axis) {
    var ticks = Object.assign({ autoSkip: false }, axis.ticks || {});
    ticks.font = Object.assign({ lineHeight: 1.15 }, ticks.font || {});
    ticks.callback = function (value, index) {
      var size = (ticks.font && ticks.font.size) || window.Chart.defaults.font.size;
      var font = size + "px " + FONT;
      return wrapLabel(labels[index], Math.max(60, this.chart.width * WRAP_SHARE), font);
    };
    return ticks;
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
      options.plugins.legend = Object.assign({}, options.plugins.legend || {});
      options.plugins.legend.labels = Object.assign(
        { generateLabels: circularLegendLabels(window.Chart) }, options.plugins.legend.labels || {});
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
      // A second value axis (e.g. 万元 beside counts) starts at zero too.
      Object.keys(options.scales).forEach(function (key) {
        if (key !== valueAxis && key !== (valueAxis === "y" ? "x" : "y")) {
          options.scales[key] = Object.assign({ beginAtZero: true }, options.scales[key]);
        }
      });
      var catAxis = valueAxis === "y" ? "x" : "y";
      options.scales[catAxis] = Object.assign({ grid: { display: false } }, options.scales[catAxis] || {});
      if (spec.wrapLabels && catAxis === "y") {
        options.scales.y.ticks = wrappedTicks(spec.labels || [], options.scales.y);
      }
    }
    return { type: type, data: { labels: spec.labels || [], datasets: datasets }, options: options };
  }

  function renderAll() {
    if (typeof window.Chart === "undefined") {
      return; // the table fallbacks below each chart still carry the figures
    }
    applyDefaults(window.Chart);
    window.Chart.register(segmentLabels);
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
