// The page: the camera's frames through the generator in this browser, onto the canvas; styles, hotkeys and
// messages. What the Python side knows (styles, their targets and palettes, working sizes) is in site.json.

import { blend, moments, paletteAffine, recolor } from "./colors.js";
import { Engine } from "./engine.js";
import { WorkingSize } from "./sizing.js";
import { loadStyles, neutralTarget, pictureStyle } from "./styles.js";

const STRENGTH_STEP = 0.1;
const NOTICE_MS = 8000; // a note stays this long: long enough to read, then the picture is whole again
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

const CAMERA_ERRORS = {
  NotAllowedError: "The camera was refused. Allow it for this page (the camera icon in the address bar), then reload.",
  SecurityError: "The camera was refused. Allow it for this page (the camera icon in the address bar), then reload.",
  NotFoundError: "No camera found. Connect one, then reload.",
  OverconstrainedError: "No camera found. Connect one, then reload.",
  NotReadableError: "The camera is in use by another program. Close it, then reload.",
};

const look = { style: 0, strength: 1, mirror: true, compare: false, keepColors: false, paused: false };
let site, styles, neutral, engine, size, noticeTimer;
const work = document.createElement("canvas");
const workContext = work.getContext("2d", { willReadFrequently: true });
const output = $("output");
const outputContext = output.getContext("2d", { willReadFrequently: true });

main().catch((error) => document.body.dataset.state === "error" || fail(`The page could not start: ${error.message || error}`));

async function main() {
  if (location.protocol === "file:") {
    throw stop("Open this page from a web server (https:// or localhost), not as a file: browsers keep files from loading the model.");
  }
  site = await (await fetch("site.json")).json();
  styles = await loadStyles(site);
  neutral = neutralTarget(styles);
  size = new WorkingSize(site.working_sizes, site.start_size, site.frame_budget_ms, Number(params.get("size")) || 0);
  $("strength").max = site.max_strength;
  renderGallery();
  bindControls();
  setStatus("loading the model and the camera…");
  const [loaded] = await Promise.all([Engine.load(site, params.get("backend")), startCamera()]);
  engine = loaded;
  $("backend").textContent = engine.describe();
  if (engine.backend === "wasm" && !params.get("backend")) {
    const why = engine.webGpuFailure ? `WebGPU failed (${engine.webGpuFailure.message})` : "No WebGPU in this browser";
    notice(`${why}: painting on the CPU (WASM), at the size it keeps up with.`);
  }
  setStatus(`${site.model.name} on ${engine.describe()}`);
  showSize();
  document.body.dataset.state = "running";
  paintLoop();
}

async function startCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw stop("The camera needs a secure page: open this page over https:// or on localhost.");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (error) {
    throw stop(CAMERA_ERRORS[error.name] || `The camera could not start: ${error.message}`);
  }
  stream.getVideoTracks()[0].addEventListener("ended", () => fail("The camera stopped. Reconnect it, then reload."));
  const camera = $("camera");
  camera.srcObject = stream;
  await camera.play();
}

async function paintLoop() {
  const camera = $("camera");
  const fps = new Rate();
  while (document.body.dataset.state === "running") {
    await nextFrame(camera);
    if (look.paused || !camera.videoWidth) continue;
    const { width, height } = size.frame(camera.videoWidth, camera.videoHeight);
    const photo = grab(camera, width, height);
    const started = performance.now();
    let painted;
    try {
      painted = await paint(photo, width, height);
    } catch (error) {
      if (engine.backend !== "webgpu") return fail(`The generator stopped (${error.message || error}); reload the page.`);
      notice(`WebGPU failed (${error.message || error}): painting on the CPU (WASM) now.`);
      engine = await Engine.load(site, "wasm");
      $("backend").textContent = engine.describe();
      setStatus(`${site.model.name} on ${engine.describe()}`);
      continue;
    }
    if (size.observe(performance.now() - started)) showSize();
    show(photo, painted, width, height);
    $("fps").textContent = `${fps.tick().toFixed(1)} fps`;
  }
}

