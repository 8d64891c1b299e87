"""The report page's stylesheet: inlined into the page, so it needs no network and no files."""

STYLE = """
:root { --ink:#1d2330; --muted:#667085; --line:#e4e7ec; --soft:#f6f7f9; --accent:#1f5fa8; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  color:var(--ink); background:#eef1f5; }
main { max-width:1240px; margin:0 auto; padding:28px 32px 48px; background:#fff; }
h1 { font-size:26px; margin:0 0 4px; }
h2 { font-size:19px; margin:34px 0 12px; padding-bottom:6px; border-bottom:2px solid var(--line); }
h3 { font-size:15px; margin:22px 0 8px; color:#344054; }
.meta { color:var(--muted); margin:0 0 18px; }
.mono, td a code { white-space:nowrap; }
table.narrow { width:auto; min-width:50%; }
.scroll { overflow-x:auto; }
td:first-child { min-width:120px; max-width:300px; }
code, .mono { font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;
  font-size:12.5px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(118px,1fr)); gap:12px; }
.card { background:var(--soft); border:1px solid var(--line); border-radius:10px;
  padding:10px 14px; }
.card b { display:block; font-size:24px; }
.card span { color:var(--muted); font-size:12.5px; }
.card.bad b { color:#b42318; }
table { border-collapse:collapse; width:100%; margin:6px 0 10px; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { background:var(--soft); font-weight:600; color:#344054; white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
tr:hover td { background:#fafbfc; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px;
  font-weight:600; background:#eaecf0; color:#344054; white-space:nowrap; }
.sev-low { background:#e3f4ea; color:#1e6b3a; } .sev-medium { background:#fff3d6; color:#8a5a00; }
.sev-high { background:#ffe4cc; color:#9a3b00; }
.sev-critical { background:#fdd8d6; color:#a01c12; }
.st-open { background:#fde7e7; color:#a01c12; } .st-resolved { background:#e3f4ea; color:#1e6b3a; }
.st-closed { background:#eaecf0; color:#475467; }
.miss { color:#b42318; font-weight:600; }
.fu-ack_missed, .fu-completion_missed { background:#fdd8d6; color:#a01c12; }
.fu-review { background:#e0ebfa; color:#1f4f8a; }
.fu-open_task { background:#fff3d6; color:#8a5a00; }
.incident { margin-top:30px; border:1px solid var(--line); border-radius:12px;
  padding:4px 20px 14px; }
.incident h2 { border:0; margin-top:14px; }
.facts { display:grid; grid-template-columns:repeat(auto-fill,minmax(220px,1fr)); gap:4px 18px;
  margin:0 0 8px; }
.facts div { padding:2px 0; }
.facts dt { color:var(--muted); font-size:12px; }
.facts dd { margin:0; }
.legend { display:flex; flex-wrap:wrap; gap:6px 14px; color:#475467; font-size:12.5px;
  margin:8px 0 4px; }
.legend svg { vertical-align:middle; margin-right:5px; }
.chart { display:block; border:1px solid var(--line); border-radius:8px; margin:6px 0 8px; }
.chart .lane { fill:#fff; } .chart .lane.alt { fill:#f8f9fb; } .chart .lane.head { fill:#fdf6ec; }
.chart .label { font-size:12.5px; fill:#1d2330; } .chart .label.strong { font-weight:700; }
.chart .role { fill:#8a94a6; font-size:11.5px; }
.chart .grid { stroke:#e4e7ec; stroke-width:1; }
.chart .tick { font-size:11px; fill:#667085; text-anchor:middle; }
.chart .tick.day { text-anchor:start; font-weight:600; }
.seg-wait { fill:#9fc3ec; } .seg-work { fill:#1f5fa8; } .seg-cancel { fill:#c3c8d0; }
.seg-fail { fill:#c4320a; } .inc-open { fill:#f2a65a; } .inc-resolved { fill:#7fc29b; }
.open-end { fill-opacity:.55; stroke:#475467; stroke-width:1; stroke-dasharray:4 3; }
.open-arrow { fill:#475467; }
.escalation { fill:#f79009; stroke:#93370d; stroke-width:.8; }
.breach line { stroke:#d92d20; stroke-width:2.2; } .breach circle { fill:#d92d20; }
.sev-change { fill:#a01c12; } .sev-label { font-size:10.5px; fill:#a01c12; font-weight:600; }
.more { color:var(--muted); font-style:italic; }
footer { margin-top:40px; color:var(--muted); font-size:12px; }
"""
"""CSS for the HTML report and its SVG charts (class names as html.py and chart.py use them)."""
