// The status page: polls /api/status and draws tiers, the last hour of lag, the topology,
// dead letters and recent changes. Plain DOM and SVG, nothing fetched but this server's JSON.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const HOUR_MS = 3600 * 1000;
const COLOURS = ["#1f6feb", "#d4731c", "#2da44e", "#8250df", "#cf222e", "#1b7c83"];
let refreshMs = 5000;

function el(tag, attrs, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function fmtTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

function fmtSeconds(s) {
  return s === null || s === undefined ? "no progress yet" : s.toFixed(1) + " s";
}

function colour(i) {
  return COLOURS[i % COLOURS.length];
}

function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function renderTiers(status) {
  const p = status.primary;
  document.getElementById("primary").textContent = p
    ? `Primary: ${p.serverId} at site ${p.site}, epoch ${p.epoch} (tier ${p.tier})`
    : "No primary in mailstream.control yet (the first capture registers itself).";
  const rows = status.tiers.map(t => {
    const behind = t.eventsBehind > 0 || (t.secondsBehind !== null && t.secondsBehind >= 1);
    const tr = el("tr", { "data-tier": t.tier, class: behind ? "behind" : "caught-up" });
    tr.append(el("td", {}, t.tier), el("td", {}, t.type || "?"), el("td", { class: "role" }, t.role),
      el("td", { class: "num epoch" }, t.epoch), el("td", { class: "num lag events-behind" }, t.eventsBehind),
      el("td", { class: "num lag seconds-behind" }, fmtSeconds(t.secondsBehind)));
    return tr;
  });
  fillRows(document.querySelector("#tiers tbody"), rows.length ? rows : [el("tr", {}, "no tiers configured")]);
}

function drawChart(svg, history, tiers, pick, unit) {
  const W = 400, H = 180, L = 44, R = 8, T = 10, B = 22;
  const now = history.length ? history[history.length - 1].time : Date.now();
  // The last hour, or since this process started reading if that is shorter.
  const from = history.length > 1 ? Math.max(now - HOUR_MS, history[0].time) : now - 60 * 1000;
  const span = Math.max(now - from, 1);
  let max = 1;
  for (const point of history) for (const t of tiers) {
    const v = pick(point, t);
    if (v !== null && v !== undefined && v > max) max = v;
  }
  const x = time => L + (W - L - R) * (time - from) / span;
  const y = v => T + (H - T - B) * (1 - v / max);
  const parts = [];
  parts.push(el("svg:line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#d5dbe3" }));
  parts.push(el("svg:line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#d5dbe3" }));
  parts.push(el("svg:text", { x: L - 4, y: T + 10, "text-anchor": "end" }, unit === "s" ? max.toFixed(1) : Math.round(max)));
  parts.push(el("svg:text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"));
  parts.push(el("svg:text", { x: L, y: H - 6 }, fmtTime(from)));
  parts.push(el("svg:text", { x: W - R, y: H - 6, "text-anchor": "end" }, fmtTime(now)));
  tiers.forEach((t, i) => {
    const pts = history.filter(p => pick(p, t) !== null && pick(p, t) !== undefined)
      .map(p => `${x(p.time).toFixed(1)},${y(pick(p, t)).toFixed(1)}`);
    if (pts.length === 1) pts.push(pts[0].replace(/^([\d.]+)/, m => (parseFloat(m) + 2).toFixed(1)));
    if (pts.length) parts.push(el("svg:polyline", { points: pts.join(" "), fill: "none", stroke: colour(i), "stroke-width": 2,
      "data-tier": t }));
  });
  svg.replaceChildren(...parts);
  svg.setAttribute("data-points", String(history.length));
  svg.setAttribute("data-last-time", String(history.length ? now : 0));
}

function renderLag(status) {
  const tiers = status.tiers.map(t => t.tier);
  drawChart(document.getElementById("lag-chart"), status.history, tiers, (p, t) => p.eventsBehind[t], "events");
  drawChart(document.getElementById("lag-seconds-chart"), status.history, tiers, (p, t) => p.secondsBehind[t], "s");
  const legend = document.getElementById("legend");
  legend.replaceChildren(...tiers.map((t, i) => {
    const s = el("span", {});
    s.append(el("i", { style: `background:${colour(i)}` }), document.createTextNode(t));
    return s;
  }));
}

