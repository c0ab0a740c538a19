/**
 * The page script of the HTML reports (report.html, compare.html), inlined after uPlot. It reads the chart specs of
 * `#report-data` (htmlCharts.ts), draws each with uPlot at the width of its container, redraws on
 * resize and marks `<body data-report-ready>` when done. Formatting follows htmlFormat.ts, shortened for axes.
 * Plain ES2019 in a string: it runs in the browser as is, with no build step.
 */
export const HTML_CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var HEIGHT = 240;

  function fmtMs(ms) {
    if (ms === 0) return '0';
    if (ms < 1000) return trim(ms) + ' ms';
    if (ms < 60000) return trim(ms / 1000) + ' s';
    return fmtElapsed(Math.round(ms / 1000));
  }
  function fmtBytes(b) {
    if (b === 0) return '0';
    if (b < 1024) return Math.round(b) + ' B';
    if (b < 1048576) return trim(b / 1024) + ' KiB';
    if (b < 1073741824) return trim(b / 1048576) + ' MiB';
    return trim(b / 1073741824) + ' GiB';
  }
  function trim(n) {
    return Math.abs(n) >= 100 ? Math.round(n).toString() : String(Number(n.toPrecision(3)));
  }
  var FORMATS = {
    perS: function (v) { return trim(v) + '/s'; },
    count: function (v) { return trim(v); },
    ms: fmtMs,
    bytes: fmtBytes,
    percent: function (v) { return trim(v) + '%'; },
    // A base fee decayed to a few wei would read 7e-9 gwei.
    gwei: function (v) { return v !== 0 && Math.abs(v) < 0.001 ? trim(v * 1e9) + ' wei' : trim(v) + ' gwei'; },
  };
  function fmtElapsed(s) {
    s = Math.round(s);
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    var mm = h > 0 && m < 10 ? '0' + m : String(m);
    return (h > 0 ? h + ':' : '') + mm + ':' + (sec < 10 ? '0' : '') + sec;
  }
  // Round binary sizes for memory axes: 1, 2, 5, 10, ... KiB, MiB, GiB.
  var BYTE_INCRS = [];
  [1024, 1048576, 1073741824].forEach(function (unit) {
    [1, 2, 5, 10, 20, 50, 100, 200, 500].forEach(function (m) { BYTE_INCRS.push(m * unit); });
  });
  var COUNT_INCRS = [];
  [1, 10, 100, 1000, 10000, 100000].forEach(function (unit) {
    [1, 2, 5].forEach(function (m) { COUNT_INCRS.push(m * unit); });
  });
  function fmtValue(fmt) {
    return function (u, v) { return v == null ? '—' : fmt(v); };
  }

  // Spans where the load generator was over a limit (generator health), shaded under every time chart.
  var BAND_FILL = 'rgba(198, 40, 40, 0.13)';
  function bandHooks(chart) {
    var bands = data.bands || [];
    if (chart.xUnit || bands.length === 0) return {};
    return {
      drawClear: [function (u) {
        var ctx = u.ctx;
        var left = u.bbox.left, right = u.bbox.left + u.bbox.width;
        ctx.save();
        ctx.fillStyle = BAND_FILL;
        bands.forEach(function (b) {
          var x0 = Math.max(left, u.valToPos(b.fromS, 'x', true));
          var x1 = Math.min(right, u.valToPos(b.toS, 'x', true));
          if (x1 >= x0) ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 2), u.bbox.height);
        });
        ctx.restore();
      }],
    };
  }

  function options(chart, width) {
    var fmt = FORMATS[chart.unit];
    var xFmt = chart.xUnit ? FORMATS[chart.xUnit] : fmtElapsed;
    var single = chart.x.length === 1;
    var stacked = chart.kind === 'stackedBars';
    var series = chart.series.map(function (s) {
      var opts = {
        label: s.label,
        stroke: s.color,
        width: stacked ? 0 : 2,
        value: fmtValue(fmt),
        spanGaps: s.spanGaps === true,
      };
      if (s.dashed) opts.dash = [6, 4];
      if (single) opts.points = { show: true, size: 9, fill: s.color };
      if (stacked) {
        // Drawn at the running total; the legend shows the series' own count.
        opts.value = function (u, v, si, idx) { return idx == null ? '—' : fmt(s.values[idx] || 0); };
        opts.fill = s.color;
        opts.paths = uPlot.paths.bars({ size: [0.8, 48], align: 0 });
        opts.points = { show: false };
      }
      return opts;
    });
    return {
      width: width,
      height: HEIGHT,
      // Time charts share a cursor; a chart over another quantity has its own.
      cursor: { sync: { key: chart.xUnit ? 'x-' + chart.id : 'run' } },
      legend: { live: true },
      hooks: bandHooks(chart),
      scales: {
        x: {
          time: false,
          range: function (u, min, max) {
            if (min === max) return [min - 1, max + 1];
            return stacked ? [min - 0.5, max + 0.5] : [min, max];
          },
        },
        y: {
          range: function (u, min, max) {
            if (chart.yMax != null) return [0, chart.yMax];
            return [0, max > 0 ? max * 1.1 : 1];
          },
        },
      },
      axes: [
        {
          incrs: chart.xUnit ? undefined : [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400],
          values: function (u, splits) { return splits.map(xFmt); },
          grid: { stroke: '#eee' },
          ticks: { stroke: '#ddd' },
        },
        {
          size: 64,
          incrs: chart.unit === 'bytes' ? BYTE_INCRS : chart.unit === 'count' ? COUNT_INCRS : undefined,
          values: function (u, splits) { return splits.map(fmt); },
          grid: { stroke: '#eee' },
          ticks: { stroke: '#ddd' },
        },
      ],
      series: [{ label: chart.xLabel || 'elapsed', value: function (u, v) { return v == null ? '—' : xFmt(v); } }].concat(series),
    };
  }

  function columns(chart) {
    var values = chart.series.map(function (s) { return s.values; });
    if (chart.kind === 'stackedBars') {
      // Each series is drawn at the total of itself and the series after it, the first (the most
      // frequent) tallest and first, so each later bar covers the lower part of the one before.
      var running = chart.x.map(function () { return 0; });
      for (var k = values.length - 1; k >= 0; k--) {
        var col = values[k];
        running = running.map(function (sum, i) { return sum + (col[i] || 0); });
        values[k] = running.slice();
      }
    }
    return [chart.x].concat(values);
  }

  var plots = [];
  data.charts.forEach(function (chart) {
    var el = document.querySelector('[data-chart="' + chart.id + '"] .plot');
    if (!el) throw new Error('report: no container for chart ' + chart.id);
    try {
      // Its own load error, if any, is already in the console; this names the consequence.
      if (typeof uPlot !== 'function') throw new Error('the chart library (uPlot) did not load');
      var plot = new uPlot(options(chart, el.clientWidth), columns(chart), el);
      plots.push({ el: el, plot: plot });
    } catch (err) {
      el.textContent = 'This chart could not be drawn: ' + err.message;
      console.error(err);
    }
  });

  if (typeof ResizeObserver === 'function') {
    var observer = new ResizeObserver(function () {
      plots.forEach(function (p) {
        if (p.el.clientWidth > 0 && p.el.clientWidth !== p.plot.width) p.plot.setSize({ width: p.el.clientWidth, height: HEIGHT });
      });
    });
    plots.forEach(function (p) { observer.observe(p.el); });
  }
  document.body.setAttribute('data-report-ready', String(plots.length));
})();
`;
