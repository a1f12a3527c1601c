// The agent's UI: three tabs over the JSON API of instrument_agent.agent.web.
"use strict";

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
};

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body instanceof Blob) init.body = body;
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

// The banner shows the last failed action until the next action, else the agent's own error (sync, studio).
function showError(message, source = "user") {
  const banner = $("#error");
  if (source === "agent" && banner.dataset.source === "user" && !banner.hidden) return;
  banner.textContent = message;
  banner.dataset.source = source;
  banner.hidden = !message;
}

async function run(action) {
  try { showError(""); return await action(); } catch (err) { showError(err.message); return undefined; }
}

// -- tabs ----------------------------------------------------------------------
for (const tab of document.querySelectorAll("nav [role=tab]")) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll("nav [role=tab]")) {
      other.setAttribute("aria-selected", String(other === tab));
      $("#" + other.dataset.tab).hidden = other !== tab;
    }
    if (tab.dataset.tab === "play") { loadMidiInputs(); loadVersions(); }
  });
}

// -- status (polled) -----------------------------------------------------------
let lastStatus = null;

function pill(node, text, kind) { node.textContent = text; node.className = "pill " + (kind || ""); }

function renderStatus(s) {
  lastStatus = s;
  const playing = s.player.playing;
  pill($("#playing"), playing ? `playing ${playing.deu} v${playing.version}` : "nothing to play yet", playing ? "ok" : "");
  const progress = s.sync_progress ? ` · syncing ${s.sync_progress.deu} ${Math.round(100 * s.sync_progress.bytes / Math.max(1, s.sync_progress.total))}%` : "";
  pill($("#connection"), (s.studio ? `${s.studio}: ${s.connection}` : s.connection) + progress, s.online === false ? "bad" : s.online ? "ok" : "");
  pill($("#practice-status"), s.practice, s.practice === "up to date" ? "ok" : "busy");
  showError(s.error, "agent");
  renderPractices(s.practices);
  renderStudios(s);
  renderDeus(s);
  renderHearing(s);
  $("#audio-status").textContent = `audio: ${s.player.audio}`;
  const p = s.player;
  $("#audio-backend").textContent = p.backend;
  $("#audio-figures").textContent = p.backend === "none" || p.backend === "stopped" ? "" :
    `${p.sample_rate} Hz · ${p.block_size}-frame blocks (${(1000 * p.block_size / p.sample_rate).toFixed(1)} ms) · ` +
    `latency ${p.latency_frames} frames reported · ${p.xruns} xruns`;
  $("#midi-status").textContent = s.player.midi;
  if (document.activeElement !== $("#data-path")) $("#data-path").value = s.data_path;
  $("#free-space").textContent = s.free_bytes != null ? `${(s.free_bytes / 2 ** 30).toFixed(1)} GiB free` : "";
  for (const [id, key] of [["#set-sample-rate", "sample_rate"], ["#set-block-size", "block_size"], ["#set-sync-interval", "sync_interval_s"]]) {
    if (document.activeElement !== $(id)) $(id).value = s.settings[key];
  }
  $("#record").classList.toggle("on", s.player.recording);
  $("#record").textContent = s.player.recording ? "■ Stop recording" : "● Record";
  document.dispatchEvent(new CustomEvent("amadeus:status", { detail: s }));  // pictures.js draws from it
}

async function refresh() {
  try { renderStatus(await api("GET", "/api/status")); } catch (err) { showError(`the agent does not answer (${err.message})`, "agent"); }
}

// -- practice --------------------------------------------------------------------
$("#practice-file").addEventListener("change", () => {
  const file = $("#practice-file").files[0];
  const preview = $("#preview");
  if (file) { preview.src = URL.createObjectURL(file); preview.hidden = false; } else { preview.hidden = true; }
});

$("#practice-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const file = $("#practice-file").files[0];
  const deu = $("#practice-deu").value.trim();
  const steps = $("#practice-steps").value || "0";
  $("#practice-start").disabled = true;
  run(async () => {
    await api("POST", `/api/practice?deu=${encodeURIComponent(deu)}&steps=${encodeURIComponent(steps)}`, file, { "X-Filename": encodeURIComponent(file.name) });
    await refresh();
  }).finally(() => { $("#practice-start").disabled = false; });
});

