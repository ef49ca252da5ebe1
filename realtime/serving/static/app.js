// The page of `realtime serve`: the webcam goes to the server over WebRTC and comes back stylised on the
// same peer connection; settings travel on a data channel. Standard APIs only (getUserMedia,
// RTCPeerConnection, MediaRecorder), no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
const STRENGTH_STEP = 0.1;
const STROKE_STEP = 0.25; // as the live window's > and <; the server keeps it within 0–4
const HUD_MODES = ["hud", "hud+help", "clean"];
const ICE_WAIT_MS = 3000;

const view = {
  styles: [],
  settings: null,
  pc: null,
  channel: null,
  camera: null,
  recorder: null,
  hud: 0,
  rtt: 0,
  serverMs: 0,
  frames: 0,
  jitter: null,
  messageTimer: 0,
};

// ---- talking to the server ------------------------------------------------------------------------

function withToken(path) {
  return token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new Error(body && body.error ? body.error : `${response.status} ${response.statusText}`);
  return body;
}

function send(changes) {
  if (view.channel && view.channel.readyState === "open") view.channel.send(JSON.stringify({ set: changes }));
}

// ---- messages on screen ---------------------------------------------------------------------------

function setStatus(text) {
  $("status").textContent = text;
}

function flash(text) {
  const box = $("message");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(view.messageTimer);
  view.messageTimer = setTimeout(() => (box.hidden = true), 4000);
}

// ---- the gallery ----------------------------------------------------------------------------------

async function loadStyles() {
  view.styles = await api("api/styles");
  const list = $("styles");
  list.replaceChildren();
  view.styles.forEach((style, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.id = style.id;
    button.title = i < 10 ? `${style.name} (key ${(i + 1) % 10})` : style.name;
    const img = document.createElement("img");
    img.src = withToken(style.thumbnail.replace(/^\//, ""));
    img.alt = "";
    img.loading = "lazy";
    const label = document.createElement("span");
    label.textContent = style.name;
    button.append(img, label);
    button.addEventListener("click", () => pickStyle(style.id));
    const item = document.createElement("li");
    item.append(button);
    list.append(item);
  });
  markStyle();
}

function markStyle() {
  const current = view.settings && view.settings.style;
  for (const button of $("styles").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.id === current));
  }
}

function pickStyle(id, morph = false) {
  send(morph ? { style: id, morph: true } : { style: id });
}

function stepStyle(direction, morph = false) {
  if (!view.styles.length || !view.settings) return;
  const at = view.styles.findIndex((s) => s.id === view.settings.style);
  const next = (at + direction + view.styles.length) % view.styles.length;
  pickStyle(view.styles[next].id, morph);
}

async function upload(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) {
    flash(`${file.name} is not an image this browser recognises`);
    return;
  }
  setStatus(`making a style of ${file.name}…`);
  try {
    const style = await api(`api/styles?name=${encodeURIComponent(file.name)}`, {
      method: "POST",
      body: file,
      headers: { "Content-Type": file.type },
    });
    await loadStyles();
    pickStyle(style.id);
    setStatus(`${style.name} is a style now`);
  } catch (error) {
    flash(`upload refused: ${error.message}`);
    setStatus("connected");
  }
}

// ---- the connection -------------------------------------------------------------------------------

function iceGathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ICE_WAIT_MS); // send what we have: the server's candidates may still reach us
  });
}

async function connect() {
  $("connect").hidden = true;
  if (!navigator.mediaDevices) {
    setStatus("browsers give the camera only to https:// pages and localhost: open this page over https");
    return;
  }
  try {
    setStatus("asking for the camera…");
    view.camera = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (error) {
    setStatus(`no camera: ${error.message}`);
    $("connect").hidden = false;
    return;
  }
  const pc = new RTCPeerConnection();
  view.pc = pc;
  pc.addTransceiver(view.camera.getVideoTracks()[0], { direction: "sendrecv", streams: [view.camera] });
  const channel = pc.createDataChannel("control");
  view.channel = channel;
  channel.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
  pc.addEventListener("track", (event) => {
    $("output").srcObject = event.streams[0] || new MediaStream([event.track]);
  });
  pc.addEventListener("connectionstatechange", () => {
    if (pc !== view.pc) return;
    if (pc.connectionState === "connected") setStatus("connected");
    if (pc.connectionState === "disconnected") setStatus("connection interrupted; waiting for it to come back…");
    if (["failed", "closed"].includes(pc.connectionState)) hangUp(`connection ${pc.connectionState}`);
  });
  try {
    setStatus("connecting…");
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    const answer = await api("offer", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer" }),
    });
    await pc.setRemoteDescription(answer);
  } catch (error) {
    hangUp(error.message);
  }
}

