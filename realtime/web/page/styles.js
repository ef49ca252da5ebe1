// Styles: the site's (their targets in one file, in site.json's order) and pictures that become styles in the
// page, as the desktop makes a style of a picture (realtime.model.targets.StyleTargets.encode).

import { moments } from "./colors.js";

export async function loadStyles(site) {
  const bytes = await (await fetch(site.targets)).arrayBuffer();
  const length = site.model.channels * site.model.channels;
  return site.styles.map((style, i) => ({ ...style, target: new Float32Array(bytes, i * length * 4, length) }));
}

// The mean of the built-in targets: no style in particular, what strengths above 1 push away from (null
// without built-ins).
export function neutralTarget(styles) {
  const builtins = styles.filter((s) => s.kind === "builtin");
  if (!builtins.length) return null;
  const mean = new Float32Array(builtins[0].target.length);
  for (const style of builtins) style.target.forEach((v, i) => (mean[i] += v / builtins.length));
  return mean;
}

// A style from a decoded picture: scaled as the desktop scales one (long side at most style_size, never
// enlarged), its target from the encoder on the picture padded by repeating its edges to the generator's
// multiple of 4, and its palette.
export async function pictureStyle(bitmap, name, engine, site) {
  const scale = Math.min(1, site.style_size / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = Object.assign(document.createElement("canvas"), { width, height });
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0, width, height);
  const pixels = context.getImageData(0, 0, width, height).data;
  const padded = padEdges(pixels, width, height);
  return {
    name,
    kind: "picture",
    thumbnail: canvas.toDataURL("image/jpeg", 0.85),
    palette: moments(pixels, width, height, site.palette.sample_pixels),
    target: await engine.encode(padded.data, padded.width, padded.height),
  };
}

function padEdges(pixels, width, height) {
  const side = (v) => Math.max(16, Math.ceil(v / 4) * 4);
  const w = side(width), h = side(height);
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const row = Math.min(y, height - 1) * width * 4;
    data.set(pixels.subarray(row, row + width * 4), y * w * 4);
    for (let x = width; x < w; x++) data.set(pixels.subarray(row + (width - 1) * 4, row + width * 4), (y * w + x) * 4);
  }
  return { data, width: w, height: h };
}
