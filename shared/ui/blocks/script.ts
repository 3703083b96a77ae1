// The blocks page's browser script (served as static/blocks.js): plain JS in a string, no build step,
// same rules as the query UI's script (shared/ui or edge/ui script.ts): no template literals inside,
// DOM text only through textContent, relative URLs only.
//
// What it draws, from api/v1/blocks (shared/ui/blocks/api.ts):
//   - one section per stream (external label set), titled by --label's value when set;
//   - a coverage strip per stream: where its live (not deletion-marked) blocks of the finest resolution
//     hold data, `.gap` where nothing does between its first and last block, `.overlap` where two live
//     blocks of one resolution overlap and neither is a compaction of the other (its sources do not
//     contain the other's): what halts a compactor without vertical compaction;
//   - one row per resolution and compaction level (more rows where blocks of that level overlap, as
//     Thanos' viewer splits them), each block a `.block` button placed at
//     left = (minTime - gridMin) / (gridMax - gridMin) of the track, width likewise;
//   - marks on the blocks (deletion striped, no-compact outlined, no-downsample dotted) and, in the
//     stream's header, the planner's backlog (compactions waiting and the blocks they take, blocks due
//     for downsampling) from the API's `groups`.
// Clicking a block shows its meta.json, marks, sources and sizes; with admin operations enabled, it
// can be marked (POST api/v1/blocks/mark, as Thanos' page does).