function grab(camera, width, height) {
  if (work.width !== width || work.height !== height) Object.assign(work, { width, height });
  workContext.setTransform(look.mirror ? -1 : 1, 0, 0, 1, look.mirror ? width : 0, 0);
  workContext.drawImage(camera, 0, 0, width, height);
  const data = workContext.getImageData(0, 0, width, height).data;
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

// As the desktop's Stylizer: a palette comes between the generator (at full strength) and the blend.
async function paint(photo, width, height) {
  const style = styles[look.style];
  const palette = look.keepColors ? null : style.palette;
  const strength = Math.min(look.strength, 1);
  const painted = await engine.paint(photo, width, height, target(style), palette ? 1 : strength, look.keepColors);
  if (palette) {
    recolor(painted, paletteAffine(palette, moments(painted, width, height, site.palette.sample_pixels), site.palette));
    if (strength < 1) blend(painted, photo, strength);
  }
  return painted;
}

// Above strength 1 the target is pushed away from the built-ins' mean, as `bolder` does on the desktop.
// Without built-in styles there is no neutral target, and the target is scaled instead.
function target(style) {
  if (look.strength <= 1) return style.target;
  const key = `${look.style}:${look.strength}`;
  if (style.bolderKey !== key) {
    const reach = 1 + site.bolder_reach * (look.strength - 1);
    style.bolder = style.target.map((v, i) => (neutral ? neutral[i] + (v - neutral[i]) * reach : v * reach));
    style.bolderKey = key;
  }
  return style.bolder;
}

function show(photo, painted, width, height) {
  const across = look.compare ? 2 : 1;
  if (output.width !== width * across || output.height !== height) Object.assign(output, { width: width * across, height });
  const picture = (bytes) => new ImageData(new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.length), width, height);
  if (look.compare) outputContext.putImageData(picture(photo), 0, 0);
  outputContext.putImageData(picture(painted), look.compare ? width : 0, 0);
  output.dataset.frames = String(Number(output.dataset.frames || 0) + 1);
}

function nextFrame(video) {
  return new Promise((resolve) =>
    "requestVideoFrameCallback" in video ? video.requestVideoFrameCallback(() => resolve()) : requestAnimationFrame(() => resolve()),
  );
}

class Rate {
  constructor() {
    this.times = [];
  }
  tick() {
    const now = performance.now();
    this.times.push(now);
    while (this.times.length > 2 && now - this.times[0] > 2000) this.times.shift();
    return this.times.length > 1 ? ((this.times.length - 1) * 1000) / (now - this.times[0]) : 0;
  }
}

// The gallery, and pictures dropped or chosen to become styles.

function renderGallery() {
  const list = $("styles");
  list.replaceChildren(
    ...styles.map((style, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.title = i < 10 ? `${style.name} (key ${(i + 1) % 10})` : style.name;
      button.setAttribute("aria-pressed", String(i === look.style));
      const image = Object.assign(document.createElement("img"), { src: style.thumbnail, alt: "" });
      const label = Object.assign(document.createElement("span"), { textContent: style.name });
      button.append(image, label);
      button.addEventListener("click", () => pick(i));
      const item = document.createElement("li");
      item.append(button);
      return item;
    }),
  );
  $("style-name").textContent = styles[look.style].name;
}

function pick(index) {
  look.style = ((index % styles.length) + styles.length) % styles.length;
  document.querySelectorAll("#styles button").forEach((b, i) => b.setAttribute("aria-pressed", String(i === look.style)));
  $("style-name").textContent = styles[look.style].name;
}

