"use strict";
// The ops page: draws the nodes on their H3 cells (/v1/map), then follows
// the twin's event stream (/v1/events): a snapshot of counters and nodes
// every second, one event per divergence. Text goes in with textContent
// only; everything comes from the twin itself.
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const MAX_ROWS = 50;
  const $ = (id) => document.getElementById(id);
  const nodes = new Map(); // id -> {info, cell, marker, row}
  const cells = new Map(); // cell -> {poly, ids}
  const divs = new Map(); // seq -> row
  let last = null; // {at, received} of the previous snapshot, for the rate
  let es = null;

  function el(tag, attrs, text) {
    const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function td(text, cls) { return el("td", cls ? { class: cls } : {}, text); }
  const sum = (m) => Object.values(m || {}).reduce((a, b) => a + b, 0);

  function setBadge(id, state, text) {
    const b = $(id);
    b.dataset.state = state;
    b.textContent = text;
  }

  // drawMap projects the cells' boundaries (equirectangular, scaled by
  // the cosine of the mean latitude) into the SVG's viewBox.
  function drawMap(geo) {
    const svg = $("map");
    svg.replaceChildren();
    nodes.clear();
    cells.clear();
    const pts = geo.nodes.flatMap((n) => n.boundary.concat([[n.lat, n.lng]]));
    if (pts.length === 0) return;
    const lats = pts.map((p) => p[0]), lngs = pts.map((p) => p[1]);
    const minLat = Math.min(...lats), maxLat = Math.max(...lats);
    const minLng = Math.min(...lngs), maxLng = Math.max(...lngs);
    const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    const span = Math.max((maxLng - minLng) * k, maxLat - minLat) || 1;
    const scale = 1000 / span, pad = 40;
    const x = (lng) => pad + (lng - minLng) * k * scale;
    const y = (lat) => pad + (maxLat - lat) * scale;
    const w = (maxLng - minLng) * k * scale + 2 * pad, h = (maxLat - minLat) * scale + 2 * pad;
    svg.setAttribute("viewBox", `0 0 ${w.toFixed(1)} ${h.toFixed(1)}`);
    const gCells = el("svg:g", { class: "cells" }), gNodes = el("svg:g", { class: "nodes" });
    svg.append(gCells, gNodes);
    const seenAt = new Map(); // nodes at the same spot are spread out
    const r = Math.max(w, h) / 70;
    for (const n of geo.nodes) {
      let c = cells.get(n.cell);
      if (!c) {
        const points = n.boundary.map((p) => `${x(p[1]).toFixed(1)},${y(p[0]).toFixed(1)}`).join(" ");
        const poly = el("svg:polygon", { class: "cell", points, "data-cell": n.cell, "data-state": "online" });
        poly.append(el("svg:title", {}, `H3 cell ${n.cell}`));
        gCells.append(poly);
        c = { poly, ids: [] };
        cells.set(n.cell, c);
      }
      c.ids.push(n.id);
      const spot = `${n.lat},${n.lng}`;
      const i = seenAt.get(spot) || 0;
      seenAt.set(spot, i + 1);
      const cx = x(n.lng) + i * r * 3, cy = y(n.lat);
      const g = el("svg:g", { class: "node", "data-node": n.id, "data-online": "true" });
      const title = el("svg:title", {}, `${n.id} (${n.kind})`);
      const label = el("svg:text", { x: (cx + r * 1.4).toFixed(1), y: (cy - r * 0.3).toFixed(1), "font-size": (r * 2).toFixed(1) }, n.id);
      const occ = el("svg:text", { class: "occ", x: (cx + r * 1.4).toFixed(1), y: (cy + r * 1.6).toFixed(1), "font-size": (r * 1.4).toFixed(1) }, "");
      g.append(title, el("svg:circle", { cx: cx.toFixed(1), cy: cy.toFixed(1), r: r.toFixed(1) }), label, occ);
      gNodes.append(g);
      const row = el("tr", { "data-node": n.id, "data-online": "true" });
      row.append(td(n.id), td(n.kind), td("online", "state"), td("–", "occ"), td("–", "free"), td("–", "session"));
      $("nodes").tBodies[0].append(row);
      const capacity = sum(n.slots) + n.counter;
      nodes.set(n.id, { info: n, cell: c, marker: g, occ, row, capacity });
    }
  }

  const COUNTERS = [
    ["rate", "ingest rate (msgs/s)"], ["received", "received"], ["accepted", "accepted"], ["applied", "applied"],
    ["duplicates", "duplicates"], ["conflicts", "conflicts"], ["late", "late"], ["missing", "sequence gaps"],
    ["quarantined", "quarantined"], ["rejected", "core rejected"], ["ignored", "ignored"],
    ["timers_fired", "timers fired"], ["labels_forgotten", "labels forgotten"], ["divergences", "divergences"],
  ];
  function setupCounters() {
    const dl = $("counters");
    for (const [key, name] of COUNTERS) dl.append(el("dt", {}, name), el("dd", { id: "c-" + key }, "–"));
  }

  function onSnapshot(s) {
    $("clock").textContent = s.clock || "no message yet";
    setBadge("ready", s.ready ? "ready" : "not-ready", s.ready ? "ready" : "not ready");
    const c = s.counters, now = performance.now();
    const values = {
      received: c.received, accepted: c.accepted, applied: c.applied, duplicates: c.duplicates, conflicts: c.conflicts,
      late: c.late, missing: c.missing, quarantined: sum(c.quarantined), rejected: sum(c.rejected), ignored: sum(c.ignored),
      timers_fired: c.timers_fired, labels_forgotten: c.labels_forgotten, divergences: s.divergences,
    };
    if (last && now > last.at) values.rate = ((c.received - last.received) * 1000 / (now - last.at)).toFixed(1);
    last = { at: now, received: c.received };
    for (const [key, v] of Object.entries(values)) $("c-" + key).textContent = String(v);
    const kinds = $("kinds");
    kinds.replaceChildren();
    for (const [kind, n] of Object.entries(c.divergences || {}).sort()) kinds.append(el("dt", {}, kind), el("dd", { "data-kind": kind }, String(n)));
    if (kinds.children.length === 0) kinds.append(el("dt", { class: "muted" }, "none"), el("dd"));
    $("div-total").textContent = `(${s.divergences} so far)`;
    const dropped = $("dropped");
    dropped.hidden = !s.dropped;
    dropped.textContent = s.dropped
      ? `${s.dropped} divergence events did not reach this page (it fell behind); /v1/divergences lists them all.` : "";
    for (const v of s.nodes) {
      const n = nodes.get(v.id);
      if (!n) continue;
      const used = v.occupied + v.counter_held;
      const on = String(v.online);
      n.marker.dataset.online = on;
      n.row.dataset.online = on;
      n.row.querySelector(".state").textContent = v.online ? "online" : "offline";
      n.occ.textContent = n.capacity ? `${used}/${n.capacity}` : "";
      n.row.querySelector(".occ").textContent = n.capacity ? `${used}/${n.capacity}` : "–";
      n.row.querySelector(".free").textContent = Object.entries(v.free_slots || {}).map(([k, f]) => `${k} ${f}`).join(", ") || "–";
      n.row.querySelector(".session").textContent = String(v.session);
      n.used = used;
      n.online = v.online;
    }
    for (const c of cells.values()) {
      const ns = c.ids.map((id) => nodes.get(id));
      const on = ns.filter((n) => n.online !== false).length;
      c.poly.dataset.state = on === ns.length ? "online" : on === 0 ? "offline" : "mixed";
      const used = ns.reduce((a, n) => a + (n.used || 0), 0), cap = ns.reduce((a, n) => a + n.capacity, 0);
      c.poly.setAttribute("fill-opacity", (0.25 + 0.6 * (cap ? Math.min(used / cap, 1) : 0)).toFixed(2));
    }
  }

  function onDivergence(e) {
    if (divs.has(e.seq)) return;
    const d = e.divergence;
    const row = el("tr", { "data-seq": String(e.seq), "data-label": d.label, "data-kind": d.kind, class: "new" });
    row.append(td(String(e.seq)), td(d.label), td(d.kind), td(d.node || "–"), td(d.production, "wrap"), td(d.core, "wrap"),
      td(d.production_at || d.core_at || "–"));
    const body = $("divergences").tBodies[0];
    let before = null; // newest first
    for (const r of body.rows) if (Number(r.dataset.seq) < e.seq) { before = r; break; }
    body.insertBefore(row, before);
    divs.set(e.seq, row);
    while (body.rows.length > MAX_ROWS) {
      const old = body.rows[body.rows.length - 1];
      divs.delete(Number(old.dataset.seq));
      old.remove();
    }
    $("no-divergences").hidden = true;
  }

  function connect() {
    es = new EventSource("/v1/events");
    es.addEventListener("open", () => setBadge("conn", "live", "live"));
    es.addEventListener("error", () => {
      if (es.readyState === EventSource.CLOSED) { // refused (e.g. the session expired): start over
        setBadge("conn", "closed", "disconnected");
        setTimeout(start, 5000);
      } else {
        setBadge("conn", "reconnecting", "reconnecting");
      }
    });
    es.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
    es.addEventListener("divergence", (e) => onDivergence(JSON.parse(e.data)));
  }

  async function start() {
    try {
      const r = await fetch("/v1/map", { credentials: "same-origin", cache: "no-store" });
      if (r.status === 401) { // no session (any more): the login form
        location.replace("/ui");
        return;
      }
      if (!r.ok) throw new Error(`/v1/map: ${r.status}`);
      const geo = await r.json();
      if (nodes.size === 0) drawMap(geo);
      connect();
    } catch (err) {
      setBadge("conn", "closed", "twin unreachable");
      setTimeout(start, 5000);
    }
  }

  setupCounters();
  start();
})();
