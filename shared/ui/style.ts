// Stylesheet of the UI page (served as /static/ui.css).

/** What every page of ours shares: box model, body, the dark header bar and its nav (also the blocks page's). */
export const BASE_CSS = `
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f6f7f9}
header{display:flex;align-items:center;gap:24px;padding:8px 16px;background:#1d2330;color:#fff}
.brand{font-weight:600;letter-spacing:.02em}
nav a{color:#c9d1e0;text-decoration:none;margin-right:16px;padding:4px 0}
nav a.active{color:#fff;border-bottom:2px solid #6ea8fe}
button{font:inherit;padding:4px 12px;border:1px solid #c4cad4;border-radius:4px;background:#fff;cursor:pointer}
button:hover{background:#eef1f6}
`;

export const UI_CSS = BASE_CSS + `
.token{margin-left:auto;color:#c9d1e0;font-size:12px}
.token input{margin-left:6px}
main{padding:16px;max-width:1400px;margin:0 auto}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 16px}
#query-form{display:flex;gap:8px}
#expr{flex:1;font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;padding:6px 8px;border:1px solid #c4cad4;border-radius:4px;resize:vertical}
#execute{background:#2f6fde;border-color:#2f6fde;color:#fff}
#execute:hover{background:#255bb8}
.options,.controls{display:flex;flex-wrap:wrap;align-items:center;gap:16px;margin-top:8px}
.controls input{font:inherit;padding:2px 6px;border:1px solid #c4cad4;border-radius:4px}
.controls .graph-only{display:inline-flex;gap:4px;align-items:center}
.views{margin-top:12px;border-bottom:1px solid #dde1e8}
.views button{border:none;border-bottom:2px solid transparent;border-radius:0;background:none}
.views button[aria-selected=true]{border-bottom-color:#2f6fde;font-weight:600}
.status{color:#5b6475;font-size:12px;margin-top:8px;min-height:1em}
.error{margin-top:8px;padding:8px 12px;background:#fdecec;border:1px solid #f3b5b5;color:#8a1c1c;border-radius:4px;white-space:pre-wrap;word-break:break-word}
.warnings{margin:8px 0 0;padding:8px 12px 8px 28px;background:#fff8e1;border:1px solid #f0d78c;color:#6b5200;border-radius:4px}
.note{color:#5b6475;font-size:12px;margin-top:6px}
table{border-collapse:collapse;width:100%;margin-top:8px}
td,th{border-bottom:1px solid #eceef2;padding:4px 8px;text-align:left;vertical-align:top}
th{font-weight:600;background:#f6f7f9}
td.metric{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
td.value{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;white-space:pre;text-align:right;width:1%}
#graph-view{position:relative}
.chart{margin-top:8px;min-height:320px}
.chart svg{display:block;width:100%;height:320px;font:11px system-ui,sans-serif}
.chart .axis text{fill:#5b6475}
.chart .grid line{stroke:#e9ecf1}
.chart .series{fill:none;stroke-width:1.5;stroke-linejoin:round;stroke-linecap:round}
.chart .crosshair{stroke:#8a93a5;stroke-dasharray:3 3}
.chart .selection{fill:rgba(47,111,222,.15);stroke:#2f6fde;stroke-width:1}
.tooltip{position:absolute;pointer-events:none;background:rgba(29,35,48,.92);color:#fff;padding:6px 8px;border-radius:4px;font-size:12px;max-width:480px;word-break:break-all}
.legend{margin-top:8px;max-height:280px;overflow:auto}
.legend-item{display:flex;align-items:center;gap:8px;padding:1px 4px;cursor:pointer;font:12px ui-monospace,Menlo,Consolas,monospace}
.legend-item:hover{background:#f1f4f9}
.legend-item.off{opacity:.35}
.swatch{flex:none;width:12px;height:4px;border-radius:2px}
.stores-head,.page-head{display:flex;flex-wrap:wrap;align-items:center;gap:12px}
.stores-head h2,.page-head h2{font-size:16px;margin:0 8px 0 0}
.page-head label{font-size:13px}
.state{display:inline-block;min-width:64px;text-align:center;margin-right:8px;padding:0 6px;border-radius:3px;font-size:11px;font-weight:600;letter-spacing:.03em}
.state.firing{background:#fdecec;color:#b02a2a}
.state.pending{background:#fff3cd;color:#8a6100}
.state.inactive{background:#e6f4ea;color:#1c7a3d}
.health{font-size:11px;font-weight:600;margin-right:8px}
.health.ok{color:#1c7a3d}
.health.err{color:#b02a2a}
.health.unknown{color:#5b6475}
.group-title{display:flex;flex-wrap:wrap;align-items:baseline;gap:12px;margin:18px 0 6px;font-size:14px;font-weight:600;text-transform:none}
.group-title .file,.group-title .note{font-weight:400;color:#5b6475;font-size:12px}
details.alert-rule{border:1px solid #e3e6ec;border-left:4px solid #1c7a3d;border-radius:4px;margin:6px 0;padding:4px 10px}
details.alert-rule.firing{border-left-color:#b02a2a}
details.alert-rule.pending{border-left-color:#d9a400}
details.alert-rule summary{cursor:pointer;padding:2px 0}
.rule-def{font:12px/1.5 ui-monospace,Menlo,Consolas,monospace;margin:6px 0;overflow-wrap:anywhere}
.rule-def .key{color:#5b6475}
.rule-def .annotations .annotation{padding-left:16px;white-space:pre-wrap}
a.expr{color:#2f6fde;text-decoration:none}
a.expr:hover{text-decoration:underline}
.alerts-table td,.rules-table td{font-size:12px}
tr.alert-annotations td{border-bottom:1px solid #eceef2;color:#3b4354;padding-left:24px}
.annotation{white-space:pre-wrap}
.rules-table{table-layout:fixed}
.rules-table th:nth-child(1){width:46%}
.rules-table th:nth-child(2){width:14%}
.rules-table th:nth-child(4),.rules-table th:nth-child(5){width:11%}
.rule-error{color:#8a1c1c;overflow-wrap:anywhere}
h3{font-size:14px;margin:16px 0 4px;text-transform:capitalize}
.badge{display:inline-block;white-space:nowrap;margin:1px 4px 1px 0;padding:0 6px;border-radius:3px;background:#eef1f6;font:12px ui-monospace,Menlo,Consolas,monospace}
.stores-table{table-layout:fixed}
.stores-table td{overflow-wrap:anywhere}
.stores-table th:nth-child(1){width:18%}
.stores-table th:nth-child(2){width:6%}
.stores-table th:nth-child(3){width:18%}
.stores-table th:nth-child(4),.stores-table th:nth-child(5){width:14%}
.stores-table th:nth-child(6){width:7%}
.up{color:#1c7a3d;font-weight:600}
.down{color:#b02a2a;font-weight:600}
`;
