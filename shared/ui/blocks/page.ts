// The blocks page's HTML shell (static markup; shared/ui/blocks/script.ts draws the timeline). Asset and
// API URLs are relative, so the page works under any route prefix.

import { escapeHtml, pageHead } from "../page.ts";

export function blocksPage(title: string, view: "global" | "loaded", hasLoaded: boolean): string {
  const t = escapeHtml(title);
  const nav = hasLoaded
    ? `<nav><a href="blocks" class="${view === "global" ? "active" : ""}">Blocks (bucket)</a><a href="loaded" class="${view === "loaded" ? "active" : ""}">Loaded (after the compactor's filters)</a></nav>`
    : `<nav><a href="blocks" class="active">Blocks</a></nav>`;
  return `${pageHead(title, "static/blocks.css", "static/blocks.js")}<body data-view="${view}">
<header>
  <span class="brand">${t}</span>
  ${nav}
  <span id="refreshed" class="refreshed"></span>
  <button type="button" id="refresh">Refresh</button>
</header>
<main>
<section id="blocks-page">
  <div class="toolbar">
    <input id="search" size="28" placeholder="ULID (or part of it)" aria-label="Find block by ULID" spellcheck="false">
    <label>Level <select id="level-filter"><option value="">all</option></select></label>
    <label><input type="checkbox" id="only-problems"> Only overlaps and marked blocks</label>
    <button type="button" id="zoom-reset" hidden>Reset zoom</button>
    <span class="hint">Drag across the timeline to zoom; click a block for its meta.json.</span>
  </div>
  <div id="summary" class="summary" role="status"></div>
  <div id="error" class="error" role="alert" hidden></div>
  <div class="legend" id="legend">
    <span><i class="swatch level-1"></i>level 1</span><span><i class="swatch level-2"></i>level 2</span>
    <span><i class="swatch level-3"></i>level 3</span><span><i class="swatch level-4"></i>level 4+</span>
    <span><i class="swatch res-300000"></i>5m</span><span><i class="swatch res-3600000"></i>1h</span>
    <span><i class="swatch gap"></i>gap</span><span><i class="swatch overlap"></i>overlap</span>
    <span><i class="swatch marked-deletion"></i>marked for deletion</span><span><i class="swatch marked-no-compact"></i>no-compact</span>
    <span><i class="swatch marked-no-downsample"></i>no-downsample</span>
  </div>
  <div id="timeline" class="timeline"></div>
</section>
<aside id="details" class="details" hidden>
  <div class="details-head"><span id="details-ulid" class="mono"></span><button type="button" id="details-close" aria-label="Close">&times;</button></div>
  <div id="details-body"></div>
  <div id="admin" class="admin" hidden>
    <input id="mark-detail" placeholder="Reason for marking block..." size="28">
    <div class="admin-buttons">
      <button type="button" data-action="DELETION">Mark Deletion</button>
      <button type="button" data-action="NO_COMPACTION">Mark No Compaction</button>
      <button type="button" data-action="NO_DOWNSAMPLE">Mark No Downsample</button>
    </div>
    <div id="admin-status" class="status"></div>
  </div>
</aside>
</main>
</body>
</html>
`;
}
