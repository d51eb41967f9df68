/** The inline stylesheet of report.html (no web fonts: nothing is fetched). */
export const reportHtmlStyle = `
:root { --fg: #1d232b; --muted: #5b6673; --line: #d8dde3; --ok: #1a7f37; --bad: #c62828; --accent: #1f6feb; --bg: #fff; --soft: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; padding: 24px 32px 64px; max-width: 1400px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.muted, figcaption { color: var(--muted); } figcaption { font-size: 12.5px; margin-top: 6px; }
.verdict { display: inline-block; padding: 4px 10px; border-radius: 6px; font-weight: 600; margin: 8px 0; }
.verdict.pass { background: #e6f4ea; color: var(--ok); } .verdict.fail { background: #fdecea; color: var(--bad); }
figure, .table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.recommended td { background: #eef5ff; } .ok { color: var(--ok); } .bad { color: var(--bad); }
figure { margin: 12px 0; padding: 12px; border: 1px solid var(--line); border-radius: 8px; background: var(--soft); }
.chart svg { background: #fff; border-radius: 4px; display: block; }
.axis text { font-size: 11px; fill: var(--muted); } .axis-title { font-size: 12px; fill: var(--fg); }
.grid { stroke: #eceff3; } .frontier-line { fill: none; stroke: var(--accent); stroke-width: 1.5; stroke-dasharray: 5 3; }
.point circle { fill: #fff; stroke: #8a96a3; stroke-width: 1.5; } .point.on-frontier circle { fill: var(--accent); stroke: var(--accent); }
.point.recommended circle { stroke: #e36209; stroke-width: 3; } .point-label { font-size: 11px; fill: var(--fg); }
.iqr { fill: #cfe0fb; stroke: var(--accent); } .whisker { stroke: #8a96a3; } .median { stroke: var(--fg); stroke-width: 2; }
.p95 { stroke: #e36209; stroke-width: 2; } .max { fill: #8a96a3; } .sample { fill: #1f6feb55; } .row-label { font-size: 11.5px; fill: var(--fg); }
.box.recommended .iqr { fill: #ffe2c7; stroke: #e36209; }
.frame { stroke: var(--line); } .leader { stroke: #8a96a3; stroke-width: 0.8; }
#candidates-table { width: max-content; min-width: 100%; } .legend { font-size: 12.5px; color: var(--muted); }
.controls { font-size: 13px; margin-bottom: 6px; } select { font: inherit; }
details { margin: 8px 0; } code { font-size: 12.5px; background: var(--soft); padding: 1px 4px; border-radius: 4px; }
ul { margin: 4px 0; padding-left: 20px; } pre { background: var(--soft); padding: 8px; overflow: auto; font-size: 12px; }
`;