function hangUp(why = "hung up") {
  if (view.recorder) view.recorder.stop();
  if (view.pc) view.pc.close();
  if (view.camera) view.camera.getTracks().forEach((t) => t.stop());
  view.pc = view.channel = view.camera = null;
  setStatus(why);
  $("connect").hidden = false;
}

function onMessage(message) {
  if (message.state) {
    view.settings = message.state;
    showSettings();
  }
  if (message.stats) view.serverMs = message.stats.server_ms;
  if (message.pong !== undefined) view.rtt = performance.now() - message.pong;
  if (message.error) flash(message.error);
}

function showSettings() {
  const s = view.settings;
  $("strength").value = s.strength;
  for (const flag of ["preserve_color", "mirror", "compare", "paused"]) $(flag).checked = s[flag];
  $("style-name").textContent = s.style_name;
  $("size").textContent = `size ${s.size}`;
  const painted = Math.abs(s.painted_stroke - s.stroke) < 0.05 ? "" : ` (painted ${s.painted_stroke.toFixed(1)} at this size)`;
  $("stroke").textContent = `strokes ${s.stroke}${painted}`;
  markStyle();
}

// ---- numbers on screen: frames shown per second, and round-trip latency ---------------------------

function countFrames() {
  const video = $("output");
  if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
  const tick = () => {
    view.frames += 1;
    video.requestVideoFrameCallback(tick);
  };
  video.requestVideoFrameCallback(tick);
}

async function jitterBufferMs(pc) {
  // The receiver's mean hold time over the last second: the part of the latency the server cannot see.
  const stats = await pc.getStats();
  let now = null;
  stats.forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") now = { delay: r.jitterBufferDelay, count: r.jitterBufferEmittedCount, fps: r.framesPerSecond };
  });
  if (!now) return { ms: 0, fps: 0 };
  const before = view.jitter || { delay: 0, count: 0 };
  view.jitter = now;
  const frames = now.count - before.count;
  return { ms: frames > 0 ? ((now.delay - before.delay) / frames) * 1000 : 0, fps: now.fps || 0 };
}

async function everySecond() {
  const pc = view.pc;
  if (view.channel && view.channel.readyState === "open") view.channel.send(JSON.stringify({ ping: performance.now() }));
  if (!pc || pc.connectionState !== "connected") return;
  const buffer = await jitterBufferMs(pc);
  const fps = "requestVideoFrameCallback" in HTMLVideoElement.prototype ? view.frames : buffer.fps;
  view.frames = 0;
  $("fps").textContent = `${fps.toFixed(0)} fps`;
  $("latency").textContent = `≈ ${(view.rtt + view.serverMs + buffer.ms).toFixed(0)} ms`;
}

// ---- snapshot and recording (in the browser: the frames are here already) ------------------------

function stamp() {
  return new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
}

function download(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function snapshot() {
  const video = $("output");
  if (!video.videoWidth) {
    flash("nothing to snapshot yet");
    return;
  }
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => download(blob, `realtime-snapshot-${stamp()}.png`), "image/png");
  flash("snapshot saved");
}

