/**
 * The live dashboard: one self-contained page (no external script, style, font or image; charts drawn
 * on canvas by the page itself). It polls the server's own JSON routes — /dashboard/models, and per
 * model /v2/models/{m}/monitoring, /rollout and /events where the server has them — and keeps the
 * history in the browser. Query `?interval=MS` sets the polling period (default 2000 ms).
 */
const style = `
:root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --ok: #15803d; --bad: #b91c1c; --warn: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 18px; }
#status { color: var(--muted); }
main { padding: 12px 20px; }
section.model { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 0 0 16px; padding: 12px 16px; }
section.model h2 { margin: 0 0 8px; font-size: 16px; }
.chip { display: inline-block; padding: 1px 8px; margin-right: 6px; border-radius: 10px; background: #eef2ff; font-size: 12px; }
.chip.ready { background: #dcfce7; } .chip.failed, .chip.unloaded, .chip.stopped { background: #fee2e2; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 12px; }
.panel { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; min-height: 120px; }
.panel h3 { margin: 0 0 6px; font-size: 13px; color: var(--muted); font-weight: 600; }
canvas { width: 100%; height: 180px; display: block; }
.panel.split canvas { height: 70px; }
.panel.certification { grid-column: 1 / -1; }
.na { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
td, th { text-align: left; padding: 2px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
.figures { font-variant-numeric: tabular-nums; font-size: 12px; color: var(--muted); margin-top: 4px; }
`;