function renderPractices(rows) {
  const body = $("#practices tbody");
  body.replaceChildren(...rows.map((r) => el("tr", { "data-practice": r.practice_id, "data-phase": r.phase },
    el("td", {}, r.deu), el("td", {}, r.type), el("td", {}, r.files.join(", ")),
    el("td", {}, r.phase), el("td", {}, r.stage + (r.message ? ` — ${r.message}` : "")),
    el("td", {}, el("progress", { max: "1", value: String(r.progress) }), ` ${Math.round(100 * r.progress)}%`),
    el("td", {}, r.loss == null ? "" : r.loss.toFixed(3)), el("td", {}, r.version ? `v${r.version}` : ""))));
  $("#practices-empty").hidden = rows.length > 0;
}

// -- play ------------------------------------------------------------------------
// Hear it learn: "preview step N" while a practice's preview plays, "version N" otherwise.
function renderHearing(s) {
  const playing = s.player.playing;
  const follow = (s.previews || [])[0];
  $("#hearing-label").textContent = playing ? `${playing.deu} ${playing.label}` : "nothing yet";
  $("#hearing").dataset.kind = playing && playing.preview_step ? "preview" : playing ? "version" : "";
  $("#hearing-detail").textContent = follow
    ? `following practice ${follow.practice_id}: ${follow.label}${follow.loss == null ? "" : `, loss ${follow.loss.toFixed(3)}`}` +
      (follow.error ? ` — ${follow.error}` : "") + "; its version replaces the preview when it publishes"
    : "";
  if (playing && playing.preview_step) pill($("#playing"), `playing ${playing.deu} preview step ${playing.preview_step}`, "busy");
}

function renderDeus(s) {
  const select = $("#deu-select");
  const names = Object.keys(s.current);
  const wanted = names.map((n) => `${n}:${s.current[n].version}`).join(",") + "|" + s.selected_deu;
  if (select.dataset.key === wanted) return;
  select.dataset.key = wanted;
  select.replaceChildren(...names.map((n) => el("option", { value: n }, `${n} v${s.current[n].version}`)));
  select.value = s.selected_deu;
  if (!$("#play").hidden) loadVersions();
}
$("#deu-select").addEventListener("change", () => run(() => api("POST", "/api/deu", { deu: $("#deu-select").value })));

const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const COMPUTER_KEYS = "awsedftgyhujk";
const FIRST_NOTE = 48; // C3
const held = new Set();

// The notes played on the keys, for "A/B on what I just played": a take restarts after 3 s of silence.
let take = [];
const sounding = new Map();
function remember(note, on) {
  const now = performance.now() / 1000;
  if (on) {
    const last = take.length ? Math.max(...take.map((n) => n.end_abs ?? now)) : -Infinity;
    if (sounding.size === 0 && now - last > 3) take = [];
    const item = { note, velocity: 100, start_abs: now };
    take.push(item); sounding.set(note, item);
  } else if (sounding.has(note)) { sounding.get(note).end_abs = Math.max(now, sounding.get(note).start_abs + 0.05); sounding.delete(note); }
}
function takeNotes() {
  const done = take.filter((n) => n.end_abs !== undefined);
  if (!done.length) return null;
  const t0 = Math.min(...done.map((n) => n.start_abs));
  return done.map((n) => ({ note: n.note, velocity: n.velocity, start_s: n.start_abs - t0 + 0.1, end_s: n.end_abs - t0 + 0.1 }));
}

function noteOn(note) {
  if (held.has(note)) return;
  held.add(note);
  remember(note, true);
  document.querySelector(`.key[data-note="${note}"]`)?.classList.add("down");
  run(() => api("POST", "/api/play/note", { note, velocity: 100, on: true }));
}
function noteOff(note) {
  if (!held.delete(note)) return;
  remember(note, false);
  document.querySelector(`.key[data-note="${note}"]`)?.classList.remove("down");
  run(() => api("POST", "/api/play/note", { note, velocity: 0, on: false }));
}

function buildKeyboard() {
  const keyboard = $("#keyboard");
  let x = 0;
  for (let note = FIRST_NOTE; note < FIRST_NOTE + 25; note++) {
    const name = NAMES[note % 12];
    const black = name.includes("#");
    const key = el("div", { class: `key ${black ? "black" : "white"}`, "data-note": String(note), title: `${name}${Math.floor(note / 12) - 1}` },
      name === "C" ? `C${Math.floor(note / 12) - 1}` : "");
    key.style.left = black ? `${x - 14}px` : `${x}px`;
    if (!black) x += 44;
    key.addEventListener("pointerdown", (e) => { e.preventDefault(); noteOn(note); });
    key.addEventListener("pointerup", () => noteOff(note));
    key.addEventListener("pointerleave", () => noteOff(note));
    keyboard.append(key);
  }
  keyboard.style.width = `${x}px`;
}
buildKeyboard();