export const BLOCKS_SCRIPT = String.raw`(() => {
"use strict";
const $ = (id) => document.getElementById(id);
const VIEW = document.body.dataset.view || "global";
const LABEL_W = 140;
const state = { data: null, admin: false, selected: null, zoom: null, search: "", level: "", onlyProblems: false };

function el(tag, attrs, kids) {
  const e = document.createElement(tag);
  if (attrs) for (const k of Object.keys(attrs)) {
    const v = attrs[k];
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = String(v);
    else if (k === "className") e.className = v;
    else e.setAttribute(k, String(v));
  }
  if (kids !== undefined) e.append(...[].concat(kids).filter((x) => x !== null && x !== undefined));
  return e;
}
function pad(n, w) { return String(n).padStart(w || 2, "0"); }
function utc(ms) {
  const d = new Date(ms);
  return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " UTC";
}
function dur(ms) {
  if (ms <= 0) return "0s";
  const u = [["d", 864e5], ["h", 36e5], ["m", 6e4], ["s", 1e3]];
  let out = "";
  for (const [n, v] of u) { const k = Math.floor(ms / v); if (k > 0) { out += k + n; ms -= k * v; } }
  return out || ms + "ms";
}
function plural(n, w) { return n + " " + w + (n === 1 ? "" : "s"); }
function res(r) { return r === 0 ? "raw" : r === 300000 ? "5m" : r === 3600000 ? "1h" : dur(r); }
function bytes(b) {
  if (!(b >= 0)) return "unknown";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 ? b : b.toFixed(2)) + " " + units[i];
}
function labelsText(ls) {
  const ks = Object.keys(ls || {}).sort();
  return "{" + ks.map((k) => k + "=" + JSON.stringify(ls[k])).join(", ") + "}";
}
function sizeOf(b) {
  const files = (b.thanos && b.thanos.files) || [];
  let index = 0, chunks = 0, known = false;
  for (const f of files) {
    if (f.rel_path === "index") { index += f.size_bytes || 0; known = true; }
    else if (f.rel_path.indexOf("chunks/") === 0) { chunks += f.size_bytes || 0; known = true; }
  }
  return known ? { index, chunks, total: index + chunks } : null;
}

async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  const text = await r.text();
  let j = null;
  try { j = JSON.parse(text); } catch (e) { /* reported below */ }
  if (r.ok && j && j.status === "success") return j.data;
  throw new Error(j && j.error ? j.error : "HTTP " + r.status + ": " + text.slice(0, 300));
}

// ---- layout ----
function marksOf(id) { return (state.data.marks && state.data.marks[id]) || {}; }
function covers(a, b) {
  // a is a compaction that includes b (a's sources contain all of b's).
  const s = new Set(a.compaction.sources || [a.ulid]);
  return (b.compaction.sources || [b.ulid]).every((x) => s.has(x));
}
function overlapping(a, b) { return a.minTime < b.maxTime && b.minTime < a.maxTime; }

// Thanos' viewer: blocks of one level and resolution sorted by start, each in the first row whose last
// block it does not overlap.
function splitRows(blocks) {
  const rows = [];
  for (const b of blocks) {
    let r = 0;
    while (r < rows.length && overlapping(rows[r][rows[r].length - 1], b)) r++;
    if (!rows[r]) rows[r] = [];
    rows[r].push(b);
  }
  return rows;
}

function mergeRanges(rs) {
  rs.sort((a, b) => a[0] - b[0]);
  const out = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function analyse(blocks) {
  const streams = new Map();
  const label = state.data.label;
  for (const b of blocks) {
    const ls = (b.thanos && b.thanos.labels) || {};
    const key = labelsText(ls);
    let s = streams.get(key);
    if (!s) {
      s = { key, labels: ls, title: label && ls[label] ? ls[label] : key, blocks: [] };
      streams.set(key, s);
    }
    s.blocks.push(b);
  }
  for (const s of streams.values()) {
    const live = s.blocks.filter((b) => !marksOf(b.ulid).deletion);
    const byRes = new Map();
    for (const b of live) {
      const r = b.thanos.downsample.resolution;
      if (!byRes.has(r)) byRes.set(r, []);
      byRes.get(r).push(b);
    }
    // Coverage and gaps at the finest resolution the stream has live blocks of.
    const finest = [...byRes.keys()].sort((a, b) => a - b)[0];
    const base = finest === undefined ? [] : byRes.get(finest);
    s.coverage = mergeRanges(base.map((b) => [b.minTime, b.maxTime]));
    s.gaps = [];
    for (let i = 1; i < s.coverage.length; i++) s.gaps.push([s.coverage[i - 1][1], s.coverage[i][0]]);
    // Overlaps: live blocks of one resolution, neither a compaction of the other.
    const ov = [];
    s.overlapIds = new Set();
    for (const list of byRes.values()) {
      list.sort((a, b) => a.minTime - b.minTime);
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length && list[j].minTime < list[i].maxTime; j++) {
          const a = list[i], b = list[j];
          if (!overlapping(a, b) || covers(a, b) || covers(b, a)) continue;
          ov.push([Math.max(a.minTime, b.minTime), Math.min(a.maxTime, b.maxTime)]);
          s.overlapIds.add(a.ulid); s.overlapIds.add(b.ulid);
        }
      }
    }
    s.overlaps = mergeRanges(ov);
    // Rows: resolution, then level; overlapping blocks of a level on extra rows.
    const keys = new Map();
    for (const b of s.blocks) {
      const k = b.thanos.downsample.resolution + "/" + b.compaction.level;
      if (!keys.has(k)) keys.set(k, { resolution: b.thanos.downsample.resolution, level: b.compaction.level, blocks: [] });
      keys.get(k).blocks.push(b);
    }
    s.rows = [...keys.values()].sort((a, b) => a.resolution - b.resolution || a.level - b.level).flatMap((k) => {
      k.blocks.sort((a, b) => a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : 1));
      return splitRows(k.blocks).map((bs, i) => ({ resolution: k.resolution, level: k.level, sub: i, blocks: bs }));
    });
    // The compactor's groups have the replica labels removed: every replica of a stream shows its group.
    const stripped = Object.assign({}, s.labels);
    for (const r of state.data.replicaLabels || []) delete stripped[r];
    s.groups = (state.data.groups || []).filter((g) => labelsText(g.labels) === labelsText(stripped));
  }
  return [...streams.values()].sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
}

// ---- drawing ----
function place(e, from, to, g) {
  const span = g.max - g.min;
  const l = Math.max(from, g.min), r = Math.min(to, g.max);
  e.style.left = ((l - g.min) / span * 100).toFixed(4) + "%";
  e.style.width = (Math.max(0, r - l) / span * 100).toFixed(4) + "%";
  e.dataset.from = String(from);
  e.dataset.to = String(to);
  return e;
}
function visible(from, to, g) { return to > g.min && from < g.max; }

function niceStep(span) {
  const steps = [36e5, 2 * 36e5, 6 * 36e5, 12 * 36e5, 864e5, 2 * 864e5, 7 * 864e5, 14 * 864e5, 30 * 864e5, 90 * 864e5, 365 * 864e5];
  for (const s of steps) if (span / s <= 10) return s;
  return steps[steps.length - 1];
}
function axis(g) {
  const a = el("div", { className: "axis" });
  const step = niceStep(g.max - g.min);
  for (let t = Math.ceil(g.min / step) * step; t < g.max; t += step) {
    const d = new Date(t);
    const txt = step >= 864e5 ? d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) : pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":00";
    const tk = el("div", { className: "tick", text: txt });
    tk.style.left = ((t - g.min) / (g.max - g.min) * 100).toFixed(4) + "%";
    a.append(tk);
  }
  return a;
}

function blockTitle(b) {
  return b.ulid + "\n" + utc(b.minTime) + " – " + utc(b.maxTime) + " (" + dur(b.maxTime - b.minTime) + ")\nlevel " + b.compaction.level + ", " + res(b.thanos.downsample.resolution) +
    ", " + b.stats.numSeries + " series, " + b.stats.numSamples + " samples";
}

function render() {
  const d = state.data;
  const tl = $("timeline");
  tl.replaceChildren();
  tl.style.setProperty("--label-w", LABEL_W + "px");
  if (!d) return;
  $("error").hidden = !d.err;
  $("error").textContent = d.err ? "Last refresh failed: " + d.err : "";
  const blocks = d.blocks;
  if (blocks.length === 0) { $("summary").textContent = "No blocks found."; return; }
  let min = Infinity, max = -Infinity;
  for (const b of blocks) { min = Math.min(min, b.minTime); max = Math.max(max, b.maxTime); }
  const g = state.zoom || { min, max };
  if (g.max <= g.min) g.max = g.min + 1;
  const streams = analyse(blocks);
  const levels = [...new Set(blocks.map((b) => b.compaction.level))].sort((a, b) => a - b);
  const lf = $("level-filter");
  if (lf.options.length !== levels.length + 1) {
    lf.replaceChildren(el("option", { value: "", text: "all" }), ...levels.map((l) => el("option", { value: String(l), text: String(l) })));
    lf.value = state.level;
  }
  let nMarked = 0, nOverlaps = 0, nGaps = 0;
  tl.append(axis(g));
  for (const s of streams) {
    nOverlaps += s.overlaps.length;
    nGaps += s.gaps.length;
    const sec = el("div", { className: "stream", "data-stream": s.key });
    const head = el("div", { className: "stream-head" }, [
      el("span", { className: "stream-title", text: s.title, title: s.key }),
      el("span", { className: "badge", text: s.blocks.length + " blocks" }),
    ]);
    for (const gr of s.groups) {
      if (gr.compactions > 0) head.append(el("span", { className: "badge backlog", text: res(gr.resolution) + ": " + gr.compactions + " compaction" + (gr.compactions > 1 ? "s" : "") + " planned (" + gr.compactionBlocks + " blocks)" }));
      if (gr.downsample > 0) head.append(el("span", { className: "badge backlog", text: res(gr.resolution) + ": " + gr.downsample + " to downsample" }));
    }
    if (s.gaps.length) head.append(el("span", { className: "badge problem", text: plural(s.gaps.length, "gap") }));
    if (s.overlaps.length) head.append(el("span", { className: "badge problem", text: plural(s.overlaps.length, "overlap") }));
    sec.append(head);
    // Coverage strip.
    const cov = el("div", { className: "track" });
    for (const c of s.coverage) if (visible(c[0], c[1], g)) cov.append(place(el("div", { className: "cover" }), c[0], c[1], g));
    for (const c of s.gaps) if (visible(c[0], c[1], g)) cov.append(place(el("div", { className: "gap", title: "gap: " + utc(c[0]) + " – " + utc(c[1]) + " (" + dur(c[1] - c[0]) + ")" }), c[0], c[1], g));
    for (const c of s.overlaps) if (visible(c[0], c[1], g)) cov.append(place(el("div", { className: "overlap", title: "overlap: " + utc(c[0]) + " – " + utc(c[1]) + " (" + dur(c[1] - c[0]) + ")" }), c[0], c[1], g));
    sec.append(el("div", { className: "row coverage" }, [el("div", { className: "row-label", text: "coverage" }), cov]));
    for (const r of s.rows) {
      const track = el("div", { className: "track" });
      for (const b of r.blocks) {
        const m = marksOf(b.ulid);
        if (m.deletion || m.noCompact || m.noDownsample) nMarked++;
        if (state.level && String(b.compaction.level) !== state.level) continue;
        const problem = s.overlapIds.has(b.ulid) || m.deletion || m.noCompact || m.noDownsample;
        if (state.onlyProblems && !problem) continue;
        if (!visible(b.minTime, b.maxTime, g)) continue;
        const cls = ["block", "res-" + r.resolution, "level-" + r.level];
        if (m.deletion) cls.push("marked-deletion");
        if (m.noCompact) cls.push("marked-no-compact");
        if (m.noDownsample) cls.push("marked-no-downsample");
        if (s.overlapIds.has(b.ulid)) cls.push("overlapping");
        if (state.selected === b.ulid) cls.push("selected");
        if (state.search && b.ulid.indexOf(state.search) >= 0) cls.push("search-hit");
        const e = el("button", { type: "button", className: cls.join(" "), title: blockTitle(b), "data-ulid": b.ulid, "aria-label": "block " + b.ulid });
        e.addEventListener("click", (ev) => { ev.stopPropagation(); select(b.ulid); });
        track.append(place(e, b.minTime, b.maxTime, g));
      }
      sec.append(el("div", { className: "row", "data-resolution": r.resolution, "data-level": r.level, "data-sub": r.sub }, [
        el("div", { className: "row-label", text: res(r.resolution) + " · level " + r.level + (r.sub ? " (overlap " + r.sub + ")" : "") }), track,
      ]));
    }
    tl.append(sec);
  }
  $("summary").textContent = blocks.length + " blocks in " + streams.length + " streams · " + utc(min) + " – " + utc(max) +
    (state.zoom ? " · showing " + utc(g.min) + " – " + utc(g.max) : "") + " · " + plural(nGaps, "gap") + " · " + plural(nOverlaps, "overlap") + " · " + nMarked + " marked" +
    ((d.partial || []).length ? " · " + d.partial.length + " partial uploads" : "");
  $("zoom-reset").hidden = !state.zoom;
  state.grid = g;
}

// ---- details ----
function select(id) {
  state.selected = id;
  for (const e of document.querySelectorAll(".block.selected")) e.classList.remove("selected");
  const e = document.querySelector('.block[data-ulid="' + id + '"]');
  if (e) e.classList.add("selected");
  showDetails();
}
function showDetails() {
  const b = state.data && state.data.blocks.find((x) => x.ulid === state.selected);
  const box = $("details");
  if (!b) { box.hidden = true; return; }
  box.hidden = false;
  $("details-ulid").textContent = b.ulid;
  const dl = el("dl");
  const row = (k, v) => dl.append(el("dt", { text: k }), el("dd", { text: v, "data-field": k }));
  row("Start time", utc(b.minTime));
  row("End time", utc(b.maxTime));
  row("Duration", dur(b.maxTime - b.minTime));
  row("Series", String(b.stats.numSeries || 0));
  row("Samples", String(b.stats.numSamples || 0));
  row("Chunks", String(b.stats.numChunks || 0));
  const sz = sizeOf(b);
  if (sz) {
    const days = (b.maxTime - b.minTime) / 864e5;
    row("Total size", bytes(sz.total));
    row("Index", bytes(sz.index) + (sz.total ? " (" + (sz.index / sz.total * 100).toFixed(2) + "%)" : ""));
    row("Chunks size", bytes(sz.chunks));
    if (days > 0) row("Daily", bytes(sz.total / days) + " / day");
  }
  row("Resolution", res(b.thanos.downsample.resolution) + " (" + b.thanos.downsample.resolution + ")");
  row("Level", String(b.compaction.level));
  row("Source", b.thanos.source || "");
  row("Labels", labelsText(b.thanos.labels));
  if (b.thanos.upload_time && b.thanos.upload_time.indexOf("0001-") !== 0) row("Uploaded", b.thanos.upload_time);
  const body = $("details-body");
  body.replaceChildren(dl);
  const m = marksOf(b.ulid);
  const marks = [["deletion", "Marked for deletion", m.deletion, "deletion_time"], ["no-compact", "No compaction", m.noCompact, "no_compact_time"], ["no-downsample", "No downsampling", m.noDownsample, "no_downsample_time"]];
  for (const [cls, title, mk, tf] of marks) {
    if (!mk) continue;
    body.append(el("div", { className: "mark " + cls, "data-mark": cls }, [
      el("b", { text: title }), el("span", { text: " at " + utc(mk[tf] * 1000) + (mk.reason ? " · reason: " + mk.reason : "") + (mk.details ? " · " + mk.details : "") }),
    ]));
  }
  const src = b.compaction.sources || [];
  body.append(el("h4", { text: "Sources (" + src.length + ")" }), el("ul", null, src.map((s) => el("li", { className: "mono", text: s }))));
  if (b.compaction.parents && b.compaction.parents.length) {
    body.append(el("h4", { text: "Parents (" + b.compaction.parents.length + ")" }), el("ul", null, b.compaction.parents.map((p) => el("li", { className: "mono", text: p.ulid + " " + utc(p.minTime) + " – " + utc(p.maxTime) }))));
  }
  const url = URL.createObjectURL(new Blob([JSON.stringify(b, null, "\t")], { type: "application/json" }));
  body.append(el("a", { className: "download", href: url, download: "meta.json", text: "Download meta.json" }));
  $("admin").hidden = !state.admin;
  $("admin-status").textContent = "";
}

async function mark(action) {
  const id = state.selected;
  if (!id) return;
  const body = new URLSearchParams({ id, action });
  const detail = $("mark-detail").value.trim();
  if (detail) body.set("detail", detail);
  $("admin-status").textContent = "Marking…";
  try {
    const r = await fetch("api/v1/blocks/mark", { method: "POST", body });
    const j = await r.json().catch(() => null);
    if (!r.ok) throw new Error(j && j.error ? j.error : "HTTP " + r.status);
    $("admin-status").textContent = "Marked; refreshing…";
    await load();
  } catch (e) {
    $("admin-status").textContent = "Failed: " + (e && e.message ? e.message : String(e));
  }
}

// ---- zoom by dragging across a track ----
function initZoom() {
  const tl = $("timeline");
  let start = null, sel = null;
  const frac = (x) => {
    const t = tl.querySelector(".track");
    if (!t) return null;
    const r = t.getBoundingClientRect();
    return { f: Math.min(1, Math.max(0, (x - r.left) / r.width)), r, box: tl.getBoundingClientRect() };
  };
  tl.addEventListener("mousedown", (e) => {
    if (e.button !== 0 || e.target.closest(".block")) return;
    start = frac(e.clientX);
    if (!start) return;
    sel = el("div", { className: "selection" });
    tl.append(sel);
  });
  window.addEventListener("mousemove", (e) => {
    if (!start || !sel) return;
    const cur = frac(e.clientX);
    const a = Math.min(start.f, cur.f), b = Math.max(start.f, cur.f);
    sel.style.left = (start.r.left - start.box.left + a * start.r.width) + "px";
    sel.style.width = ((b - a) * start.r.width) + "px";
  });
  window.addEventListener("mouseup", (e) => {
    if (!start || !sel) return;
    const cur = frac(e.clientX);
    sel.remove();
    const a = Math.min(start.f, cur.f), b = Math.max(start.f, cur.f);
    start = null; sel = null;
    if (b - a < 0.01 || !state.grid) return;
    const g = state.grid, span = g.max - g.min;
    state.zoom = { min: Math.round(g.min + a * span), max: Math.round(g.min + b * span) };
    writeUrl();
    render();
  });
}

function readUrl() {
  const q = new URLSearchParams(location.search);
  const a = Number(q.get("min-time")), b = Number(q.get("max-time"));
  if (q.has("min-time") && q.has("max-time") && b > a) state.zoom = { min: a, max: b };
  state.search = q.get("ulid") || "";
  $("search").value = state.search;
}
function writeUrl() {
  const q = new URLSearchParams();
  if (state.zoom) { q.set("min-time", String(state.zoom.min)); q.set("max-time", String(state.zoom.max)); }
  if (state.search) q.set("ulid", state.search);
  history.replaceState(null, "", (q.toString() ? "?" + q.toString() : location.pathname));
}

async function load() {
  try {
    const [data, flags] = await Promise.all([getJson("api/v1/blocks?view=" + VIEW), getJson("api/v1/status/flags").catch(() => ({}))]);
    state.data = data;
    state.admin = flags["disable-admin-operations"] !== "true";
    $("refreshed").textContent = data.refreshedAt && data.refreshedAt.indexOf("0001-") !== 0 ? "synced " + data.refreshedAt : "not synced yet";
    render();
    if (state.selected) showDetails();
  } catch (e) {
    $("error").hidden = false;
    $("error").textContent = e && e.message ? e.message : String(e);
  }
}

function init() {
  readUrl();
  $("refresh").addEventListener("click", load);
  $("details-close").addEventListener("click", () => { state.selected = null; showDetails(); render(); });
  $("search").addEventListener("input", () => {
    state.search = $("search").value.trim();
    writeUrl();
    render();
    const hit = state.search && state.data ? state.data.blocks.filter((b) => b.ulid.indexOf(state.search) >= 0) : [];
    if (hit.length === 1) select(hit[0].ulid);
  });
  $("level-filter").addEventListener("change", () => { state.level = $("level-filter").value; render(); });
  $("only-problems").addEventListener("change", () => { state.onlyProblems = $("only-problems").checked; render(); });
  $("zoom-reset").addEventListener("click", () => { state.zoom = null; writeUrl(); render(); });
  for (const b of document.querySelectorAll("#admin button")) b.addEventListener("click", () => mark(b.dataset.action));
  initZoom();
  load();
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
})();
`;
