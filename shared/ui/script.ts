// The UI page's browser script (served as /static/ui.js). Plain modern JS kept as a string so the
// UI needs no build step and no text-import support from the runtime (Workers, Deno, Bun, Node all
// load it as an ordinary module). Rules for editing it: no template literals (the string is a
// String.raw template), DOM text only through textContent (labels and errors come from the API and
// may contain markup), and only relative URLs. test/edge/ui-app.test.ts checks that it parses;
// test/integration/ui-query.test.ts drives it in Chromium.
//
// Graphs are inline SVG, one <path class="series"> per series with one M/L command per drawn point,
// which keeps the Worker bundle small (uPlot alone would be 50 kB) and lets tests read what was drawn.

export const UI_SCRIPT = String.raw`(() => {
"use strict";
const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";
// Rendering limits: a huge answer must not freeze the tab. The API still returns everything.
const MAX_ROWS = 10000;
const MAX_SERIES = 1000;
const CHART_H = 320;

function setAttrs(e, attrs) {
  if (!attrs) return e;
  for (const k of Object.keys(attrs)) {
    const v = attrs[k];
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = String(v);
    else e.setAttribute(k, String(v));
  }
  return e;
}
function el(tag, attrs, kids) {
  const e = setAttrs(document.createElement(tag), attrs);
  if (kids !== undefined) e.append(...[].concat(kids).filter((k) => k !== null && k !== undefined));
  return e;
}
function sv(tag, attrs) { return setAttrs(document.createElementNS(SVGNS, tag), attrs); }

// ---- durations, times, numbers ----
const UNITS = { y: 31536e6, w: 6048e5, d: 864e5, h: 36e5, m: 6e4, s: 1e3, ms: 1 };
// Prometheus duration syntax (1h30m, 5m, 250ms) or plain seconds; NaN when unparsable.
function parseDuration(s) {
  s = s.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(parseFloat(s) * 1000);
  if (!s) return NaN;
  const re = /(\d+)(ms|y|w|d|h|m|s)/y;
  let total = 0;
  re.lastIndex = 0;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m) return NaN;
    total += Number(m[1]) * UNITS[m[2]];
  }
  return total;
}
function formatDuration(ms) {
  if (!(ms > 0)) return "0s";
  let out = "";
  for (const u of ["d", "h", "m", "s", "ms"]) {
    const n = Math.floor(ms / UNITS[u]);
    if (n > 0) { out += n + u; ms -= n * UNITS[u]; }
  }
  return out || "0s";
}
// "" -> null (now); Unix seconds; RFC 3339, taken as UTC when it has no zone. NaN when unparsable.
function parseTime(s) {
  s = s.trim();
  if (!s) return null;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.round(parseFloat(s) * 1000);
  let iso = s.replace(" ", "T");
  // Without a zone: UTC, or the browser's zone under "Use local time" (Date.parse reads a zone-less
  // date-time as local).
  if (!localTime && /T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(iso)) iso += "Z";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? NaN : t;
}
function secs(ms) { return String(ms / 1000); }
// Times are shown in UTC unless "Use local time" is ticked (kept in localStorage, as Prometheus does).
let localTime = false;
try { localTime = localStorage.getItem("thanots.localTime") === "1"; } catch (e) { /* storage disabled */ }
function fields(d) {
  return localTime
    ? [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()]
    : [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()];
}
function iso(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  if (!localTime) return d.toISOString();
  const f = fields(d), off = -d.getTimezoneOffset(), a = Math.abs(off);
  const zone = off === 0 ? "Z" : (off > 0 ? "+" : "-") + pad(Math.floor(a / 60)) + ":" + pad(a % 60);
  return pad(f[0], 4) + "-" + pad(f[1]) + "-" + pad(f[2]) + "T" + pad(f[3]) + ":" + pad(f[4]) + ":" + pad(f[5]) + "." + pad(f[6], 3) + zone;
}
// Sample values arrive as Go-formatted strings; "+Inf"/"-Inf" are not JS number syntax.
function num(s) { return s === "+Inf" ? Infinity : s === "-Inf" ? -Infinity : Number(s); }
// name{k="v", ...} as the Prometheus UI prints a series.
function metricText(m) {
  const name = m.__name__ || "";
  const parts = [];
  for (const k of Object.keys(m)) if (k !== "__name__") parts.push(k + "=" + JSON.stringify(m[k]));
  return parts.length || !name ? name + "{" + parts.join(", ") + "}" : name;
}

// ---- API ----
let token = "";
try { token = sessionStorage.getItem("thanots.token") || ""; } catch (e) { /* storage disabled */ }

async function call(path, params, signal, method) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  const body = new URLSearchParams(params);
  let r;
  if (method === "GET") {
    const qs = body.toString();
    r = await fetch(path + (qs ? "?" + qs : ""), { headers, signal });
  } else {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    r = await fetch(path, { method: "POST", body, headers, signal });
  }
  const text = await r.text();
  let j = null;
  try { j = JSON.parse(text); } catch (e) { /* not JSON: reported below with the raw text */ }
  if (r.ok && j && j.status === "success") return { data: j.data, warnings: j.warnings || [] };
  let msg;
  if (j && typeof j.error === "string") msg = (j.errorType ? j.errorType + ": " : "") + j.error;
  else msg = "HTTP " + r.status + (r.statusText ? " " + r.statusText : "") + (text ? ": " + text.slice(0, 500) : "");
  if (r.status === 401) msg += " (set a bearer token in the header)";
  const err = new Error(msg);
  err.status = r.status;
  err.warnings = (j && j.warnings) || [];
  throw err;
}

// ---- messages ----
function setStatus(id, s) { $(id).textContent = s; }
function showError(id, msg) { const e = $(id); e.textContent = msg; e.hidden = !msg; }
function showList(id, list) {
  const ul = $(id);
  ul.replaceChildren(...list.map((w) => el("li", { text: w })));
  ul.hidden = list.length === 0;
}
function showWarnings(list) { showList("warnings", list); }

// ---- query page ----
const state = { view: "table", ctrl: null, graph: null };

// Sent with every query, as Thanos' UI sends them. An empty resolution leaves the choice to the
// querier (its --query.auto-downsampling default).
function options() {
  const o = { dedup: String($("dedup").checked), partial_response: String($("partial-response").checked) };
  const r = $("max-source-resolution").value;
  if (r) o.max_source_resolution = r;
  return o;
}
function autoStep(rangeMs) { return Math.max(Math.floor(rangeMs / 250 / 1000), 1) * 1000; }

// Prometheus/Thanos panel links (/graph?g0.expr=...&g0.tab=1&g0.range_input=1h), as alert
// generator URLs and Grafana's "explore" links carry them; tab 0 is the graph, 1 the table.
function fromPanelLink(q) {
  const out = new URLSearchParams();
  const map = { "g0.expr": "expr", "g0.range_input": "range", "g0.end_input": "end", "g0.moment_input": "end", "g0.step_input": "step", "g0.max_source_resolution": "max_source_resolution" };
  for (const k of Object.keys(map)) if (q.has(k)) out.set(map[k], q.get(k));
  if (q.has("g0.tab")) out.set("tab", q.get("g0.tab") === "0" ? "graph" : "table");
  if (q.get("g0.deduplicate") === "0") out.set("dedup", "false");
  if (q.get("g0.partial_response") === "0") out.set("partial_response", "false");
  return out;
}

function readUrl() {
  let q = new URLSearchParams(location.search);
  if (!q.has("expr") && q.has("g0.expr")) q = fromPanelLink(q);
  if (q.has("expr")) $("expr").value = q.get("expr");
  if (q.get("tab") === "graph") state.view = "graph";
  for (const k of ["range", "end", "step"]) if (q.has(k)) $(k).value = q.get(k);
  if (q.get("dedup") === "false") $("dedup").checked = false;
  if (q.get("partial_response") === "false") $("partial-response").checked = false;
  const r = q.get("max_source_resolution");
  if (r && [...$("max-source-resolution").options].some((o) => o.value === r)) $("max-source-resolution").value = r;
}
function writeUrl() {
  const q = new URLSearchParams({ expr: $("expr").value, tab: state.view });
  for (const k of ["range", "end", "step"]) if ($(k).value.trim()) q.set(k, $(k).value.trim());
  const o = options();
  if (o.dedup === "false") q.set("dedup", "false");
  if (o.partial_response === "false") q.set("partial_response", "false");
  if (o.max_source_resolution) q.set("max_source_resolution", o.max_source_resolution);
  history.replaceState(null, "", "?" + q.toString() + location.hash);
}

function clearResults() {
  $("result-table").tBodies[0].replaceChildren();
  $("table-note").hidden = true;
  state.graph = null;
  $("chart").replaceChildren();
  $("legend").replaceChildren();
  $("tooltip").hidden = true;
}

async function execute() {
  const expr = $("expr").value.trim();
  showError("error", "");
  showWarnings([]);
  if (state.ctrl) { state.ctrl.abort(); idle(); }
  if (!expr) { clearResults(); setStatus("status", ""); showError("error", "Enter an expression."); return; }
  const end = parseTime($("end").value);
  if (Number.isNaN(end)) {
    showError("error", "Cannot read the time " + JSON.stringify($("end").value.trim()) + ": give RFC 3339 (2024-01-02T15:04:05Z) or Unix seconds, or leave it empty for now.");
    return;
  }
  let req;
  if (state.view === "table") {
    const p = Object.assign({ query: expr }, options());
    if (end !== null) p.time = secs(end);
    req = { view: "table", path: "api/v1/query", p };
  } else {
    const range = parseDuration($("range").value);
    if (!(range > 0)) { showError("error", "Cannot read the range " + JSON.stringify($("range").value) + ": give a duration such as 30m, 1h or 2d."); return; }
    const stepText = $("step").value.trim();
    const step = stepText ? parseDuration(stepText) : autoStep(range);
    if (!(step > 0)) { showError("error", "Cannot read the step " + JSON.stringify(stepText) + ": give a duration such as 15s or 1m."); return; }
    const endMs = end === null ? Date.now() : end;
    req = { view: "graph", path: "api/v1/query_range", p: Object.assign({ query: expr, start: secs(endMs - range), end: secs(endMs), step: secs(step) }, options()), startMs: endMs - range, endMs, step };
  }
  writeUrl();
  const ctrl = new AbortController();
  state.ctrl = ctrl;
  setStatus("status", "Loading…");
  $("execute").disabled = true;
  $("cancel").hidden = false;
  const t0 = performance.now();
  try {
    const res = await call(req.path, req.p, ctrl.signal);
    if (state.ctrl !== ctrl) return;
    const t1 = performance.now();
    clearResults();
    showWarnings(res.warnings);
    const n = req.view === "table" ? renderTable(res.data) : renderGraph(res.data, req.startMs, req.endMs, req.step);
    // Load: request, answer and JSON parse. Render: building the DOM (painting comes after).
    const times = "Load time: " + Math.round(t1 - t0) + " ms · Render: " + Math.round(performance.now() - t1) + " ms";
    setStatus("status", times + (req.view === "graph" ? " · Resolution: " + formatDuration(req.step) : "") + " · Result series: " + n);
  } catch (e) {
    if (state.ctrl !== ctrl || (e && e.name === "AbortError")) return;
    clearResults();
    showWarnings((e && e.warnings) || []);
    showError("error", e && e.message ? e.message : String(e));
    setStatus("status", "");
  } finally {
    if (state.ctrl === ctrl) idle();
  }
}
function idle() {
  state.ctrl = null;
  $("execute").disabled = false;
  $("cancel").hidden = true;
}
// Aborting the fetch closes the connection, which the querier takes as the client going away and
// stops the query (and its store streams).
function cancel() {
  if (!state.ctrl) return;
  state.ctrl.abort();
  idle();
  setStatus("status", "Canceled.");
}

function renderTable(data) {
  const tbody = $("result-table").tBodies[0];
  const rows = [];
  const r = data.result;
  // Native histogram samples (Prometheus' "histogram"/"histograms" fields) are not drawn; say so.
  if (data.resultType === "vector") for (const s of r) rows.push([metricText(s.metric), s.value ? s.value[1] : "(native histogram)"]);
  else if (data.resultType === "matrix") {
    for (const s of r) rows.push([metricText(s.metric), (s.values || []).map((v) => v[1] + " @" + v[0]).concat(s.histograms ? ["(" + s.histograms.length + " native histograms)"] : []).join("\n")]);
  }
  else rows.push([data.resultType, r[1]]);
  if (!rows.length) {
    tbody.append(el("tr", null, el("td", { class: "empty", colspan: 2, text: "Empty query result" })));
    return 0;
  }
  for (const row of rows.slice(0, MAX_ROWS)) {
    tbody.append(el("tr", { class: "sample" }, [el("td", { class: "metric", text: row[0] }), el("td", { class: "value", text: row[1] })]));
  }
  if (rows.length > MAX_ROWS) {
    $("table-note").textContent = "Showing the first " + MAX_ROWS + " of " + rows.length + " rows.";
    $("table-note").hidden = false;
  }
  return data.resultType === "vector" || data.resultType === "matrix" ? r.length : 1;
}

// ---- graph ----
const PALETTE = ["#2f6fde", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#e67700", "#5c940d", "#a61e4d", "#1864ab", "#862e9c", "#d9480f"];
function color(i) { return i < PALETTE.length ? PALETTE[i] : "hsl(" + ((i * 137.508) % 360).toFixed(1) + ",62%,45%)"; }

function renderGraph(data, startMs, endMs, stepMs) {
  if (data.resultType !== "matrix") throw new Error("expected a matrix from query_range, got " + data.resultType);
  const all = data.result;
  const series = all.slice(0, MAX_SERIES).map((s, i) => {
    const vs = s.values || [];
    const n = vs.length;
    const xs = new Float64Array(n), ys = new Float64Array(n), raw = new Array(n);
    for (let j = 0; j < n; j++) { xs[j] = Math.round(vs[j][0] * 1000); raw[j] = vs[j][1]; ys[j] = num(raw[j]); }
    return { label: metricText(s.metric), color: color(i), xs, ys, raw, on: true };
  });
  state.graph = { series, startMs, endMs, stepMs, omitted: all.length - series.length };
  drawGraph();
  drawLegend();
  return all.length;
}

// About n "nice" ticks (1, 2, 5 x 10^k) covering [lo, hi].
function niceTicks(lo, hi, n) {
  const span = hi - lo;
  // Values near ±MAX_VALUE overflow the span: label just the ends and zero.
  if (!Number.isFinite(span) || span <= 0) return { ticks: lo < 0 && hi > 0 ? [lo, 0, hi] : [lo, hi], step: Math.abs(hi) || 1, lo, hi };
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  const a = Math.floor(lo / step), b = Math.ceil(hi / step);
  const ticks = [];
  for (let k = a; k <= b && ticks.length < 50; k++) ticks.push(Number((k * step).toPrecision(12)));
  return { ticks, step, lo: a * step, hi: b * step };
}
function fmtNum(v, step) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e7 || a < 1e-4) {
    const digits = Math.max(0, Math.min(6, Math.round(Math.log10(a / step))));
    return v.toExponential(digits).replace(/\.?0+e/, "e");
  }
  const d = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(d);
}
const TIME_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5, 12096e5, 2592e6, 7776e6, 31536e6];
function timeTicks(x0, x1, n) {
  const span = x1 - x0;
  let step = TIME_STEPS.find((s) => span / s <= n);
  if (step === undefined) step = Math.ceil(span / n / 31536e6) * 31536e6;
  const ticks = [];
  for (let t = Math.ceil(x0 / step) * step; t <= x1 && ticks.length < 50; t += step) ticks.push(t);
  return { ticks, step };
}
function pad(n, w) { return String(n).padStart(w || 2, "0"); }
function fmtTime(t, step, span) {
  const f = fields(new Date(t));
  const day = pad(f[1]) + "-" + pad(f[2]);
  const hm = pad(f[3]) + ":" + pad(f[4]);
  if (step >= 864e5) return span > 31536e6 ? f[0] + "-" + day : day;
  if (step < 1e3) return hm + ":" + pad(f[5]) + "." + pad(f[6], 3);
  const time = step < 6e4 ? hm + ":" + pad(f[5]) : hm;
  return span > 864e5 ? day + " " + time : time;
}

function drawGraph() {
  const box = $("chart");
  box.replaceChildren();
  $("tooltip").hidden = true;
  const g = state.graph;
  if (!g) return;
  const W = Math.max(box.clientWidth || 0, 320), H = CHART_H;
  const L = 64, R = 16, T = 10, B = 26;
  const pw = W - L - R, ph = H - T - B;
  let lo = Infinity, hi = -Infinity;
  for (const s of g.series) if (s.on) for (const y of s.ys) if (Number.isFinite(y)) { if (y < lo) lo = y; if (y > hi) hi = y; }
  if (lo === Infinity) { lo = 0; hi = 1; } else if (lo === hi) { const p = lo === 0 ? 1 : Math.abs(lo) * 0.1; lo -= p; hi += p; }
  const yt = niceTicks(lo, hi, Math.max(2, Math.floor(ph / 50)));
  lo = yt.lo; hi = yt.hi;
  const x0 = g.startMs, x1 = g.endMs > g.startMs ? g.endMs : g.startMs + 1;
  const X = (t) => L + (t - x0) / (x1 - x0) * pw;
  const Y = (v) => T + (hi / 2 - v / 2) / (hi / 2 - lo / 2) * ph; // halves: hi - lo may overflow
  const drawn = g.series.filter((s) => s.on).length;
  const svg = sv("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img", "aria-label": "graph of " + drawn + " series" });
  const grid = sv("g", { class: "grid" }), axis = sv("g", { class: "axis" });
  for (const v of yt.ticks) {
    const y = Y(v).toFixed(1);
    grid.append(sv("line", { x1: L, x2: W - R, y1: y, y2: y }));
    axis.append(sv("text", { x: L - 6, y: Number(y) + 4, "text-anchor": "end", text: fmtNum(v, yt.step) }));
  }
  const xt = timeTicks(x0, x1, Math.max(2, Math.floor(pw / 110)));
  for (const t of xt.ticks) {
    const x = X(t).toFixed(1);
    grid.append(sv("line", { x1: x, x2: x, y1: T, y2: T + ph }));
    axis.append(sv("text", { x, y: H - 8, "text-anchor": "middle", text: fmtTime(t, xt.step, x1 - x0) }));
  }
  svg.append(grid, axis, sv("rect", { x: L, y: T, width: pw, height: ph, fill: "none", stroke: "#c4cad4" }));
  // A point more than 1.5 steps after the previous one starts a new segment: the API leaves out
  // steps without a sample, and joining across them would draw data that is not there.
  const gap = g.stepMs * 1.5;
  const r1 = (v) => Math.round(v * 10) / 10; // cheaper than toFixed on a million points
  g.series.forEach((s, i) => {
    const n = s.xs.length;
    // Screen positions kept for hovering (NaN where nothing is drawn); plain typed arrays rather
    // than an object per point, which cost more than drawing for 1000 x 1000 points.
    s.px = new Float32Array(n); s.py = new Float32Array(n);
    if (!s.on) return;
    let d = "", prev = -Infinity, run = 0;
    for (let j = 0; j < n; j++) {
      const y = s.ys[j];
      if (!Number.isFinite(y)) { if (run === 1) d += "h0"; prev = -Infinity; run = 0; s.px[j] = NaN; s.py[j] = NaN; continue; }
      const px = r1(X(s.xs[j])), py = r1(Y(y));
      s.px[j] = px; s.py[j] = py;
      if (s.xs[j] - prev <= gap) { d += "L" + px + " " + py; run++; }
      else { if (run === 1) d += "h0"; d += "M" + px + " " + py; run = 1; }
      prev = s.xs[j];
    }
    if (run === 1) d += "h0"; // a lone point: a zero-length line with round caps shows as a dot
    if (d) svg.append(sv("path", { class: "series", "data-index": i, stroke: s.color, d }));
  });
  const hair = sv("line", { class: "crosshair", y1: T, y2: T + ph, visibility: "hidden" });
  const dot = sv("circle", { r: 4, visibility: "hidden", stroke: "#fff", "stroke-width": 1.5 });
  const band = sv("rect", { class: "selection", y: T, height: ph, visibility: "hidden" });
  const overlay = sv("rect", { x: L, y: T, width: pw, height: ph, fill: "transparent" });
  svg.append(hair, dot, band, overlay);
  box.append(svg);
  // Drag across the plot to zoom: the band's ends become the new end time and range.
  const plotX = (ev) => {
    const r = svg.getBoundingClientRect();
    return Math.min(L + pw, Math.max(L, (ev.clientX - r.left) * W / r.width));
  };
  let drag = null;
  overlay.addEventListener("mousedown", (ev) => {
    if (ev.button !== 0) return;
    drag = plotX(ev);
    ev.preventDefault();
  });
  overlay.addEventListener("mousemove", (ev) => {
    if (drag !== null) {
      const x = plotX(ev);
      band.setAttribute("x", Math.min(drag, x));
      band.setAttribute("width", Math.abs(x - drag));
      band.setAttribute("visibility", "visible");
    }
    hover(ev, svg, W, H, hair, dot);
  });
  overlay.addEventListener("mouseup", (ev) => {
    if (drag === null) return;
    const a = Math.min(drag, plotX(ev)), b = Math.max(drag, plotX(ev));
    drag = null;
    band.setAttribute("visibility", "hidden");
    const t = (px) => Math.round((x0 + (px - L) / pw * (x1 - x0)) / 1000) * 1000;
    if (b - a < 4 || t(b) - t(a) < 1000) return; // a click, not a drag
    $("end").value = new Date(t(b)).toISOString().replace(".000Z", "Z");
    $("range").value = formatDuration(t(b) - t(a));
    $("step").value = "";
    execute();
  });
  overlay.addEventListener("mouseleave", () => {
    drag = null;
    band.setAttribute("visibility", "hidden");
    hair.setAttribute("visibility", "hidden");
    dot.setAttribute("visibility", "hidden");
    $("tooltip").hidden = true;
  });
}

// The drawn point nearest the mouse: per visible series, a binary search by x and a look at the
// few points around it (x distance weighs more, so the nearest time wins).
function hover(ev, svg, W, H, hair, dot) {
  const r = svg.getBoundingClientRect();
  const mx = (ev.clientX - r.left) * W / r.width, my = (ev.clientY - r.top) * H / r.height;
  let best = null, bd = Infinity;
  state.graph.series.forEach((s, i) => {
    if (!s.on || !s.px) return;
    const px = s.px, n = px.length;
    let lo = 0, hi = n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (px[m] < mx || Number.isNaN(px[m])) lo = m + 1; else hi = m; }
    for (let j = Math.max(0, lo - 3); j < Math.min(n, lo + 3); j++) {
      if (Number.isNaN(px[j])) continue;
      const dx = px[j] - mx, dy = s.py[j] - my, dd = dx * dx * 4 + dy * dy;
      if (dd < bd) { bd = dd; best = [i, j]; }
    }
  });
  const tip = $("tooltip");
  if (!best) { tip.hidden = true; return; }
  const s = state.graph.series[best[0]], j = best[1], bx = s.px[j], by = s.py[j];
  hair.setAttribute("x1", bx); hair.setAttribute("x2", bx); hair.setAttribute("visibility", "visible");
  dot.setAttribute("cx", bx); dot.setAttribute("cy", by); dot.setAttribute("fill", s.color); dot.setAttribute("visibility", "visible");
  tip.replaceChildren(el("div", { text: iso(s.xs[j]) }), el("div", { text: s.label }), el("strong", { text: "Value: " + s.raw[j] }));
  tip.hidden = false;
  const view = $("graph-view").getBoundingClientRect();
  const px = r.left - view.left + bx * r.width / W, py = r.top - view.top + by * r.height / H;
  const left = px + 12 + tip.offsetWidth > view.width ? px - 12 - tip.offsetWidth : px + 12;
  tip.style.left = Math.max(0, left) + "px";
  tip.style.top = Math.max(0, py - tip.offsetHeight - 8) + "px";
}

function drawLegend() {
  const box = $("legend");
  box.replaceChildren();
  const g = state.graph;
  if (!g) return;
  if (!g.series.length) { box.append(el("div", { class: "note", text: "Empty query result" })); return; }
  g.series.forEach((s, i) => {
    const sw = el("span", { class: "swatch" });
    sw.style.background = s.color;
    const item = el("div", { class: "legend-item" + (s.on ? "" : " off"), "data-index": i, title: "Click: show only this series. Ctrl/Cmd+click: show or hide it." }, [sw, el("span", { class: "legend-label", text: s.label })]);
    item.addEventListener("click", (e) => toggleSeries(i, e.ctrlKey || e.metaKey));
    box.append(item);
  });
  if (g.omitted > 0) box.append(el("div", { class: "note", text: g.omitted + " more series not drawn (at most " + MAX_SERIES + ")." }));
}
function toggleSeries(i, multi) {
  const ss = state.graph.series;
  if (multi) ss[i].on = !ss[i].on;
  else {
    const alone = ss[i].on && ss.every((s, j) => j === i || !s.on);
    ss.forEach((s, j) => { s.on = alone || j === i; });
  }
  drawGraph();
  drawLegend();
}

// Metric names for the "insert at cursor" list, fetched on first use (a large fleet has many) and
// again after a failure (e.g. a 401 before the token was typed).
const MAX_NAMES = 10000;
let names = null;
async function loadNames() {
  if (names) return;
  const sel = $("metric-insert");
  names = call("api/v1/label/__name__/values", {}, undefined, "GET").then((res) => {
    const list = res.data || [];
    sel.append(...list.slice(0, MAX_NAMES).map((n) => el("option", { value: n, text: n })));
    if (list.length > MAX_NAMES) sel.append(el("option", { disabled: true, text: (list.length - MAX_NAMES) + " more not listed" }));
    sel.options[0].textContent = "insert metric at cursor… (" + list.length + ")";
  }, (e) => {
    names = null;
    sel.options[0].textContent = "metric names unavailable: " + (e && e.message ? e.message : String(e));
  });
}
function insertMetric() {
  const sel = $("metric-insert"), ta = $("expr");
  if (!sel.value) return;
  ta.setRangeText(sel.value, ta.selectionStart, ta.selectionEnd, "end");
  sel.value = "";
  ta.focus();
}

function setView(v, run) {
  state.view = v;
  $("tab-table").setAttribute("aria-selected", String(v === "table"));
  $("tab-graph").setAttribute("aria-selected", String(v === "graph"));
  $("table-view").hidden = v !== "table";
  $("graph-view").hidden = v !== "graph";
  for (const e of document.querySelectorAll(".graph-only")) e.hidden = v !== "graph";
  $("end-label").textContent = v === "graph" ? "End time" : "Evaluation time";
  if (run && $("expr").value.trim()) execute();
}

const RANGES = ["1s", "10s", "1m", "5m", "15m", "30m", "1h", "2h", "6h", "12h", "1d", "2d", "1w", "2w", "4w", "8w", "24w", "1y"];
function stepRange(dir) {
  const cur = parseDuration($("range").value);
  const ms = RANGES.map(parseDuration);
  let k;
  if (!(cur > 0)) k = RANGES.indexOf("1h");
  else if (dir > 0) { k = ms.findIndex((m) => m > cur); if (k < 0) k = ms.length - 1; }
  else { k = -1; ms.forEach((m, i) => { if (m < cur) k = i; }); if (k < 0) k = 0; }
  $("range").value = RANGES[k];
  execute();
}

// ---- stores page ----
// Thanos answers {type: [{name, lastCheck, lastError, labelSets, minTime, maxTime}]}; unbounded
// times come as year 0 or the int64 limits, shown as infinities.
function fmtBound(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return String(ms);
  if (ms <= -62167219200000) return "-∞";
  if (ms >= 253402300800000) return "+∞";
  return iso(ms);
}
function fmtAgo(s) {
  const t = Date.parse(s);
  if (Number.isNaN(t)) return s === undefined || s === null ? "" : String(s);
  const d = Math.max(0, Math.round((Date.now() - t) / 1000));
  return d < 1 ? "just now" : formatDuration(d * 1000) + " ago";
}
let storesCtrl = null;
async function loadStores() {
  if (storesCtrl) storesCtrl.abort();
  const ctrl = storesCtrl = new AbortController();
  showError("stores-error", "");
  setStatus("stores-status", "Loading…");
  try {
    const res = await call("api/v1/stores", {}, ctrl.signal, "GET");
    if (ctrl !== storesCtrl) return;
    renderStores(res.data);
  } catch (e) {
    if (ctrl !== storesCtrl || (e && e.name === "AbortError")) return;
    $("stores").replaceChildren();
    setStatus("stores-status", "");
    if (e.status === 404) {
      $("stores").append(el("p", { class: "note", id: "stores-unavailable", text: "This server does not list stores (api/v1/stores answered 404): it queries its own data only." }));
    } else showError("stores-error", e && e.message ? e.message : String(e));
  }
}
function renderStores(data) {
  const box = $("stores");
  box.replaceChildren();
  const groups = Array.isArray(data) ? [["stores", data]] : Object.keys(data || {}).sort().map((k) => [k, data[k] || []]);
  let total = 0, up = 0;
  for (const [type, list] of groups) {
    if (!Array.isArray(list) || !list.length) continue;
    const tbody = el("tbody");
    for (const st of list) {
      total++;
      const ok = typeof st.healthy === "boolean" ? st.healthy : !st.lastError; // healthy: our querier's extra field
      if (ok) up++;
      const sets = (st.labelSets || []).map((ls) => el("span", { class: "badge", text: metricText(ls || {}) }));
      tbody.append(el("tr", { class: "store" }, [
        el("td", { class: "store-name", text: st.name || "" }),
        el("td", { class: ok ? "up" : "down", text: ok ? "UP" : "DOWN" }),
        el("td", null, sets.length ? sets : "none"),
        el("td", { text: fmtBound(st.minTime) }),
        el("td", { text: fmtBound(st.maxTime) }),
        el("td", { title: st.lastCheck || "", text: fmtAgo(st.lastCheck) }),
        el("td", { class: "store-error", text: st.lastError || "" }),
      ]));
    }
    const head = el("tr", null, ["Endpoint", "Status", "Announced label sets", "Min time", "Max time", "Last check", "Last error"].map((h) => el("th", { text: h })));
    box.append(el("h3", { text: type }), el("table", { class: "stores-table" }, [el("thead", null, head), tbody]));
  }
  if (!total) box.append(el("p", { class: "note", text: "No stores." }));
  setStatus("stores-status", total + " stores, " + up + " up, " + (total - up) + " down");
}

// ---- alerts and rules pages ----
// Both read /api/v1/rules (the querier merges and deduplicates the rulers' groups); the alerts page
// asks for alerting rules only. Groups come sorted by file and name, rules as the querier orders them;
// alert instances are shown sorted by labels (rulers send them in no particular order).
const RULE_STATES = ["firing", "pending", "inactive"];
const openRules = new Set();
function labelText(o) { return Object.keys(o || {}).map((k) => k + "=" + JSON.stringify(o[k])); }
function badges(o) { return labelText(o).map((t) => el("span", { class: "badge", text: t })); }
function byLabels(a, b) { const x = labelText(a.labels).join(","), y = labelText(b.labels).join(","); return x < y ? -1 : x > y ? 1 : 0; }
// Evaluation durations (seconds) as Prometheus' UI shows them.
function fmtSecs(s) {
  if (typeof s !== "number" || !Number.isFinite(s)) return String(s);
  if (s >= 1) return Math.round(s * 1000) / 1000 + " s";
  if (s >= 1e-3) return Math.round(s * 1e6) / 1e3 + " ms";
  return Math.round(s * 1e9) / 1e3 + " µs";
}
// Go's zero time means the rule has not been evaluated yet.
function fmtEval(t) { return !t || /^0001-01-01/.test(t) ? "never" : fmtAgo(t); }
function stateBadge(st) { return el("span", { class: "state " + st, text: st.toUpperCase() }); }
// The rule as its file has it (Prometheus' UI shows YAML); the expression opens the query page.
function ruleDef(r) {
  const rows = [];
  const kv = (k, v, cls) => rows.push(el("div", { class: cls || null }, [el("span", { class: "key", text: k + ": " })].concat(v)));
  kv(r.type === "alerting" ? "alert" : "record", el("strong", { text: r.name }));
  kv("expr", el("a", { class: "expr", href: "./?" + new URLSearchParams({ expr: r.query, tab: "table" }).toString() + "#query", text: r.query }));
  if (r.type === "alerting" && r.duration) kv("for", formatDuration(r.duration * 1000));
  if (r.keepFiringFor) kv("keep_firing_for", formatDuration(r.keepFiringFor * 1000));
  if (Object.keys(r.labels || {}).length) kv("labels", badges(r.labels));
  const ann = r.annotations || {};
  if (Object.keys(ann).length) kv("annotations", Object.keys(ann).map((k) => el("div", { class: "annotation", text: k + ": " + ann[k] })), "annotations");
  return el("div", { class: "rule-def" }, rows);
}
function pageError(prefix, e) {
  showList(prefix + "-warnings", (e && e.warnings) || []);
  showError(prefix + "-error", e && e.message ? e.message : String(e));
  setStatus(prefix + "-status", "");
}
const loads = {};
// One request per page at a time; a newer one cancels the older.
async function loadPage(prefix, params, render) {
  if (loads[prefix]) loads[prefix].abort();
  const ctrl = loads[prefix] = new AbortController();
  showError(prefix + "-error", "");
  setStatus(prefix + "-status", "Loading…");
  try {
    const res = await call("api/v1/rules", params, ctrl.signal, "GET");
    if (loads[prefix] !== ctrl) return;
    showList(prefix + "-warnings", res.warnings);
    render(res.data);
  } catch (e) {
    if (loads[prefix] !== ctrl || (e && e.name === "AbortError")) return;
    $(prefix).replaceChildren();
    pageError(prefix, e);
  }
}

let alertGroups = [];
function loadAlerts() { return loadPage("alerts", { type: "alert" }, (data) => { alertGroups = (data && data.groups) || []; renderAlerts(); }); }
function renderAlerts() {
  const box = $("alerts");
  box.replaceChildren();
  const counts = { firing: 0, pending: 0, inactive: 0 };
  const show = {};
  for (const st of RULE_STATES) show[st] = $("show-" + st).checked;
  const withAnn = $("show-annotations").checked;
  let total = 0;
  for (const g of alertGroups) {
    const items = [];
    g.rules.forEach((r, i) => {
      if (r.type !== "alerting") return;
      total++;
      const st = RULE_STATES.includes(r.state) ? r.state : "inactive";
      counts[st]++;
      if (!show[st]) return;
      const key = g.file + ";" + g.name + ";" + i + ";" + r.name;
      const alerts = (r.alerts || []).slice().sort(byLabels);
      const det = el("details", { class: "alert-rule " + st, "data-rule": r.name }, [
        el("summary", null, [stateBadge(st), el("strong", { text: r.name }), el("span", { class: "note", text: " (" + alerts.length + " active)" })]),
        ruleDef(r),
      ]);
      if (alerts.length) {
        const tbody = el("tbody");
        for (const a of alerts) {
          tbody.append(el("tr", { class: "alert-instance " + a.state }, [
            el("td", null, badges(a.labels)),
            el("td", null, stateBadge(a.state)),
            el("td", { title: a.activeAt || "", text: a.activeAt ? iso(Date.parse(a.activeAt)) : "" }),
            el("td", { class: "value", text: a.value }),
          ]));
          const ann = a.annotations || {};
          if (withAnn && Object.keys(ann).length) {
            tbody.append(el("tr", { class: "alert-annotations" }, el("td", { colspan: 4 }, Object.keys(ann).map((k) => el("div", { class: "annotation", text: k + ": " + ann[k] })))));
          }
        }
        const head = el("tr", null, ["Labels", "State", "Active since", "Value"].map((h) => el("th", { text: h })));
        det.append(el("table", { class: "alerts-table" }, [el("thead", null, head), tbody]));
      }
      det.open = openRules.has(key);
      det.addEventListener("toggle", () => { if (det.open) openRules.add(key); else openRules.delete(key); });
      items.push(det);
    });
    if (items.length) box.append(el("h3", { class: "group-title" }, [el("span", { text: g.name }), el("span", { class: "file", text: g.file })]), ...items);
  }
  for (const st of RULE_STATES) $("count-" + st).textContent = "(" + counts[st] + ")";
  if (!total) box.append(el("p", { class: "note", text: "No alerting rules." }));
  setStatus("alerts-status", total + " alerting rules: " + counts.firing + " firing, " + counts.pending + " pending, " + counts.inactive + " inactive");
}
function expandAlerts() {
  const all = [...document.querySelectorAll("#alerts details")];
  const open = !all.every((d) => d.open);
  for (const d of all) d.open = open;
  $("alerts-expand").textContent = open ? "Collapse all" : "Expand all";
}

function loadRules() { return loadPage("rules", {}, renderRules); }
function renderRules(data) {
  const box = $("rules");
  box.replaceChildren();
  const groups = (data && data.groups) || [];
  let n = 0, bad = 0;
  for (const g of groups) {
    const tbody = el("tbody");
    for (const r of g.rules) {
      n++;
      if (r.health === "err") bad++;
      const st = [el("span", { class: "health " + r.health, text: String(r.health || "unknown").toUpperCase() })];
      if (r.type === "alerting") st.push(stateBadge(r.state || "inactive"));
      tbody.append(el("tr", { class: "rule " + r.type }, [
        el("td", null, ruleDef(r)),
        el("td", null, st),
        el("td", { class: "rule-error", text: r.lastError || "" }),
        el("td", { title: r.lastEvaluation || "", text: fmtEval(r.lastEvaluation) }),
        el("td", { text: fmtSecs(r.evaluationTime) }),
      ]));
    }
    const head = el("tr", null, ["Rule", "State", "Error", "Last evaluation", "Evaluation time"].map((h) => el("th", { text: h })));
    const title = el("div", { class: "group-title" }, [
      el("span", { text: g.name }), el("span", { class: "file", text: g.file }),
      el("span", { class: "note", text: "interval " + formatDuration(g.interval * 1000) + " · last evaluation " + fmtEval(g.lastEvaluation) + " · took " + fmtSecs(g.evaluationTime) + (g.partialResponseStrategy ? " · partial response " + g.partialResponseStrategy : "") }),
    ]);
    box.append(el("div", { class: "rule-group", "data-group": g.name }, [title, el("table", { class: "rules-table" }, [el("thead", null, head), tbody])]));
  }
  if (!groups.length) box.append(el("p", { class: "note", text: "No rule groups." }));
  setStatus("rules-status", groups.length + " groups, " + n + " rules" + (bad ? ", " + bad + " failing" : ""));
}

// ---- wiring ----
const PAGES = ["query", "alerts", "rules", "stores"];
function showPage() {
  const h = location.hash.slice(1), tail = (/\/(alerts|rules|stores)$/.exec(location.pathname) || [])[1];
  const cur = PAGES.includes(h) ? h : tail || "query";
  for (const p of PAGES) {
    $(p + "-page").hidden = p !== cur;
    $("nav-" + p).classList.toggle("active", p === cur);
  }
  if (cur === "stores") loadStores();
  if (cur === "alerts") loadAlerts();
  if (cur === "rules") loadRules();
}

function init() {
  readUrl();
  $("token").value = token;
  $("token").addEventListener("input", () => {
    token = $("token").value.trim();
    try { sessionStorage.setItem("thanots.token", token); } catch (e) { /* storage disabled */ }
  });
  $("query-form").addEventListener("submit", (e) => { e.preventDefault(); execute(); });
  $("expr").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); execute(); }
  });
  $("tab-table").addEventListener("click", () => setView("table", true));
  $("tab-graph").addEventListener("click", () => setView("graph", true));
  $("range-less").addEventListener("click", () => stepRange(-1));
  $("range-more").addEventListener("click", () => stepRange(1));
  for (const id of ["range", "end", "step"]) $(id).addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); execute(); } });
  $("stores-refresh").addEventListener("click", loadStores);
  $("alerts-refresh").addEventListener("click", loadAlerts);
  $("rules-refresh").addEventListener("click", loadRules);
  $("alerts-expand").addEventListener("click", expandAlerts);
  for (const id of ["show-firing", "show-pending", "show-inactive", "show-annotations"]) $(id).addEventListener("change", renderAlerts);
  $("cancel").addEventListener("click", cancel);
  $("local-time").checked = localTime;
  $("local-time").addEventListener("change", () => {
    localTime = $("local-time").checked;
    try { localStorage.setItem("thanots.localTime", localTime ? "1" : "0"); } catch (e) { /* storage disabled */ }
    drawGraph();
  });
  for (const ev of ["focus", "mousedown"]) $("metric-insert").addEventListener(ev, loadNames);
  $("metric-insert").addEventListener("change", insertMetric);
  window.addEventListener("hashchange", showPage);
  let resizeTimer = 0;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(drawGraph, 100); });
  setView(state.view, false);
  showPage();
  if ($("expr").value.trim() && !$("query-page").hidden) execute();
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
})();
`;
