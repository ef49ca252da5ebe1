// A painting's palette on a stylised frame, and the strength blend after it: what realtime.imaging.palette and
// the Stylizer do on the desktop, on the RGBA bytes of a canvas. The generator's graph blends by strength
// itself; a frame that takes a palette leaves the graph at full strength and is blended here, after
// recolouring, as on the desktop.

// Mean (3) and second moment (3×3, E[xxᵀ]) of an evenly spread sample of about `samplePixels` pixels.
export function moments(rgba, width, height, samplePixels) {
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / samplePixels)));
  const mean = [0, 0, 0];
  const moment = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  let count = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const i = (y * width + x) * 4;
      const p = [rgba[i], rgba[i + 1], rgba[i + 2]];
      for (let a = 0; a < 3; a++) {
        mean[a] += p[a];
        for (let b = 0; b < 3; b++) moment[a * 3 + b] += p[a] * p[b];
      }
      count++;
    }
  }
  return { mean: mean.map((v) => v / count), moment: moment.map((v) => v / count) };
}

// The 3×4 affine map (row-major: matrix | offset) taking pixels with `from`'s statistics to `palette`'s (linear
// Monge–Kantorovich transfer, its gains capped at `max_gain`), as Palette.affine computes it; the limits are
// site.json's "palette".
export function paletteAffine(palette, from, { max_gain: maxGain, ridge }) {
  const source = covariance(from.mean, from.moment, ridge);
  const target = covariance(palette.mean, palette.moment, ridge);
  const [root, inverseRoot] = roots(source);
  const transfer = mul(mul(inverseRoot, roots(mul(mul(root, target), root))[0]), inverseRoot);
  const { values, vectors } = eigh(transfer);
  const capped = rebuild(vectors, values.map((v) => Math.min(Math.max(v, 0), maxGain)));
  const affine = new Float32Array(12);
  for (let r = 0; r < 3; r++) {
    let offset = palette.mean[r];
    for (let c = 0; c < 3; c++) {
      affine[r * 4 + c] = capped[r * 3 + c];
      offset -= capped[r * 3 + c] * from.mean[c];
    }
    affine[r * 4 + 3] = offset;
  }
  return affine;
}

// `rgba` recoloured by `affine` in place (rounded and saturated, alpha untouched).
export function recolor(rgba, affine) {
  const out = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
  for (let i = 0; i < out.length; i += 4) {
    const r = out[i], g = out[i + 1], b = out[i + 2];
    out[i] = affine[0] * r + affine[1] * g + affine[2] * b + affine[3];
    out[i + 1] = affine[4] * r + affine[5] * g + affine[6] * b + affine[7];
    out[i + 2] = affine[8] * r + affine[9] * g + affine[10] * b + affine[11];
  }
}

// `rgba` blended toward the photo `photo` in place: strength 0 is the photo, 1 leaves `rgba` as it is.
export function blend(rgba, photo, strength) {
  const out = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
  for (let i = 0; i < out.length; i++) {
    if ((i & 3) !== 3) out[i] = out[i] * strength + photo[i] * (1 - strength);
  }
}

function covariance(mean, moment, ridge) {
  const m = new Float64Array(9);
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) m[a * 3 + b] = moment[a * 3 + b] - mean[a] * mean[b] + (a === b ? ridge : 0);
  }
  return m;
}

function mul(a, b) {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  }
  return out;
}

// The square root of a symmetric positive definite 3×3 matrix, and its inverse.
function roots(matrix) {
  const { values, vectors } = eigh(matrix);
  const sqrt = values.map((v) => Math.sqrt(Math.max(v, 1e-6)));
  return [rebuild(vectors, sqrt), rebuild(vectors, sqrt.map((v) => 1 / v))];
}

// V·diag(values)·Vᵀ, V's columns the eigenvectors.
function rebuild(vectors, values) {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let k = 0; k < 3; k++) sum += vectors[r * 3 + k] * values[k] * vectors[c * 3 + k];
      out[r * 3 + c] = sum;
    }
  }
  return out;
}

// Eigenvalues and eigenvectors (columns) of a symmetric 3×3 matrix by cyclic Jacobi rotations: exact to
// rounding within a few sweeps at this size. Symmetrised first: products of symmetric matrices drift.
function eigh(matrix) {
  const a = Float64Array.from(matrix, (_, i) => (matrix[i] + matrix[(i % 3) * 3 + Math.floor(i / 3)]) / 2);
  const v = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let sweep = 0; sweep < 32; sweep++) {
    const off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5];
    if (off < 1e-30) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      const apq = a[p * 3 + q];
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (a[q * 3 + q] - a[p * 3 + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k * 3 + p], akq = a[k * 3 + q];
        a[k * 3 + p] = c * akp - s * akq;
        a[k * 3 + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p * 3 + k], aqk = a[q * 3 + k];
        a[p * 3 + k] = c * apk - s * aqk;
        a[q * 3 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k * 3 + p], vkq = v[k * 3 + q];
        v[k * 3 + p] = c * vkp - s * vkq;
        v[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: [a[0], a[4], a[8]], vectors: v };
}