document.addEventListener("keydown", (e) => {
  if (e.repeat || $("#play").hidden || e.target.matches("input, select")) return;
  const i = COMPUTER_KEYS.indexOf(e.key.toLowerCase());
  if (i >= 0) noteOn(FIRST_NOTE + 12 + i);
});
document.addEventListener("keyup", (e) => {
  const i = COMPUTER_KEYS.indexOf(e.key.toLowerCase());
  if (i >= 0) noteOff(FIRST_NOTE + 12 + i);
});

async function loadMidiInputs() {
  const data = await run(() => api("GET", "/api/midi/inputs"));
  if (!data) return;
  const select = $("#midi-select");
  select.replaceChildren(el("option", { value: "" }, "Virtual port (for your DAW)"), ...data.inputs.map((n) => el("option", { value: n }, n)));
  select.value = data.current && data.inputs.includes(data.current) ? data.current : "";
}
$("#midi-use").addEventListener("click", () => run(async () => { await api("POST", "/api/midi/input", { name: $("#midi-select").value }); await refresh(); }));

$("#record").addEventListener("click", () => run(async () => {
  if (lastStatus && lastStatus.player.recording) {
    const result = await api("POST", "/api/record/stop");
    const name = result.url.split("/").pop();
    $("#recordings").prepend(el("li", {}, el("a", { href: result.url, download: name }, name), el("audio", { controls: "", src: result.url })));
  } else {
    await api("POST", "/api/record/start");
  }
  await refresh();
}));

// -- repair ----------------------------------------------------------------------
function renderStudios(s) {
  const body = $("#studios tbody");
  const key = JSON.stringify([s.studio, s.studios]);
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  body.replaceChildren(...s.studios.map((st) => el("tr", { "data-studio": st.name },
    el("td", {}, el("input", { type: "radio", name: "selected-studio", value: st.name, ...(st.name === s.studio ? { checked: "" } : {}),
      onchange: () => run(async () => { await api("POST", "/api/studios/select", { name: st.name }); await refresh(); }) })),
    el("td", {}, st.name), el("td", {}, st.address), el("td", {}, st.tls ? "yes" : "no"), el("td", {}, st.has_token ? "set" : "—"),
    el("td", {}, el("button", { type: "button", class: "remove", onclick: () => run(async () => { await api("DELETE", `/api/studios/${encodeURIComponent(st.name)}`); await refresh(); }) }, "Remove")))));
}

$("#studio-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    await api("POST", "/api/studios", { name: $("#studio-name").value, address: $("#studio-address").value, token: $("#studio-token").value, tls: $("#studio-tls").checked });
    $("#studio-form").reset();
    await refresh();
  });
});

$("#sync-now").addEventListener("click", () => run(async () => {
  $("#sync-result").textContent = "syncing…";
  try {
    const report = await api("POST", "/api/sync");
    $("#sync-result").textContent = report.deus.map((d) => `${d.deu} v${d.version}: ${d.action}`).join(", ") || "nothing to sync";
  } catch (err) { $("#sync-result").textContent = "sync failed"; throw err; } finally { await refresh(); }
}));

$("#data-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => { await api("POST", "/api/settings", { data_path: $("#data-path").value }); $("#data-path").blur(); await refresh(); });
});

$("#settings-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    await api("POST", "/api/settings", { sample_rate: $("#set-sample-rate").value, block_size: $("#set-block-size").value, sync_interval_s: $("#set-sync-interval").value });
    await refresh();
  });
});

refresh();
setInterval(refresh, 1000);

// -- A/B: two versions on the same notes ------------------------------------------
async function loadVersions() {
  const deu = $("#deu-select").value;
  if (!deu) return;
  const data = await run(() => api("GET", `/api/versions?deu=${encodeURIComponent(deu)}`));
  if (!data) return;
  const options = () => data.versions.map((v) => el("option", { value: String(v.version) },
    `v${v.version}${v.version === data.champion ? " ★ champion" : ""}${v.version === data.default && v.version !== data.champion ? " (default)" : ""}`));
  for (const id of ["#ab-a", "#ab-b"]) {
    const keep = $(id).value;
    $(id).replaceChildren(...options());
    if (keep && data.versions.some((v) => String(v.version) === keep)) $(id).value = keep;
  }
  const numbers = data.versions.map((v) => v.version);
  if (!$("#ab-a").dataset.touched) $("#ab-a").value = String(data.champion ?? numbers[Math.max(0, numbers.length - 2)]);
  if (!$("#ab-b").dataset.touched) $("#ab-b").value = String(numbers[numbers.length - 1]);
}
for (const id of ["#ab-a", "#ab-b"]) $(id).addEventListener("change", () => { $(id).dataset.touched = "1"; });

