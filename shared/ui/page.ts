// The UI's HTML shell. Static markup only; shared/ui/script.ts fills it in. Asset and API URLs are
// relative so the page works under any origin (Workers, Deno, Bun) and under /graph or /stores too.

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The document start every page of ours has: title, stylesheet, deferred script (relative URLs). */
export function pageHead(title: string, css: string, js: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(css)}">
<script src="${escapeHtml(js)}" defer></script>
</head>
`;
}

export function uiPage(title: string): string {
  const t = escapeHtml(title);
  return `${pageHead(title, "static/ui.css", "static/ui.js")}<body>
<header>
  <span class="brand">${t}</span>
  <nav>
    <a href="#query" id="nav-query" class="active">Query</a>
    <a href="#alerts" id="nav-alerts">Alerts</a>
    <a href="#rules" id="nav-rules">Rules</a>
    <a href="#stores" id="nav-stores">Stores</a>
  </nav>
  <label class="token" title="Bearer token sent with every API request (kept in this tab only)">Token
    <input id="token" type="password" autocomplete="off" spellcheck="false" size="12"></label>
</header>
<main>
<section id="query-page">
  <form id="query-form" autocomplete="off">
    <textarea id="expr" rows="2" spellcheck="false" placeholder="Expression (Enter runs it, Shift+Enter adds a line)" aria-label="Expression"></textarea>
    <button type="submit" id="execute">Execute</button>
    <button type="button" id="cancel" hidden>Cancel</button>
  </form>
  <div class="options">
    <select id="metric-insert" aria-label="Insert metric at cursor"><option value="">insert metric at cursor…</option></select>
    <label><input type="checkbox" id="dedup" checked> Use deduplication</label>
    <label><input type="checkbox" id="partial-response" checked> Use partial response</label>
    <label title="Show times in this browser's time zone instead of UTC"><input type="checkbox" id="local-time"> Use local time</label>
    <label>Max source resolution
      <select id="max-source-resolution">
        <option value="">server default</option><option value="auto">auto</option><option value="0s">raw only</option><option value="5m">up to 5m</option><option value="1h">up to 1h</option>
      </select></label>
  </div>
  <div class="views" role="tablist">
    <button type="button" role="tab" id="tab-table" aria-selected="true">Table</button>
    <button type="button" role="tab" id="tab-graph" aria-selected="false">Graph</button>
  </div>
  <div class="controls">
    <span class="graph-only">
      <button type="button" id="range-less" title="Shorter range">&minus;</button>
      <input id="range" value="1h" size="6" aria-label="Range" title="Range, e.g. 30m, 1h, 2d">
      <button type="button" id="range-more" title="Longer range">+</button>
    </span>
    <label><span id="end-label">Evaluation time</span>
      <input id="end" size="22" placeholder="now" title="Empty for now; RFC 3339 (UTC if no zone) or Unix seconds"></label>
    <label class="graph-only">Step <input id="step" size="6" placeholder="auto" title="Resolution, e.g. 15s; empty picks about 250 points"></label>
  </div>
  <div id="status" class="status" role="status"></div>
  <div id="error" class="error" role="alert" hidden></div>
  <ul id="warnings" class="warnings" hidden></ul>
  <div id="table-view">
    <table id="result-table"><tbody></tbody></table>
    <div id="table-note" class="note" hidden></div>
  </div>
  <div id="graph-view" hidden>
    <div id="chart" class="chart"></div>
    <div id="tooltip" class="tooltip" hidden></div>
    <div id="legend" class="legend"></div>
  </div>
</section>
<section id="alerts-page" hidden>
  <div class="page-head"><h2>Alerts</h2>
    <label class="st firing"><input type="checkbox" id="show-firing" checked> Firing <span id="count-firing"></span></label>
    <label class="st pending"><input type="checkbox" id="show-pending" checked> Pending <span id="count-pending"></span></label>
    <label class="st inactive"><input type="checkbox" id="show-inactive" checked> Inactive <span id="count-inactive"></span></label>
    <label><input type="checkbox" id="show-annotations" checked> Show annotations</label>
    <button type="button" id="alerts-expand">Expand all</button>
    <button type="button" id="alerts-refresh">Refresh</button></div>
  <div id="alerts-status" class="status" role="status"></div>
  <div id="alerts-error" class="error" role="alert" hidden></div>
  <ul id="alerts-warnings" class="warnings" hidden></ul>
  <div id="alerts"></div>
</section>
<section id="rules-page" hidden>
  <div class="page-head"><h2>Rules</h2> <button type="button" id="rules-refresh">Refresh</button></div>
  <div id="rules-status" class="status" role="status"></div>
  <div id="rules-error" class="error" role="alert" hidden></div>
  <ul id="rules-warnings" class="warnings" hidden></ul>
  <div id="rules"></div>
</section>
<section id="stores-page" hidden>
  <div class="stores-head"><h2>Stores</h2> <button type="button" id="stores-refresh">Refresh</button></div>
  <div id="stores-status" class="status" role="status"></div>
  <div id="stores-error" class="error" role="alert" hidden></div>
  <div id="stores"></div>
</section>
</main>
</body>
</html>
`;
}
