// The UI's pictures, drawn from the status app.js polls (event "amadeus:status") and /api/coverage:
// Practice tab: the latest practice's loss curve, what to record next, a recording beside its resynthesis;
// Play tab: the coverage map with the notes being played on it (live dots) and the coverage warnings.
"use strict";

(() => {
  const q = (sel) => document.querySelector(sel);
  // The map's layout, as instrument_agent.coverage_map.drawing: a cell is one semitone × 5 dB.
  const CELL_W = 10, CELL_H = 12, LOUDNESS_BINS = 16, LOUDNESS_LOW_DB = -80, LOUDNESS_STEP_DB = 5, LABELS_H = 20;
  const MIN_SPAN = 36, RECENT_DOTS = 8;
  const NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
  const noteName = (n) => `${NOTE_NAMES[n % 12]}${Math.floor(n / 12) - 1}`;
  const viridis = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

  function color(t) {
    const x = Math.max(0, Math.min(1, t)) * (viridis.length - 1), i = Math.min(Math.floor(x), viridis.length - 2), f = x - i;
    const [a, b] = [viridis[i], viridis[i + 1]];
    return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * f)).join(",")})`;
  }

  // -- Practice: the loss curve ------------------------------------------------------
  function renderLoss(status) {
    const canvas = q("#loss-plot");
    const row = status.practices.find((r) => r.losses && r.losses.length) || null;
    const points = row ? row.losses : [];
    const key = row ? `${row.practice_id}:${points.length}` : "";
    if (canvas.dataset.key === key) return;
    canvas.dataset.key = key;
    canvas.dataset.points = String(points.length);
    canvas.dataset.practice = row ? row.practice_id : "";
    const g = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = { l: 48, r: 12, t: 10, b: 26 };
    g.clearRect(0, 0, W, H);
    g.strokeStyle = "#3a3f4f"; g.fillStyle = "#9a9cab"; g.font = "11px system-ui"; g.lineWidth = 1;
    g.strokeRect(pad.l, pad.t, W - pad.l - pad.r, H - pad.t - pad.b);
    if (!points.length) return;
    const steps = points.map((p) => p[0]), losses = points.map((p) => p[1]);
    const x0 = 0, x1 = Math.max(row.total_steps || 0, ...steps, 1);
    const lo = Math.min(...losses), hi = Math.max(...losses), span = hi - lo || Math.abs(hi) || 1;
    const X = (s) => pad.l + (s - x0) / (x1 - x0) * (W - pad.l - pad.r);
    const Y = (v) => pad.t + (1 - (v - lo) / span) * (H - pad.t - pad.b);
    g.fillText(hi.toFixed(3), 4, pad.t + 10); g.fillText(lo.toFixed(3), 4, H - pad.b);
    g.fillText("step 0", pad.l, H - 8); g.fillText(`step ${x1}`, W - pad.r - 60, H - 8);
    g.strokeStyle = "#e0a458"; g.lineWidth = 2; g.beginPath();
    points.forEach(([s, v], i) => (i ? g.lineTo(X(s), Y(v)) : g.moveTo(X(s), Y(v))));
    g.stroke();
    g.fillStyle = "#e0a458";
    for (const [s, v] of points) { g.beginPath(); g.arc(X(s), Y(v), 2.5, 0, 2 * Math.PI); g.fill(); }
    const last = points[points.length - 1];
    q("#loss-caption").textContent = `${row.deu} ${row.type}: step ${last[0]}${row.total_steps ? "/" + row.total_steps : ""}, loss ${last[1].toFixed(3)} (${points.length} points)`;
  }

  // -- the coverage of the deu that plays ----------------------------------------------
  let view = null, viewKey = "", loading = false;

  async function refreshCoverage(status) {
    const deu = status.selected_deu || Object.keys(status.current)[0] || "";
    const key = deu && status.current[deu] ? `${deu}:${status.current[deu].version}` : "";
    if (key === viewKey || loading) return;
    if (!key) { view = null; viewKey = ""; return; }
    loading = true;
    try {
      const response = await fetch(`/api/coverage?deu=${encodeURIComponent(deu)}`);
      view = response.ok ? await response.json() : null;
      viewKey = key;
    } finally { loading = false; }
    renderSuggestion();
    renderPreview();
  }

  function renderSuggestion() {
    const summary = view ? view.summary : null;
    q("#coverage-suggestion").textContent = !view ? "" : summary.suggestion
      ? `${view.deu} v${view.version}: ${summary.suggestion}.` : `${view.deu} v${view.version}: ${summary.lines[0]}`;
    q("#coverage-summary").replaceChildren(...(summary ? summary.lines : []).map((line) => {
      const li = document.createElement("li"); li.textContent = line; return li;
    }));
  }

  function renderPreview() {
    const has = view && ["recording.png", "resynthesis.png"].every((f) => view.preview.includes(f));
    q("#preview-pair").hidden = !has;
    q("#preview-empty").hidden = !!has || !view;
    if (!has) return;
    const base = `/api/preview/${encodeURIComponent(view.deu)}/${view.version}/`;
    for (const name of ["recording", "resynthesis"]) {
      q(`#preview-${name}`).src = base + `${name}.png`;
      if (view.preview.includes(`${name}.wav`)) q(`#preview-${name}-audio`).src = base + `${name}.wav`;
    }
  }

  // -- Play: the map with the notes being played ------------------------------------------
  function windowOf(cells, played) {
    const notes = cells.map((c) => c[0]).concat(played);
    let [low, high] = notes.length ? [Math.min(...notes) - 6, Math.max(...notes) + 6] : [48, 84];
    while (high - low + 1 < MIN_SPAN) { low -= 1; high += 1; }
    return [Math.max(0, low), Math.min(127, high)];
  }

  const loudnessBin = (db) => Math.max(0, Math.min(LOUDNESS_BINS - 1, Math.floor((db - LOUDNESS_LOW_DB) / LOUDNESS_STEP_DB)));

  function renderMap(status) {
    const canvas = q("#coverage-map");
    const coverage = status.player.coverage;
    const cells = view && view.coverage ? view.coverage.cells : [];
    const dots = coverage ? coverage.notes.slice(-RECENT_DOTS) : [];
    const key = JSON.stringify([viewKey, dots]);
    if (canvas.dataset.key === key) return;
    canvas.dataset.key = key;
    const [low, high] = windowOf(cells, dots.map((d) => d.note));
    canvas.width = (high - low + 1) * CELL_W; canvas.height = LOUDNESS_BINS * CELL_H + LABELS_H;
    canvas.dataset.low = String(low); canvas.dataset.high = String(high); canvas.dataset.cells = String(cells.length);
    const g = canvas.getContext("2d");
    g.fillStyle = "#212126"; g.fillRect(0, 0, canvas.width, LOUDNESS_BINS * CELL_H);
    const most = Math.log1p(10 * Math.max(0, ...cells.map((c) => c[2])));
    for (const [note, bin, seconds] of cells) {
      if (note < low || note > high) continue;
      g.fillStyle = color(Math.log1p(10 * seconds) / (most || 1));
      g.fillRect((note - low) * CELL_W, (LOUDNESS_BINS - 1 - bin) * CELL_H, CELL_W, CELL_H);
    }
    g.fillStyle = "#9a9cab"; g.font = "10px system-ui";
    for (let n = low; n <= high; n++) {
      if (n % 12) continue;
      g.fillStyle = "#55596a"; g.fillRect((n - low) * CELL_W, 0, 1, LOUDNESS_BINS * CELL_H);
      g.fillStyle = "#9a9cab"; g.fillText(noteName(n), (n - low) * CELL_W + 2, LOUDNESS_BINS * CELL_H + 14);
    }
    dots.forEach((d, i) => {
      if (d.loudness_db == null) return;
      const x = (d.note - low) * CELL_W + CELL_W / 2, y = (LOUDNESS_BINS - 1 - loudnessBin(d.loudness_db)) * CELL_H + CELL_H / 2;
      const newest = i === dots.length - 1;
      g.globalAlpha = newest ? 1 : 0.35 + 0.5 * (i / dots.length);
      g.fillStyle = d.outside.length ? "#ff2d2d" : "#ffffff";
      g.beginPath(); g.arc(x, y, newest ? 5 : 3.5, 0, 2 * Math.PI); g.fill();
      g.globalAlpha = 1;
    });
    const last = dots[dots.length - 1];
    canvas.dataset.lastNote = last ? String(last.note) : "";
    canvas.dataset.lastX = last ? String((last.note - low) * CELL_W + CELL_W / 2) : "";
    canvas.dataset.lastY = last && last.loudness_db != null ? String((LOUDNESS_BINS - 1 - loudnessBin(last.loudness_db)) * CELL_H + CELL_H / 2) : "";
    const warnings = coverage ? coverage.warnings.slice().reverse() : [];
    q("#coverage-warnings").replaceChildren(...warnings.map((w) => {
      const li = document.createElement("li"); li.dataset.kind = w.kind; li.textContent = `⚠ ${w.message} (phrase ${w.phrase})`; return li;
    }));
  }

  document.addEventListener("amadeus:status", (event) => {
    const status = event.detail;
    renderLoss(status);
    refreshCoverage(status).then(() => renderMap(status), () => renderMap(status));
  });
})();