const abAudio = { a: $("#ab-audio-a"), b: $("#ab-audio-b") };
let abSide = null;
function abPlay(side) {
  const other = side === "a" ? "b" : "a";
  const at = abSide ? abAudio[abSide].currentTime : 0;
  abAudio[other].pause();
  abAudio[side].currentTime = Math.min(at, abAudio[side].duration || at);
  abAudio[side].play().catch(() => {});  // headless browsers may refuse to start sound; the switch still happens
  abSide = side;
  $("#ab-play-a").classList.toggle("on", side === "a");
  $("#ab-play-b").classList.toggle("on", side === "b");
  $("#ab-now").textContent = `playing ${side.toUpperCase()} (v${abAudio[side].dataset.version}) from ${at.toFixed(2)} s`;
}
$("#ab-play-a").addEventListener("click", () => abPlay("a"));
$("#ab-play-b").addEventListener("click", () => abPlay("b"));
$("#ab-stop").addEventListener("click", () => { abAudio.a.pause(); abAudio.b.pause(); abSide = null; $("#ab-now").textContent = "stopped";
  $("#ab-play-a").classList.remove("on"); $("#ab-play-b").classList.remove("on"); });

function drawSpectrograms(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => {
      const half = (image.width - 8) / 2;  // the PNG holds A, an 8-pixel white gap, then B
      for (const [id, x] of [["#spec-a", 0], ["#spec-b", half + 8]]) {
        const canvas = $(id);
        canvas.getContext("2d").drawImage(image, x, 0, half, image.height, 0, 0, canvas.width, canvas.height);
      }
      resolve();
    };
    image.onerror = () => reject(new Error(`could not load the spectrogram ${url}`));
    image.src = url;
  });
}

$("#ab-compare").addEventListener("click", () => run(async () => {
  const deu = $("#deu-select").value;
  const notes = $("#ab-phrase").value === "mine" ? takeNotes() : null;
  if ($("#ab-phrase").value === "mine" && !notes) throw new Error("play some notes on the keys first (or choose the demo phrase)");
  $("#ab-status").textContent = "rendering both…";
  $("#ab-compare").disabled = true;
  try {
    const r = await api("POST", "/api/compare", { deu, a: $("#ab-a").value, b: $("#ab-b").value, notes });
    // Both renders held in memory (blob URLs): seekable at once, so a switch keeps the position.
    const blobs = await Promise.all(["a", "b"].map(async (side) => {
      const response = await fetch(r[side].url);
      if (!response.ok) throw new Error(`could not load ${r[side].url}`);
      return response.blob();
    }));
    ["a", "b"].forEach((side, i) => {
      if (abAudio[side].src.startsWith("blob:")) URL.revokeObjectURL(abAudio[side].src);
      abAudio[side].src = URL.createObjectURL(blobs[i]);
      abAudio[side].dataset.version = r[side].version;
      abAudio[side].dataset.url = r[side].url;
      abAudio[side].load();
    });
    abSide = null;
    $("#ab-player").hidden = false;
    $("#compare-view").hidden = false;
    $("#spec-a-caption").textContent = `A: ${deu} v${r.a.version}`;
    $("#spec-b-caption").textContent = `B: ${deu} v${r.b.version}`;
    const rows = [
      ["multi-scale spectral distance", "", "", r.spectral_distance.toFixed(3)],
      ["spectral centroid (Hz)", ...r.centroid_hz.map((v) => v.toFixed(0)), (r.centroid_hz[1] - r.centroid_hz[0]).toFixed(0)],
      ["A-weighted level (dB)", ...r.a_weighted_db.map((v) => v.toFixed(1)), (r.a_weighted_db[1] - r.a_weighted_db[0]).toFixed(1)],
      ["RMS level (dB)", ...r.rms_db.map((v) => v.toFixed(1)), (r.rms_db[1] - r.rms_db[0]).toFixed(1)],
    ];
    $("#compare-table tbody").replaceChildren(...rows.map((row) => el("tr", {}, ...row.map((c) => el("td", {}, c)))));
    await drawSpectrograms(r.spectrogram);
    $("#ab-status").textContent = `v${r.a.version} and v${r.b.version} on ${r.phrase}`;
  } finally { $("#ab-compare").disabled = false; }
}));
