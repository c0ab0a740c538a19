/** The report's own stylesheet, inlined after uPlot's: system fonts, a few colors, fluid width. */
export const HTML_STYLE = `
:root { --fg: #1d232a; --muted: #5f6b76; --line: #e1e5ea; --bg: #fff; --panel: #f6f8fa; --pass: #1a7f37; --fail: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1400px; margin: 0 auto; padding: 20px clamp(12px, 3vw, 32px) 48px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px; border-bottom: 1px solid var(--line); padding-bottom: 12px; }
header h1 { font-size: 22px; margin: 0; flex: 1 1 auto; overflow-wrap: anywhere; }
header .meta { color: var(--muted); width: 100%; }
.verdict { font-size: 18px; font-weight: 700; padding: 4px 14px; border-radius: 6px; color: #fff; }
.verdict.pass { background: var(--pass); color: #fff; } .verdict.fail { background: var(--fail); color: #fff; }
.warning { background: #fff4e5; border: 1px solid #f0c36d; padding: 8px 12px; border-radius: 6px; margin-top: 12px; }
h2 { font-size: 17px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 0 0 8px; font-weight: 600; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 8px; margin: 16px 0; }
.tile { background: var(--panel); border-radius: 6px; padding: 8px 12px; }
.tile span { display: block; color: var(--muted); font-size: 12px; }
.tile b { font-size: 18px; font-variant-numeric: tabular-nums; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 20px; }
section > .chart + .chart { margin-top: 20px; }
.chart { min-width: 0; overflow: hidden; border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
.chart .plot { width: 100%; min-height: 240px; }
.empty { color: var(--muted); background: var(--panel); border-radius: 6px; padding: 12px; margin: 0; }
.chart .empty { min-height: 80px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
table.numeric td:not(:first-child), table.numeric th:not(:first-child) { text-align: right; }
table.numeric td { white-space: nowrap; }
table.keyvalue td:first-child { color: var(--muted); width: 30%; }
table.keyvalue thead { display: none; }
table.config td { overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.pass { color: var(--pass); font-weight: 700; } .fail { color: var(--fail); font-weight: 700; }
.bar-legend { display: flex; gap: 14px; color: var(--muted); font-size: 12px; margin-bottom: 6px; }
.bar-legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px; vertical-align: -2px; }
.bars { display: grid; grid-template-columns: max-content minmax(120px, 1fr) max-content; gap: 4px 12px; align-items: center; }
.bar-label { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.bars svg.bar { width: 100%; height: 20px; display: block; }
.bar-values { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.bar-axis { position: relative; height: 18px; border-top: 1px solid #ccc; }
.bar-axis .tick { position: absolute; top: 2px; transform: translateX(-50%); color: var(--muted); font-size: 11px; white-space: nowrap; }
.bar-axis .tick:first-child { transform: none; }
.bar-axis .tick:last-child { transform: translateX(-100%); }
.split { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 20px; align-items: start; }
@media (max-width: 640px) { .bars { grid-template-columns: max-content minmax(80px, 1fr); } .bar-values { grid-column: 1 / -1; margin-bottom: 6px; } }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
`;
