// The ANN and the CNN in the browser: the weights that mnist_app/training/browser_weights.py exports
// (8-bit kernels, batch norm folded, the CNN's averaged members), run with TensorFlow.js's WebAssembly
// backend. Probabilities are calibrated with each model's temperature, as the server's are.
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

let backendReady = null;

// The backend's .wasm files sit beside this module in the component's build folder.
function startBackend(wasmFolder) {
  if (backendReady === null) {
    setWasmPaths(wasmFolder);
    // Threads need a cross-origin isolated page (Streamlit's is not): only the single-threaded binaries ship.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    backendReady = tf.setBackend("wasm").then((ok) => {
      if (!ok) throw new Error("the WebAssembly backend did not start");
      return tf.ready();
    });
  }
  return backendReady;
}

/** Both models, loaded once: {models: {ann, cnn}, predict(inputs)}; inputs are Float32Array(784) each. */
export async function loadNetworks(manifestUrl, wasmFolder) {
  if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
  const [manifest] = await Promise.all([fetchJson(manifestUrl), startBackend(wasmFolder)]);
  const entries = Object.entries(manifest.models);
  const loaded = await Promise.all(entries.map(([, entry]) => loadModel(new URL(entry.file, manifestUrl), entry)));
  const models = Object.fromEntries(entries.map(([name], i) => [name, loaded[i]]));
  return { manifest, models, predict: (inputs) => predict(models, inputs) };
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function loadModel(url, entry) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const buffer = await response.arrayBuffer();
  if (buffer.byteLength !== entry.bytes) throw new Error(`${url}: ${buffer.byteLength} bytes, expected ${entry.bytes}`);
  const networks = entry.networks.map((steps) => steps.map((step) => tensorsOf(step, buffer)));
  return { networks, temperature: entry.temperature };
}

function tensorsOf(step, buffer) {
  if (!step.kernel) return { op: step.op };
  const [valuesAt, count] = step.kernel.int8;
  const values = new Int8Array(buffer, valuesAt, count);
  const scale = new Float32Array(buffer, step.kernel.scale[0], step.kernel.scale[1]);
  const kernel = new Float32Array(count);
  for (let i = 0; i < count; i++) kernel[i] = values[i] * scale[i % scale.length]; // output channel is the last axis
  return {
    op: step.op,
    activation: step.activation,
    padding: step.padding,
    kernel: tf.tensor(kernel, step.kernel.shape, "float32"),
    bias: tf.tensor1d(new Float32Array(buffer, step.bias.float32[0], step.bias.float32[1]).slice()),
  };
}

/** Calibrated probabilities of each model for each input: {ann: [Float64Array(10), ...], cnn: [...]}. */
function predict(models, inputs) {
  const answers = {};
  for (const [name, model] of Object.entries(models)) {
    const averaged = tf.tidy(() => {
      const x = tf.tensor4d(concat(inputs), [inputs.length, 28, 28, 1]);
      const outputs = model.networks.map((network) => run(network, x));
      return outputs.length === 1 ? outputs[0] : tf.div(tf.addN(outputs), outputs.length);
    });
    const flat = averaged.dataSync();
    averaged.dispose();
    answers[name] = inputs.map((_, i) => withTemperature(flat.subarray(10 * i, 10 * i + 10), model.temperature));
  }
  return answers;
}

function concat(inputs) {
  const all = new Float32Array(inputs.length * 784);
  inputs.forEach((input, i) => all.set(input, i * 784));
  return all;
}

function run(network, input) {
  let x = input;
  for (const step of network) {
    if (step.op === "conv2d") {
      x = tf.fused.conv2d({ x, filter: step.kernel, strides: 1, pad: step.padding, bias: step.bias, activation: fusedActivation(step) });
    } else if (step.op === "dense") {
      x = tf.fused.matMul({ a: x, b: step.kernel, bias: step.bias, activation: fusedActivation(step) });
    } else if (step.op === "maxpool") {
      x = tf.maxPool(x, 2, 2, "valid");
    } else if (step.op === "flatten") {
      x = tf.reshape(x, [x.shape[0], -1]);
    }
    if (step.activation === "softmax") x = tf.softmax(x);
  }
  return x;
}

const fusedActivation = (step) => (step.activation === "relu" ? "relu" : "linear");

// Temperature scaling (mnist_app/serving/calibration.py): softmax of log-probabilities / T, in doubles.
function withTemperature(probabilities, temperature) {
  const logits = Array.from(probabilities, (p) => Math.log(Math.min(1, Math.max(1e-30, p))) / temperature);
  const top = Math.max(...logits);
  const exp = logits.map((v) => Math.exp(v - top));
  const total = exp.reduce((a, b) => a + b, 0);
  return Float64Array.from(exp, (v) => v / total);
}