// The README's diagram: primary -> capture -> mailstream.changes -> streams -> one feed per tier
// (plus state and dlq) -> each tier's sink -> its target.
function renderTopology(status) {
  const svg = document.getElementById("topology");
  const tiers = status.tiers;
  const colW = 200, boxW = 180, boxH = 46, rowH = 78;
  const cols = tiers.length + 2;
  const W = cols * colW + 20, H = rowH * 5 + boxH + 20;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.style.width = W + "px";
  const parts = [];
  const defs = el("svg:defs", {});
  const marker = el("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(el("svg:path", { d: "M0,0 L10,5 L0,10 z", fill: "#8a96a8", stroke: "none" }));
  defs.append(marker);
  parts.push(defs);
  const cx = col => 10 + col * colW + colW / 2;
  const cy = row => 10 + row * rowH + boxH / 2;
  function box(col, row, title, sub, kind, id) {
    const g = el("svg:g", id ? { id } : {});
    g.append(el("svg:rect", { x: cx(col) - boxW / 2, y: cy(row) - boxH / 2, width: boxW, height: boxH, class: kind || "box" }));
    g.append(el("svg:text", { x: cx(col), y: cy(row) - (sub ? 4 : -4), "text-anchor": "middle", class: "title" }, title));
    if (sub) g.append(el("svg:text", { x: cx(col), y: cy(row) + 13, "text-anchor": "middle" }, sub));
    parts.push(g);
  }
  function arrow(c1, r1, c2, r2, label, labelClass) {
    const x1 = cx(c1), y1 = cy(r1) + boxH / 2, x2 = cx(c2), y2 = cy(r2) - boxH / 2;
    parts.push(el("svg:path", { class: "edge", d: `M${x1},${y1} C${x1},${(y1 + y2) / 2} ${x2},${(y1 + y2) / 2} ${x2},${y2}` }));
    if (label) parts.push(el("svg:text", { x: x2 + 6, y: (y1 + y2) / 2 + 4, class: labelClass || "" }, label));
  }
  const mid = Math.floor((cols - 1) / 2);
  const p = status.primary;
  box(mid, 0, "Cyrus primary" + (p ? ` (${p.site})` : ""), p ? `${p.serverId}, epoch ${p.epoch}` : "no primary assigned yet");
  box(mid, 1, "capture", "OK to Cyrus after commit");
  arrow(mid, 0, mid, 1, "csync");
  box(mid, 2, "mailstream.changes", "every change, by user", "box topic");
  arrow(mid, 1, mid, 2, "one transaction per change");
  box(mid, 3, "streams (exactly once)", "fence, validate, state, fan out");
  arrow(mid, 2, mid, 3);
  tiers.forEach((t, i) => {
    box(i, 4, "mailstream.feed." + t.tier, null, "box topic");
    arrow(mid, 3, i, 4);
    const kind = t.type === "cyrus" ? "Cyrus replica" : t.type === "store" ? "out-of-band store" : "tier";
    box(i, 5, `${kind} ${t.tier}`, `${t.role}, epoch ${t.epoch}`, "box", "topology-tier-" + t.tier);
    const behind = t.eventsBehind > 0;
    arrow(i, 4, i, 5, `sink: ${t.eventsBehind} ev, ${t.secondsBehind === null ? "?" : t.secondsBehind.toFixed(1) + " s"}`,
      behind ? "lag-bad" : "lag-ok");
  });
  box(tiers.length, 4, "mailstream.state", "compacted, per mailbox", "box topic");
  arrow(mid, 3, tiers.length, 4);
  box(tiers.length + 1, 4, "mailstream.dlq", `${status.deadLetters.total} refused`, "box topic", "topology-dlq");
  arrow(mid, 3, tiers.length + 1, 4);
  svg.replaceChildren(...parts);
}

function renderDeadLetters(status) {
  const d = status.deadLetters;
  const total = document.getElementById("dead-letters-total");
  total.textContent = d.total;
  total.classList.toggle("nonzero", d.total > 0);
  document.getElementById("dead-letter-reasons").hidden = d.total === 0;
  document.getElementById("dead-letters").hidden = d.total === 0;
  document.getElementById("no-dead-letters").hidden = d.total > 0;
  fillRows(document.querySelector("#dead-letter-reasons tbody"), Object.entries(d.byReason).map(([reason, n]) => {
    const tr = el("tr", { "data-reason": reason });
    tr.append(el("td", {}, reason), el("td", { class: "num" }, n));
    return tr;
  }));
  fillRows(document.querySelector("#dead-letters tbody"), d.recent.map(l => {
    const tr = el("tr", {});
    tr.append(el("td", {}, fmtTime(l.time)), el("td", {}, l.reason),
      el("td", {}, `${l.sourceTopic}-${l.sourcePartition}@${l.sourceOffset}`), el("td", { class: "detail" }, l.detail));
    return tr;
  }));
}

function mailboxOf(change) {
  const p = change.payload || {};
  return p.name || p.mailboxName || p.newName || p.oldName || "";
}

function renderChanges(status) {
  fillRows(document.querySelector("#changes tbody"), status.recentChanges.map(c => {
    const e = c.envelope;
    const tr = el("tr", {});
    tr.append(el("td", {}, fmtTime(e.captureTime)), el("td", {}, e.partitionKey), el("td", { class: "change" }, c.type),
      el("td", {}, mailboxOf(c)), el("td", { class: "num" }, e.sequence), el("td", { class: "num" }, e.epoch));
    return tr;
  }));
}

function render(status) {
  document.getElementById("site").textContent = "— site " + status.site;
  document.getElementById("updated").textContent = "read at " + fmtTime(status.time) + ", every " + status.refreshSeconds + " s";
  const error = document.getElementById("error");
  error.hidden = !status.error;
  error.textContent = status.error ? "Last reading failed: " + status.error : "";
  renderTiers(status);
  renderLag(status);
  renderTopology(status);
  renderDeadLetters(status);
  renderChanges(status);
}

async function refresh() {
  try {
    const response = await fetch("/api/status", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const status = await response.json();
    refreshMs = Math.max(1, status.refreshSeconds) * 1000;
    render(status);
  } catch (e) {
    const error = document.getElementById("error");
    error.hidden = false;
    error.textContent = "Cannot reach this mailstream process: " + e.message;
  } finally {
    setTimeout(refresh, refreshMs);
  }
}

refresh();