function toggleRecording() {
  if (view.recorder) {
    view.recorder.stop();
    return;
  }
  const stream = $("output").srcObject;
  if (!stream || typeof MediaRecorder === "undefined") {
    flash(stream ? "this browser cannot record" : "nothing to record yet");
    return;
  }
  const type = ["video/webm;codecs=vp9", "video/webm", "video/mp4"].find((t) => MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
  const chunks = [];
  recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
  recorder.addEventListener("stop", () => {
    view.recorder = null;
    $("rec").hidden = true;
    const kind = recorder.mimeType.startsWith("video/mp4") ? "mp4" : "webm";
    download(new Blob(chunks, { type: recorder.mimeType }), `realtime-recording-${stamp()}.${kind}`);
    flash("recording saved");
  });
  recorder.start(1000);
  view.recorder = recorder;
  $("rec").hidden = false;
}

// ---- the live window's hotkeys ----------------------------------------------------------------------

function cycleHud() {
  view.hud = (view.hud + 1) % HUD_MODES.length;
  const mode = HUD_MODES[view.hud];
  $("hud").hidden = mode === "clean";
  $("help").hidden = mode !== "hud+help";
}

function flip(flag) {
  if (view.settings) send({ [flag]: !view.settings[flag] });
}

function nudgeStrength(step) {
  if (!view.settings) return;
  send({ strength: Math.round(Math.min(1, Math.max(0, view.settings.strength + step)) * 100) / 100 });
}

function nudgeStroke(step) {
  if (!view.settings) return;
  send({ stroke: Math.max(0, Math.round((view.settings.stroke + step) * 100) / 100) });
}

const KEYS = {
  ArrowRight: () => stepStyle(1),
  n: () => stepStyle(1),
  ArrowLeft: () => stepStyle(-1),
  p: () => stepStyle(-1),
  b: () => stepStyle(1, true),
  "+": () => nudgeStrength(STRENGTH_STEP),
  "=": () => nudgeStrength(STRENGTH_STEP),
  "-": () => nudgeStrength(-STRENGTH_STEP),
  _: () => nudgeStrength(-STRENGTH_STEP),
  ".": () => nudgeStroke(STROKE_STEP),
  ">": () => nudgeStroke(STROKE_STEP),
  ",": () => nudgeStroke(-STROKE_STEP),
  "<": () => nudgeStroke(-STROKE_STEP),
  "]": () => send({ size_step: 1 }),
  "[": () => send({ size_step: -1 }),
  m: () => flip("mirror"),
  c: () => flip("compare"),
  " ": () => flip("paused"),
  r: toggleRecording,
  s: snapshot,
  h: cycleHud,
  q: () => hangUp(),
  Escape: () => hangUp(),
};

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target instanceof HTMLInputElement && event.target.type === "text") return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  let action = KEYS[key];
  if (!action && /^[0-9]$/.test(key)) {
    const index = (Number(key) + 9) % 10; // 1 → the first style, 0 → the tenth
    action = () => view.styles[index] && pickStyle(view.styles[index].id);
  }
  if (!action) return;
  event.preventDefault();
  action();
}

// ---- wiring -----------------------------------------------------------------------------------------

function wire() {
  $("strength").addEventListener("input", (e) => send({ strength: Number(e.target.value) }));
  for (const flag of ["preserve_color", "mirror", "compare", "paused"]) {
    $(flag).addEventListener("change", (e) => send({ [flag]: e.target.checked }));
  }
  $("snapshot").addEventListener("click", snapshot);
  $("record").addEventListener("click", toggleRecording);
  $("hangup").addEventListener("click", () => hangUp());
  $("connect").addEventListener("click", connect);
  $("upload").addEventListener("change", (e) => upload(e.target.files[0]));
  const drop = $("drop");
  document.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  document.addEventListener("dragleave", () => drop.classList.remove("over"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    upload(e.dataTransfer.files[0]);
  });
  document.addEventListener("keydown", onKey);
  // Leaving the page ends the call at once; otherwise the server notices only when ICE consent fails (~30 s).
  window.addEventListener("pagehide", () => hangUp("left the page"));
  countFrames();
  setInterval(everySecond, 1000);
}

async function start() {
  wire();
  try {
    await loadStyles();
  } catch (error) {
    setStatus(error.message);
    return;
  }
  await connect();
}

start();
