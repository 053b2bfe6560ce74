// Live reading in the drawing canvas: while the pen moves, at most once per animation frame and every
// READ_INTERVAL_MS, and only when the ink changed, the finished strokes and the stroke in progress are read by both networks,
// here in the browser. The canvas bundle imports this module only when the `live` argument is set; if
// the weights cannot load (or WebAssembly is missing) the strip never appears and nothing else changes.
import { loadNetworks } from "./networks.js";
import { preprocess } from "./preprocess.js";
import { createStrip } from "./strip.js";

export { loadNetworks, preprocess };

const WASM_FOLDER = new URL(".", import.meta.url).href;
const loading = new Map(); // manifest URL -> Promise of the networks: loaded once per page
const controllers = new WeakMap(); // canvas state -> its live reader
// The stroke's story: every reading while the pen is down, since the canvas was last empty. At about
// 20 readings a second this is a minute of drawing: more than any digit takes.
const STORY_FRAMES = 1200;
const round4 = (value) => Math.round(value * 1e4) / 1e4;
// At most 20 readings a second while the pen moves, which a person's stroke gives anyway: a fast pen
// (or a slow phone) would otherwise read on every frame, and the reads would crowd out the pen's own events.
const READ_INTERVAL_MS = 50;

export const networksFor = (manifestUrl) => {
  if (!loading.has(manifestUrl)) loading.set(manifestUrl, loadNetworks(manifestUrl, WASM_FOLDER));
  return loading.get(manifestUrl);
};

/** Called by the canvas on every update with its state and arguments; idempotent. */
export function attach(state, data) {
  let controller = controllers.get(state);
  if (!controller) {
    controller = new LiveReader(state);
    controllers.set(state, controller);
  }
  controller.configure(data.live ? new URL(data.live.manifest, window.location.href).href : null);
}

class LiveReader {
  constructor(state) {
    this.state = state;
    this.networks = null;
    this.strip = null;
    this.manifestUrl = null;
    this.dirty = false;
    this.scheduled = false;
    this.penDown = false;
    this.downAt = null;
    this.updates = 0;
    this.story = [];
    this.strokes = 0;
    // The canvas sends the story with the drawing when the app asks for it (its `story` argument).
    state.liveStory = () => (this.story.length ? { frames: this.story } : null);
    this.scratch = document.createElement("canvas");
    const mark = () => this.markDirty();
    state.container.addEventListener("pointerdown", (event) => this.onDown(event), { capture: true });
    state.container.addEventListener("pointermove", () => this.penDown && mark(), { capture: true });
    this.onUp = () => {
      this.penDown = false; // the stroke is added to the lower canvas and drawn there next: after:render
    };
    window.addEventListener("pointerup", this.onUp, true);
    window.addEventListener("pointercancel", this.onUp, true);
    state.canvas.on("after:render", mark);
  }

  configure(manifestUrl) {
    if (manifestUrl === this.manifestUrl) return;
    this.manifestUrl = manifestUrl;
    if (!manifestUrl) {
      this.networks = null;
      this.strip?.root.remove();
      this.strip = null;
      return;
    }
    networksFor(manifestUrl).then(
      (networks) => {
        if (this.manifestUrl !== manifestUrl) return;
        this.networks = networks;
        this.strip ??= createStrip(this.state.container, Object.keys(networks.models), networks.manifest.not_sure_below);
        this.strip.strip.dataset.backend = "wasm";
        this.markDirty();
      },
      (error) => console.warn("Live reading is off:", error.message ?? error),
    );
  }

  onDown(event) {
    if (event.button > 0) return;
    this.penDown = true;
    this.downAt ??= performance.now();
    this.strokes += 1;
    this.markDirty();
  }

  // While the pen moves: the next animation frame, READ_INTERVAL_MS after the last read. Once it has lifted: when the page is idle, so that
  // the drawing leaves for the server first (a read takes the main thread for ~10-20 ms).
  markDirty() {
    this.dirty = true;
    if (this.scheduled || !this.networks) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      if (this.dirty) this.read();
    };
    const wait = (this.readAt ?? -Infinity) + READ_INTERVAL_MS - performance.now();
    if (this.penDown && wait > 0) setTimeout(() => requestAnimationFrame(run), wait);
    else if (this.penDown) requestAnimationFrame(run);
    else if (window.requestIdleCallback) requestIdleCallback(run, { timeout: 150 });
    else setTimeout(run, 30);
  }

  // Gone when Streamlit unmounts the canvas (its Fabric canvas disposed): stop listening then.
  alive() {
    if (this.state.container.isConnected && this.state.canvas.lowerCanvasEl) return true;
    window.removeEventListener("pointerup", this.onUp, true);
    window.removeEventListener("pointercancel", this.onUp, true);
    return false;
  }

  read() {
    this.dirty = false;
    if (!this.alive()) return;
    try {
      this.readNow();
    } catch (error) {
      // Live reading must never break the canvas: it stops, and the server's answers go on as without it.
      console.warn("Live reading stopped:", error);
      this.configure(null);
    }
  }

  readNow() {
    const started = performance.now();
    this.readAt = started;
    const input = preprocess(this.composite());
    const strip = this.strip.strip;
    if (input === null) {
      if (!this.penDown) {
        this.downAt = null; // a new drawing starts with the next touch, and so does its story
        this.story = [];
        this.strokes = 0;
      }
      delete strip.dataset.firstMs;
      this.strip.show(null, "empty");
      return;
    }
    const answers = this.networks.predict([input]);
    const probabilities = Object.fromEntries(Object.entries(answers).map(([name, rows]) => [name, Array.from(rows[0])]));
    this.strip.show(probabilities, this.penDown ? "drawing" : "up");
    this.updates += 1;
    const now = performance.now();
    if (this.penDown && this.downAt !== null && this.story.length < STORY_FRAMES) {
      const rounded = Object.fromEntries(Object.entries(probabilities).map(([name, values]) => [name, values.map(round4)]));
      this.story.push({ t: Math.round(now - this.downAt), stroke: this.strokes, p: rounded });
    }
    strip.dataset.updates = String(this.updates);
    strip.dataset.readMs = (now - started).toFixed(1);
    if (this.downAt !== null && strip.dataset.firstMs === undefined) strip.dataset.firstMs = (now - this.downAt).toFixed(1);
    strip.liveInput = input; // for the tests: the 28x28 image the networks just read
  }

  // The finished strokes (lower canvas) and the one in progress (Fabric draws it on the upper canvas).
  composite() {
    const { lowerCanvasEl: lower, upperCanvasEl: upper } = this.state.canvas;
    const { width, height } = lower;
    if (this.scratch.width !== width || this.scratch.height !== height) Object.assign(this.scratch, { width, height });
    const context = this.scratch.getContext("2d", { willReadFrequently: true });
    context.clearRect(0, 0, width, height);
    context.drawImage(lower, 0, 0);
    context.drawImage(upper, 0, 0, width, height);
    return context.getImageData(0, 0, width, height);
  }
}
