// The generator and its style encoder on onnxruntime-web: WebGPU where the browser has it, WASM otherwise.
// The graphs take and give a canvas's RGBA bytes (realtime/web/graphs.py), so a frame is one run.

import * as ort from "./ort/ort.webgpu.min.mjs";

ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
// Threads need a cross-origin isolated page (COOP/COEP headers); elsewhere the runtime has one.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

export class Engine {
  static async load(site, wanted) {
    const [generatorBytes, encoderBytes] = await Promise.all([fetchBytes(site.generator), fetchBytes(site.encoder)]);
    const attempts = wanted ? [wanted] : (await hasWebGpu()) ? ["webgpu", "wasm"] : ["wasm"];
    let failure = null;
    for (const backend of attempts) {
      try {
        const options = { executionProviders: [backend], graphOptimizationLevel: "all" };
        const generator = await ort.InferenceSession.create(generatorBytes, options);
        // The encoder runs once per dropped picture: WASM is plenty, and keeps the GPU for the frames.
        const encoder = await ort.InferenceSession.create(encoderBytes, { executionProviders: ["wasm"] });
        return new Engine(generator, encoder, backend, failure);
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  }

  constructor(generator, encoder, backend, webGpuFailure) {
    this.generator = generator;
    this.encoder = encoder;
    this.backend = backend;
    this.webGpuFailure = webGpuFailure;
    this.queue = Promise.resolve();
  }

  // One run at a time: the sessions share one runtime, and on WebGPU a frame's run awaits the GPU while a
  // dropped picture's encode would start.
  #serial(work) {
    const result = this.queue.then(work);
    this.queue = result.catch(() => {});
    return result;
  }

  describe() {
    if (this.backend === "webgpu") return "WebGPU";
    const threads = ort.env.wasm.numThreads;
    return `WASM · ${threads} thread${threads === 1 ? "" : "s"}`;
  }

  // RGBA bytes (width and height multiples of 4) → the stylised RGBA bytes. `target` is a C×C Float32Array.
  async paint(rgba, width, height, target, strength, keepColors) {
    const channels = Math.round(Math.sqrt(target.length));
    const feeds = {
      rgba: new ort.Tensor("uint8", rgba, [1, height, width, 4]),
      target: new ort.Tensor("float32", target, [1, channels, channels]),
      strength: new ort.Tensor("float32", Float32Array.of(strength), [1]),
      keep_colors: new ort.Tensor("float32", Float32Array.of(keepColors ? 1 : 0), [1]),
    };
    return this.#serial(async () => {
      const { stylized } = await this.generator.run(feeds);
      const bytes = await stylized.getData(true);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    });
  }

  // A style picture's RGBA bytes (sides multiples of 4) → its C×C target.
  async encode(rgba, width, height) {
    const feeds = { rgba: new ort.Tensor("uint8", rgba, [1, height, width, 4]) };
    return this.#serial(async () => Float32Array.from((await this.encoder.run(feeds)).target.data));
  }
}

// A GPU adapter, not a software one (SwiftShader paints a frame a minute: WASM is far faster).
async function hasWebGpu() {
  if (!navigator.gpu) return false;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    return adapter !== null && !(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
  } catch {
    return false;
  }
}

async function fetchBytes(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