async function addStyle(file) {
  if (!engine) return notice("The model is still loading; drop the picture again in a moment.");
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return notice(`${file.name} is not a picture this browser can read.`);
  }
  notice(`making ${file.name} a style…`);
  const name = file.name.replace(/\.[^.]+$/, "") || "dropped picture";
  try {
    styles.push(await pictureStyle(bitmap, name, engine, site));
  } catch (error) {
    return notice(`${file.name} could not become a style: ${error.message || error}`);
  }
  renderGallery();
  pick(styles.length - 1);
  notice(`${name} is a style now`);
}

// Controls and hotkeys, as in the live window.

function bindControls() {
  $("previous").addEventListener("click", () => pick(look.style - 1));
  $("next").addEventListener("click", () => pick(look.style + 1));
  $("snapshot").addEventListener("click", snapshot);
  $("help-button").addEventListener("click", () => ($("help").hidden = !$("help").hidden));
  $("strength").addEventListener("input", (e) => setStrength(Number(e.target.value)));
  for (const [id, key] of [["mirror", "mirror"], ["compare", "compare"], ["preserve-color", "keepColors"], ["paused", "paused"]]) {
    $(id).checked = look[key];
    $(id).addEventListener("change", (e) => (look[key] = e.target.checked));
  }
  $("upload").addEventListener("change", (e) => {
    const file = e.target.files[0];
    e.target.value = ""; // the same file chosen again is a change too
    if (file) addStyle(file);
  });
  const drop = $("drop");
  document.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  document.addEventListener("dragleave", () => drop.classList.remove("over"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer?.files[0];
    if (file) addStyle(file);
  });
  document.addEventListener("keydown", onKey);
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  // A focused control keeps the keys it uses itself: the slider its arrows, a checkbox or button its space.
  const control = event.target.type;
  if ((control === "range" && key.startsWith("Arrow")) || (key === " " && ["checkbox", "button", "submit"].includes(control))) return;
  const toggle = (id, field) => {
    look[field] = !look[field];
    $(id).checked = look[field];
  };
  const actions = {
    ArrowRight: () => pick(look.style + 1),
    n: () => pick(look.style + 1),
    ArrowLeft: () => pick(look.style - 1),
    p: () => pick(look.style - 1),
    "+": () => setStrength(look.strength + STRENGTH_STEP),
    "=": () => setStrength(look.strength + STRENGTH_STEP),
    "-": () => setStrength(look.strength - STRENGTH_STEP),
    "]": () => size.step(1) && showSize(),
    "[": () => size.step(-1) && showSize(),
    m: () => toggle("mirror", "mirror"),
    c: () => toggle("compare", "compare"),
    " ": () => toggle("paused", "paused"),
    s: snapshot,
    h: () => ($("help").hidden = !$("help").hidden),
  };
  const digit = /^[0-9]$/.test(key) ? (Number(key) + 9) % 10 : -1;
  const action = actions[key] || (digit >= 0 && digit < styles.length ? () => pick(digit) : null);
  if (!action) return;
  event.preventDefault();
  action();
}

function setStrength(value) {
  look.strength = Math.round(Math.min(Math.max(value, 0), site.max_strength) * 10) / 10;
  $("strength").value = look.strength;
  $("strength-value").textContent = look.strength.toFixed(1);
}

function showSize() {
  const camera = $("camera");
  const { width, height } = size.frame(camera.videoWidth || 640, camera.videoHeight || 480);
  $("size").textContent = `${width}×${height}`;
}

function snapshot() {
  output.toBlob((blob) => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `realtime-${styles[look.style].name}-${new Date().toISOString().replace(/[:.]/g, "-")}.png`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }, "image/png");
}

// Messages.

function setStatus(text) {
  $("status").textContent = text;
}

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => ($("notice").hidden = true), NOTICE_MS);
}

function stop(text) {
  fail(text);
  return new Error(text);
}

function fail(text) {
  document.body.dataset.state = "error";
  $("message").textContent = text;
  $("message").hidden = false;
  setStatus("stopped");
}