// Plain JavaScript run by the browser: no template literals inside, so it can live in this string.
const script = String.raw`
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var intervalMs = Math.max(250, Number(params.get("interval")) || 2000);
  var maxPoints = 240;
  var palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
  var history = {};
  var sections = {};
  var updates = 0;
  var statusEl = document.getElementById("status");
  var main = document.getElementById("models");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function num(value, digits) {
    return value === null || value === undefined || !isFinite(value) ? "–" : Number(value).toFixed(digits);
  }
  function getJson(url) {
    return fetch(url, { cache: "no-store" }).then(function (response) {
      if (response.ok) return response.json().then(function (data) { return { ok: true, data: data }; });
      return response.text().then(function (text) { return { ok: false, status: response.status, text: text.slice(0, 200) }; });
    });
  }

  function sizeCanvas(canvas) {
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth || 400, height = canvas.clientHeight || 180;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    return { ctx: ctx, width: width, height: height };
  }

  // series: [{ label, color, dash, points: [{ t, v }] }]; budgets: [{ label, value }]
  function drawLines(canvas, series, options) {
    var c = sizeCanvas(canvas), ctx = c.ctx;
    var left = 48, right = 8, top = 8, bottom = 34;
    var plotW = c.width - left - right, plotH = c.height - top - bottom;
    var now = Date.now(), spanMs = Math.max(intervalMs * 10, options.windowMs || 120000);
    var max = 0, drawn = 0;
    series.forEach(function (s) { s.points.forEach(function (p) { if (isFinite(p.v) && p.v > max) max = p.v; }); });
    // a budget far above the data would flatten it: such budgets are named in the corner instead of drawn
    var dataMax = max, offScale = [];
    var budgets = (options.budgets || []).filter(function (b) {
      if (!isFinite(b.value)) return false;
      if (dataMax > 0 && b.value > 3 * dataMax) { offScale.push(b.label); return false; }
      return true;
    });
    budgets.forEach(function (b) { if (b.value > max) max = b.value; });
    if (!(max > 0)) max = options.minMax || 1;
    max *= 1.1;
    ctx.strokeStyle = "#e5e7eb"; ctx.fillStyle = "#6b7280"; ctx.lineWidth = 1;
    for (var i = 0; i <= 4; i += 1) {
      var y = top + plotH - (plotH * i) / 4;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + plotW, y); ctx.stroke();
      ctx.fillText(num((max * i) / 4, max >= 10 ? 0 : max >= 1 ? 1 : 3), 4, y + 4);
    }
    ctx.fillText(Math.round(spanMs / 1000) + " s ago", left, c.height - 20);
    ctx.fillText("now", left + plotW - 20, c.height - 20);
    var x = function (t) { return left + plotW - ((now - t) / spanMs) * plotW; };
    var yOf = function (v) { return top + plotH - (v / max) * plotH; };
    if (offScale.length) { ctx.fillStyle = "#b91c1c"; ctx.fillText(offScale.join(", ") + " (above the scale)", left + 4, top + 10); }
    budgets.forEach(function (b) {
      ctx.save(); ctx.setLineDash([4, 4]); ctx.strokeStyle = "#b91c1c";
      ctx.beginPath(); ctx.moveTo(left, yOf(b.value)); ctx.lineTo(left + plotW, yOf(b.value)); ctx.stroke();
      ctx.fillStyle = "#b91c1c"; ctx.fillText(b.label, left + 4, yOf(b.value) - 3); ctx.restore();
    });
    var legendX = left;
    series.forEach(function (s) {
      ctx.save(); ctx.strokeStyle = s.color; ctx.lineWidth = 2; if (s.dash) ctx.setLineDash(s.dash);
      ctx.beginPath();
      var started = false;
      s.points.forEach(function (p) {
        if (!isFinite(p.v) || now - p.t > spanMs) { started = false; return; }
        if (started) ctx.lineTo(x(p.t), yOf(p.v)); else ctx.moveTo(x(p.t), yOf(p.v));
        started = true; drawn += 1;
      });
      ctx.stroke(); ctx.restore();
      ctx.fillStyle = s.color; ctx.fillRect(legendX, c.height - 10, 10, 3);
      ctx.fillStyle = "#374151"; ctx.fillText(s.label, legendX + 14, c.height - 5);
      legendX += 24 + ctx.measureText(s.label).width;
    });
    canvas.setAttribute("data-points", String(drawn));
    canvas.setAttribute("data-max", String(max));
  }

  // bars: [{ label, value, marker, bad }]
  function drawBars(canvas, bars, options) {
    var c = sizeCanvas(canvas), ctx = c.ctx;
    var left = 150, right = 80, top = 6, rowH = Math.max(12, Math.min(22, (c.height - top - 6) / Math.max(1, bars.length)));
    var max = options.max || 0;
    bars.forEach(function (b) { if (isFinite(b.value) && b.value > max) max = b.value; if (isFinite(b.marker) && b.marker > max) max = b.marker; });
    if (!(max > 0)) max = 1;
    var plotW = c.width - left - right;
    bars.forEach(function (b, i) {
      var y = top + i * rowH;
      ctx.fillStyle = "#374151"; ctx.fillText(b.label.slice(0, 26), 4, y + rowH * 0.7);
      ctx.fillStyle = b.bad ? "#dc2626" : b.color || "#2563eb";
      ctx.fillRect(left, y + 2, Math.max(1, (Math.max(0, b.value) / max) * plotW), rowH - 5);
      ctx.fillStyle = "#374151"; ctx.fillText(b.text || num(b.value, 3), left + Math.max(1, (Math.max(0, b.value) / max) * plotW) + 4, y + rowH * 0.7);
      if (isFinite(b.marker)) { ctx.fillStyle = "#111827"; ctx.fillRect(left + (b.marker / max) * plotW - 1, y, 2, rowH - 1); }
    });
    canvas.setAttribute("data-points", String(bars.length));
  }

  function panel(grid, title, className) {
    var box = el("div", "panel " + (className || ""));
    box.appendChild(el("h3", "", title));
    grid.appendChild(box);
    return box;
  }
  function canvasIn(box, name) {
    var canvas = el("canvas", "chart");
    canvas.setAttribute("data-chart", name);
    box.appendChild(canvas);
    var figures = el("div", "figures");
    box.appendChild(figures);
    return { canvas: canvas, figures: figures };
  }

  function ensureSection(name) {
    if (sections[name]) return sections[name];
    var section = el("section", "model");
    section.id = "model-" + name;
    var title = el("h2", "", name + " ");
    var chips = el("span", "chips");
    title.appendChild(chips);
    section.appendChild(title);
    var grid = el("div", "grid");
    section.appendChild(grid);
    var s = {
      chips: chips,
      rate: canvasIn(panel(grid, "Request rate (requests/s, per version)"), "rate"),
      latency: canvasIn(panel(grid, "Latency p50 / p95 / p99 (ms, 2xx answers)"), "latency"),
      errors: canvasIn(panel(grid, "Error rate (5xx share)"), "errors"),
      split: panel(grid, "Traffic split and roll-out step", "split"),
      drift: panel(grid, "Drift per feature", "drift"),
      events: panel(grid, "Recent alerts and automated actions", "events"),
      certification: panel(grid, "Certification", "certification"),
    };
    s.splitChart = canvasIn(s.split, "split");
    s.splitText = el("div", "figures");
    s.split.appendChild(s.splitText);
    s.driftChart = canvasIn(s.drift, "drift");
    s.eventsBody = el("div", "");
    s.events.appendChild(s.eventsBody);
    s.certificationBody = el("div", "");
    s.certification.appendChild(s.certificationBody);
    main.appendChild(section);
    sections[name] = s;
    return s;
  }

  function record(key, sample) {
    var list = history[key] || (history[key] = []);
    list.push(sample);
    if (list.length > maxPoints) list.shift();
  }

  function renderCertification(s, versions) {
    var table = el("table", "");
    var head = el("tr", "");
    ["version", "verdict", "validated", "runtime", "budgets", "certified load"].forEach(function (h) { head.appendChild(el("th", "", h)); });
    table.appendChild(head);
    versions.forEach(function (v) {
      var row = el("tr", "");
      row.appendChild(el("td", "", v.version));
      var c = v.certification;
      if (!c) {
        var cell = el("td", "na", v.certificationError ? "unreadable: " + v.certificationError : "no certification given (serve --certification)");
        cell.colSpan = 5; row.appendChild(cell);
      } else {
        row.appendChild(el("td", c.approved ? "ok" : "bad", c.approved ? "approved (" + c.checks.passed + "/" + c.checks.total + " checks)" : "NOT approved: " + c.checks.failed.length + " failed"));
        row.appendChild(el("td", "", c.validatedAt.replace("T", " ").slice(0, 19) + " on " + c.machine));
        row.appendChild(el("td", "", c.runtime + " · " + c.artifact.name + " · sha256 " + c.artifact.sha256.slice(0, 12)));
        row.appendChild(el("td", "", "p95 " + c.budgets.p95Ms + " ms · p99 " + c.budgets.p99Ms + " ms · errors " + c.budgets.errorRate));
        row.appendChild(el("td", "", num(c.stress.throughputPerSec, 1) + " req/s, p99 " + num(c.stress.p99Ms, 1) + " ms at " + c.stress.concurrency + " in flight"));
      }
      table.appendChild(row);
    });
    s.certificationBody.replaceChildren(table);
  }

  function renderEvents(s, result, available, reason) {
    if (!available) { s.eventsBody.replaceChildren(el("div", "na", "not available on this server")); return; }
    if (reason) { s.eventsBody.replaceChildren(el("div", "na", "not available for this model: " + reason)); return; }
    if (!result.ok) { s.eventsBody.replaceChildren(el("div", "na", result.status === 404 ? "not available on this server" : "not available (HTTP " + result.status + "): " + result.text)); return; }
    var events = Array.isArray(result.data) ? result.data.slice(0, 12) : [];
    if (events.length === 0) { s.eventsBody.replaceChildren(el("div", "na", "no alerts or actions yet")); return; }
    var table = el("table", "");
    events.forEach(function (e) {
      var row = el("tr", "");
      row.appendChild(el("td", "", String(e.atIso || e.at || "").replace("T", " ").slice(0, 19)));
      row.appendChild(el("td", /abort|rollback|alert|fail/i.test(String(e.kind)) ? "bad" : "", String(e.kind || "") + (e.version ? " " + e.version : "")));
      row.appendChild(el("td", "", String(e.actor || "") + " " + JSON.stringify(e.details || {}).slice(0, 160)));
      table.appendChild(row);
    });
    s.eventsBody.replaceChildren(table);
  }

  function renderSplit(s, name, versions, monitoring, rollout, available) {
    var bars = [];
    var text;
    if (available && rollout && rollout.ok && rollout.data && rollout.data.stable) {
      var r = rollout.data;
      bars.push({ label: "stable " + r.stable.version, value: r.stable.weight * 100, text: num(r.stable.weight * 100, 0) + " %", color: palette[0] });
      if (r.candidate) bars.push({ label: "candidate " + r.candidate.version, value: r.candidate.weight * 100, text: num(r.candidate.weight * 100, 0) + " %", color: palette[1] });
      var last = r.analysis && r.analysis.length ? r.analysis[r.analysis.length - 1] : null;
      text = "state " + r.state + (r.steps && r.steps.length ? " · step " + (r.stepIndex + 1) + " of " + r.steps.length + " (" + r.steps.join(" → ") + " %)" : "") + (last ? " · last analysis: " + last.verdict : "");
    } else {
      var total = 0;
      (monitoring || []).forEach(function (v) { total += v.throughputRps || 0; });
      (monitoring || []).forEach(function (v, i) { bars.push({ label: "version " + v.version, value: total > 0 ? ((v.throughputRps || 0) / total) * 100 : 0, text: total > 0 ? num(((v.throughputRps || 0) / total) * 100, 0) + " %" : "no traffic", color: palette[i % palette.length] }); });
      text = "measured share of requests per version (window throughput); roll-out: " + (available ? "not available (HTTP " + (rollout ? rollout.status : "?") + ")" : "not available on this server");
    }
    drawBars(s.splitChart.canvas, bars, { max: 100 });
    s.splitText.textContent = text;
  }

  function renderDrift(s, monitoring, available) {
    if (!available) { s.driftChart.figures.textContent = "monitoring: not available on this server"; drawBars(s.driftChart.canvas, [], {}); return; }
    var bars = [], notes = [];
    (monitoring || []).forEach(function (v) {
      var d = v.drift;
      if (!d || d.status !== "evaluated") { notes.push(v.version + ": " + (d ? d.status : "no drift section")); return; }
      notes.push(v.version + ": " + (d.drifted ? "DRIFTED" : "no drift") + " (" + num(d.driftedShare * 100, 0) + " % of features, " + d.windowRows + " window rows vs " + d.referenceRows + " reference)");
      d.features.forEach(function (f) {
        var pValue = f.method === "ks" || f.method === "chi-square";
        bars.push({ label: v.version + " " + f.feature, value: pValue ? 1 - f.score : f.score, marker: pValue ? 1 - f.threshold : f.threshold, bad: f.drifted, text: f.method + " " + num(f.score, 3) });
      });
    });
    drawBars(s.driftChart.canvas, bars, {});
    s.driftChart.figures.textContent = notes.join(" · ") + (bars.length ? " — bars: 1 − p for tests, distance otherwise; black mark: threshold" : "");
  }

  function renderModel(name, versions, endpoints) {
    var s = ensureSection(name);
    s.chips.replaceChildren.apply(s.chips, versions.map(function (v) { return el("span", "chip " + v.state, v.version + " · " + v.format + " · " + v.state); }));
    renderCertification(s, versions);
    var base = "/v2/models/" + encodeURIComponent(name);
    return Promise.all([
      endpoints.monitoring ? getJson(base + "/monitoring") : Promise.resolve(null),
      endpoints.rollout ? getJson(base + "/rollout") : Promise.resolve(null),
      endpoints.events && !versions[0].eventsUnavailable ? getJson(base + "/events?limit=12") : Promise.resolve(null),
    ]).then(function (results) {
      var monitoring = results[0] && results[0].ok ? results[0].data.versions : null;
      var now = Date.now();
      (monitoring || []).forEach(function (v) {
        record(name + ":" + v.version, { t: now, rps: v.throughputRps, p50: v.latencyMs ? v.latencyMs.p50 : NaN, p95: v.latencyMs ? v.latencyMs.p95 : NaN, p99: v.latencyMs ? v.latencyMs.p99 : NaN, err: v.errorRate, seen: v.requestsSeen });
      });
      var rateSeries = [], latencySeries = [], errorSeries = [], figures = [];
      versions.forEach(function (v, i) {
        var h = history[name + ":" + v.version] || [];
        var color = palette[i % palette.length];
        rateSeries.push({ label: v.version, color: color, points: h.map(function (p) { return { t: p.t, v: p.rps }; }) });
        errorSeries.push({ label: v.version, color: color, points: h.map(function (p) { return { t: p.t, v: p.err }; }) });
        latencySeries.push({ label: v.version + " p50", color: color, dash: [2, 3], points: h.map(function (p) { return { t: p.t, v: p.p50 }; }) });
        latencySeries.push({ label: v.version + " p95", color: color, dash: [6, 3], points: h.map(function (p) { return { t: p.t, v: p.p95 }; }) });
        latencySeries.push({ label: v.version + " p99", color: color, points: h.map(function (p) { return { t: p.t, v: p.p99 }; }) });
        var last = h[h.length - 1];
        if (last) figures.push(v.version + ": " + num(last.rps, 2) + " req/s · p50 " + num(last.p50, 1) + " / p95 " + num(last.p95, 1) + " / p99 " + num(last.p99, 1) + " ms · errors " + num((last.err || 0) * 100, 2) + " % · " + last.seen + " requests");
      });
      var certified = versions.filter(function (v) { return v.certification; })[0];
      var budgets = certified ? [{ label: "p95 budget " + certified.certification.budgets.p95Ms + " ms", value: certified.certification.budgets.p95Ms }, { label: "p99 budget " + certified.certification.budgets.p99Ms + " ms", value: certified.certification.budgets.p99Ms }] : [];
      if (!endpoints.monitoring) {
        [s.rate, s.latency, s.errors].forEach(function (c) { c.figures.textContent = "monitoring: not available on this server"; });
      } else {
        drawLines(s.rate.canvas, rateSeries, { minMax: 1 });
        drawLines(s.latency.canvas, latencySeries, { budgets: budgets.filter(function (b) { return b.value < 1e6; }), minMax: 1 });
        drawLines(s.errors.canvas, errorSeries, { budgets: certified ? [{ label: "error budget " + certified.certification.budgets.errorRate, value: certified.certification.budgets.errorRate }] : [], minMax: 0.01 });
        s.rate.figures.textContent = figures.join("  |  ") || "no requests yet";
        s.rate.figures.setAttribute("data-figures", figures.join("|"));
        s.latency.figures.textContent = budgets.length ? "dashed red: the certification's budgets" : "no certification: no budgets";
      }
      renderSplit(s, name, versions, monitoring, results[1], endpoints.rollout);
      renderDrift(s, monitoring, endpoints.monitoring);
      renderEvents(s, results[2] || {}, endpoints.events, versions[0].eventsUnavailable);
    });
  }

  function poll() {
    getJson("/dashboard/models").then(function (index) {
      if (!index.ok) throw new Error("the server answered " + index.status + " for /dashboard/models");
      var byName = {};
      index.data.models.forEach(function (m) { (byName[m.name] = byName[m.name] || []).push(m); });
      return Promise.all(Object.keys(byName).map(function (name) { return renderModel(name, byName[name], index.data.endpoints); })).then(function () {
        updates += 1;
        document.body.setAttribute("data-updates", String(updates));
        document.body.setAttribute("data-charts", "drawn");
        statusEl.textContent = "live · updated " + new Date().toLocaleTimeString() + " · every " + intervalMs + " ms";
      });
    }).catch(function (error) {
      statusEl.textContent = "server unreachable: " + (error && error.message ? error.message : String(error)) + " — retrying";
    }).then(function () { setTimeout(poll, intervalMs); });
  }
  poll();
})();
`;

export function renderDashboardPage(): string {
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>edgeforge serve — dashboard</title>",
    // no favicon request
    '<link rel="icon" href="data:,">',
    `<style>${style}</style></head>`,
    '<body data-updates="0" data-charts="pending">',
    '<header><h1>edgeforge serve</h1><span id="status">connecting…</span></header>',
    '<main id="models"></main>',
    `<script>${script}</script>`,
    "</body></html>",
  ].join("\n");
}
