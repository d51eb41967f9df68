/**
 * The inline script of report.html: draws the Pareto scatter and the latency distributions as
 * SVG from the JSON embedded in the page. Plain ES2017, no libraries, no network.
 */
export const reportHtmlScript = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(NS, name);
    for (var key in attrs) node.setAttribute(key, String(attrs[key]));
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function fmt(metric, value) {
    if (value === undefined || value === null || isNaN(value)) return "—";
    var unit = (data.metricUnits[metric] || "");
    if (unit === "bytes") {
      var units = ["B", "KiB", "MiB", "GiB", "TiB"], v = Math.abs(value), i = 0;
      while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
      return (value < 0 ? "-" : "") + (i === 0 ? v.toFixed(0) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)) + " " + units[i];
    }
    if (unit === "ms") return value < 1 ? (value * 1000).toFixed(0) + " µs" : value.toFixed(value < 10 ? 2 : 1) + " ms";
    if (unit === "tokens-per-second") return Number(value.toPrecision(4)) + " tok/s";
    return String(Number(value.toPrecision(4)));
  }

  function shorten(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function niceTicks(min, max, count) {
    if (min === max) { min -= Math.abs(min) * 0.1 || 1; max += Math.abs(max) * 0.1 || 1; }
    var span = max - min, step = Math.pow(10, Math.floor(Math.log10(span / count)));
    var err = (count * step) / span;
    if (err <= 0.15) step *= 10; else if (err <= 0.35) step *= 5; else if (err <= 0.75) step *= 2;
    // From the step at or below the minimum to the step at or above the maximum: every value lies inside.
    var ticks = [], start = Math.floor(min / step) * step, end = Math.ceil(max / step) * step;
    for (var t = start; t <= end + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
    if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
    return ticks;
  }

  function scale(domainMin, domainMax, rangeMin, rangeMax) {
    var d = domainMax - domainMin || 1;
    return function (v) { return rangeMin + ((v - domainMin) / d) * (rangeMax - rangeMin); };
  }

  function drawPareto() {
    var host = document.getElementById("pareto-chart");
    var xSelect = document.getElementById("pareto-x"), ySelect = document.getElementById("pareto-y");
    var xm = xSelect.value, ym = ySelect.value;
    host.textContent = "";
    var points = data.candidates.filter(function (c) { return c.status === "measured" && c.metrics[xm] !== undefined && c.metrics[ym] !== undefined; });
    var W = 720, H = 420, m = { l: 78, r: 24, t: 16, b: 52 };
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "img", "aria-label": "Pareto scatter of " + ym + " against " + xm }, host);
    if (points.length === 0) {
      el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "muted" }, svg, "no candidate has both " + xm + " and " + ym);
      return;
    }
    var xs = points.map(function (p) { return p.metrics[xm]; }), ys = points.map(function (p) { return p.metrics[ym]; });
    var xt = niceTicks(Math.min.apply(null, xs), Math.max.apply(null, xs), 6), yt = niceTicks(Math.min.apply(null, ys), Math.max.apply(null, ys), 6);
    var sx = scale(xt[0], xt[xt.length - 1], m.l, W - m.r), sy = scale(yt[0], yt[yt.length - 1], H - m.b, m.t);
    var axes = el("g", { class: "axis" }, svg);
    el("rect", { x: m.l, y: m.t, width: W - m.r - m.l, height: H - m.b - m.t, class: "frame", fill: "none" }, axes);
    xt.forEach(function (t) {
      el("line", { x1: sx(t), x2: sx(t), y1: m.t, y2: H - m.b, class: "grid" }, axes);
      el("text", { x: sx(t), y: H - m.b + 16, "text-anchor": "middle" }, axes, fmt(xm, t));
    });
    yt.forEach(function (t) {
      el("line", { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t), class: "grid" }, axes);
      el("text", { x: m.l - 6, y: sy(t) + 4, "text-anchor": "end" }, axes, fmt(ym, t));
    });
    el("text", { x: (m.l + W - m.r) / 2, y: H - 12, "text-anchor": "middle", class: "axis-title" }, axes, xm + " (" + data.metricDirections[xm] + ")");
    el("text", { x: 14, y: (m.t + H - m.b) / 2, "text-anchor": "middle", class: "axis-title", transform: "rotate(-90 14 " + (m.t + H - m.b) / 2 + ")" }, axes, ym + " (" + data.metricDirections[ym] + ")");
    // The dashed staircase is the frontier of the two axes shown; filled points are on the frontier of all objectives.
    var better = function (metric, a, b) { return data.metricDirections[metric] === "lower is better" ? a <= b : a >= b; };
    var strictly = function (metric, a, b) { return a !== b && better(metric, a, b); };
    var front2d = points.filter(function (p) {
      return !points.some(function (q) {
        return q !== p && better(xm, q.metrics[xm], p.metrics[xm]) && better(ym, q.metrics[ym], p.metrics[ym]) && (strictly(xm, q.metrics[xm], p.metrics[xm]) || strictly(ym, q.metrics[ym], p.metrics[ym]));
      });
    }).sort(function (a, b) { return a.metrics[xm] - b.metrics[xm]; });
    if (front2d.length > 1) {
      var steps = [];
      front2d.forEach(function (p, k) {
        if (k > 0) steps.push(sx(p.metrics[xm]) + "," + sy(front2d[k - 1].metrics[ym]));
        steps.push(sx(p.metrics[xm]) + "," + sy(p.metrics[ym]));
      });
      el("polyline", { points: steps.join(" "), class: "frontier-line" }, svg);
    }
    var labelled = [];
    // Labels as boxes (approximate text width at 11 px): a label moves down, then up, until it overlaps
    // no earlier label and stays inside the frame; a leader line joins a moved label to its point.
    var overlaps = function (a) {
      return labelled.some(function (b) { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1; });
    };
    points.forEach(function (p) {
      var g = el("g", { class: "point" + (p.frontier ? " on-frontier" : "") + (p.recommended ? " recommended" : "") + (p.passed ? " passed" : "") }, svg);
      var cx = sx(p.metrics[xm]), cy = sy(p.metrics[ym]);
      el("circle", { cx: cx, cy: cy, r: p.recommended ? 8 : 6 }, g);
      // Name the frontier and the recommendation; move a label down while it would overlap an earlier one.
      if (p.frontier || p.recommended) {
        var text = p.short + " " + shorten(p.id, 22), width = text.length * 6.2 + 4;
        // Points in the right half are labelled on their left so the name stays inside the plot.
        var onLeft = cx > (m.l + W - m.r) / 2, lx = onLeft ? cx - 10 : cx + 10;
        var x0 = onLeft ? lx - width : lx, box = null;
        for (var k = 0; k < 60 && !box; k++) {
          var dy = (k % 2 === 0 ? 1 : -1) * Math.ceil(k / 2) * 13, ly = Math.min(Math.max(cy - 8 + dy, m.t + 11), H - m.b - 2);
          var candidate = { x0: x0, x1: x0 + width, y0: ly - 11, y1: ly + 2, y: ly };
          if (!overlaps(candidate)) box = candidate;
        }
        if (box) {
          labelled.push(box);
          if (Math.abs(box.y - (cy - 8)) > 1) el("line", { x1: cx, y1: cy, x2: lx, y2: box.y - 4, class: "leader" }, g);
          el("text", { x: lx, y: box.y, "text-anchor": onLeft ? "end" : "start", class: "point-label" }, g, text);
        }
      }
      el("title", {}, g, p.short + " " + p.id + " — " + p.label + " on " + p.runtime + "\n" + xm + ": " + fmt(xm, p.metrics[xm]) + (p.estimated.indexOf(xm) >= 0 ? " (est.)" : "") + "\n" + ym + ": " + fmt(ym, p.metrics[ym]) + (p.estimated.indexOf(ym) >= 0 ? " (est.)" : "") + (p.frontier ? "\non the Pareto frontier" : "") + (p.passed ? "\npasses the gates" : ""));
    });
  }

  function quantile(sorted, q) {
    var pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  function drawLatency() {
    var host = document.getElementById("latency-chart");
    host.textContent = "";
    var rows = data.candidates.filter(function (c) { return c.status === "measured" && c.latency; });
    var longest = Math.max.apply(null, rows.map(function (r) { return (r.short + " " + shorten(r.id, 34)).length; }).concat([4]));
    var W = 760, rowH = 30, m = { l: Math.min(290, 16 + longest * 6.6), r: 24, t: 10, b: 40 }, H = m.t + m.b + rowH * Math.max(1, rows.length);
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "img", "aria-label": "latency distribution per candidate" }, host);
    if (rows.length === 0) {
      el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "muted" }, svg, "no latency was measured (LLM candidates report tokens/s instead)");
      return;
    }
    var lo = Math.min.apply(null, rows.map(function (r) { return r.latency.minMs; }));
    var hi = Math.max.apply(null, rows.map(function (r) { return r.latency.maxMs; }));
    var ticks = niceTicks(lo, hi, 6), sx = scale(ticks[0], ticks[ticks.length - 1], m.l, W - m.r);
    var axes = el("g", { class: "axis" }, svg);
    ticks.forEach(function (t) {
      el("line", { x1: sx(t), x2: sx(t), y1: m.t, y2: H - m.b, class: "grid" }, axes);
      el("text", { x: sx(t), y: H - m.b + 16, "text-anchor": "middle" }, axes, fmt("p50LatencyMs", t));
    });
    el("text", { x: (m.l + W - m.r) / 2, y: H - 8, "text-anchor": "middle", class: "axis-title" }, axes, "warm inference latency (ms)");
    rows.forEach(function (r, i) {
      var y = m.t + rowH * i + rowH / 2, L = r.latency;
      var g = el("g", { class: "box" + (r.recommended ? " recommended" : "") }, svg);
      el("text", { x: m.l - 8, y: y + 4, "text-anchor": "end", class: "row-label" }, g, r.short + " " + shorten(r.id, 34));
      var q1, q3, boxNote;
      if (r.samples && r.samples.length >= 4) {
        var s = r.samples.slice().sort(function (a, b) { return a - b; });
        q1 = quantile(s, 0.25); q3 = quantile(s, 0.75); boxNote = "box: quartiles of " + s.length + " samples";
        s.forEach(function (v, k) { el("circle", { cx: sx(v), cy: y + ((k * 7919) % 11) - 5, r: 1.3, class: "sample" }, g); });
      } else {
        q1 = L.p50Ms; q3 = L.p90Ms; boxNote = "box: p50–p90 (no raw samples recorded)";
      }
      el("line", { x1: sx(L.minMs), x2: sx(L.p99Ms), y1: y, y2: y, class: "whisker" }, g);
      el("rect", { x: sx(q1), y: y - 8, width: Math.max(1, sx(q3) - sx(q1)), height: 16, class: "iqr" }, g);
      el("line", { x1: sx(L.p50Ms), x2: sx(L.p50Ms), y1: y - 9, y2: y + 9, class: "median" }, g);
      el("line", { x1: sx(L.p95Ms), x2: sx(L.p95Ms), y1: y - 5, y2: y + 5, class: "p95" }, g);
      el("circle", { cx: sx(L.maxMs), cy: y, r: 2.5, class: "max" }, g);
      el("title", {}, g, r.short + " " + r.id + " — " + r.label + "\nmin " + fmt("p50LatencyMs", L.minMs) + " · p50 " + fmt("p50LatencyMs", L.p50Ms) + " · p95 " + fmt("p50LatencyMs", L.p95Ms) + " · p99 " + fmt("p50LatencyMs", L.p99Ms) + " · max " + fmt("p50LatencyMs", L.maxMs) + "\n" + L.count + " runs; " + boxNote);
    });
  }

  ["pareto-x", "pareto-y"].forEach(function (id) { document.getElementById(id).addEventListener("change", drawPareto); });
  drawPareto();
  drawLatency();
  document.body.setAttribute("data-charts", "drawn");
})();
`;
