// A canvas drawing -> the 28x28 model input, step for step as the server makes it for canvas drawings
// (mnist_app/reading/ink.py and preprocess.py): ink map, crop without specks, stroke weight towards
// MNIST's, fit to 20 px (Pillow's resampling), centre of mass at (14, 14). Photos' background removal
// is left out: a canvas drawing is always "clean" (black background, white pen).

const SPECK_FRACTION = 0.02;
const DIGIT_BOX = 20;
const WORK_SIDE = 4 * DIGIT_BOX;
const MNIST_STROKE = 2.5;
const STROKE_BAND = [1.9, 3.3];
const MASS_CENTRE = 14.0;
const SIDE = 28;
const MIN_CONTRAST = 0.08;
const INK_LEVELS = [0.1, 0.9];
const SOFT_INK = 0.8;

// An image: {width, height, data} with one float per pixel.
const image = (width, height, data = new Float32Array(width * height)) => ({ width, height, data });

// Python's round(): halves go to the even neighbour.
export const pyRound = (x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));

/** RGBA pixels (ImageData) -> the model input: Float32Array(784) in [0, 1], or null when there is no ink. */
export function preprocess(rgba) {
  const ink = inkMap(rgba);
  if (ink === null) return null;
  const crop = cropToInk(ink);
  if (crop === null) return null;
  return centreByMass(fitBox(normaliseStroke(crop), DIGIT_BOX)).data;
}

// --- 1. ink (light ink on a dark background, as the Draw tab reads its canvas) ---------------------

export function inkMap({ width, height, data }) {
  const n = width * height;
  const levels = new Uint8Array(n); // Pillow's "L": (299 R + 587 G + 114 B) / 1000, in fixed point
  const alpha = new Float32Array(n);
  let minAlpha = 1;
  for (let i = 0; i < n; i++) {
    levels[i] = (data[4 * i] * 19595 + data[4 * i + 1] * 38470 + data[4 * i + 2] * 7471 + 0x8000) >> 16;
    alpha[i] = data[4 * i + 3] / 255;
    if (alpha[i] < minAlpha) minAlpha = alpha[i];
  }
  const grey = new Float32Array(n);
  for (let i = 0; i < n; i++) grey[i] = levels[i] / 255;
  if (minAlpha <= 0.99) overContrastingBackground(grey, alpha);
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < n; i++) {
    if (grey[i] < low) low = grey[i];
    if (grey[i] > high) high = grey[i];
  }
  if (n === 0 || high - low < MIN_CONTRAST) return null;
  const middle = median(grey);
  const ink = new Float32Array(n);
  const positive = [];
  for (let i = 0; i < n; i++) {
    ink[i] = Math.fround(grey[i] - middle);
    if (ink[i] > 0) positive.push(ink[i]);
  }
  if (positive.length === 0) return null;
  const peak = percentile(Float32Array.from(positive), 99);
  if (peak < MIN_CONTRAST) return null;
  for (let i = 0; i < n; i++) ink[i] = Math.min(1, Math.max(0, ink[i] / peak));
  return image(width, height, ink);
}

function overContrastingBackground(grey, alpha) {
  const visible = [];
  for (let i = 0; i < grey.length; i++) if (alpha[i] > 0.5) visible.push(grey[i]);
  const background = visible.length === 0 || median(Float32Array.from(visible)) >= 0.5 ? 0 : 1;
  for (let i = 0; i < grey.length; i++) grey[i] = Math.fround(grey[i] * alpha[i] + background * (1 - alpha[i]));
}

// Order statistics by selection, not by sorting: a canvas has 78,400 pixels or more, and sorting them
// for the median took a quarter of the page's script time while the pen moved. Same values as a sort.
function median(values) {
  const copy = Float32Array.from(values);
  const mid = copy.length >> 1;
  const upper = select(copy, mid);
  return copy.length % 2 ? upper : (largestBelow(copy, mid) + upper) / 2;
}

function percentile(values, q) {
  const at = ((values.length - 1) * q) / 100;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, values.length - 1);
  const high = select(values, hi);
  const low = lo === hi ? high : largestBelow(values, hi);
  return low + (high - low) * (at - lo);
}

// The k-th smallest value (from 0) of `a`, which is reordered so that every value before index k is no
// larger (Hoare's selection; values equal to the pivot split evenly, so a mostly black canvas is fast).
function select(a, k) {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const swap = a[i];
        a[i] = a[j];
        a[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

// After select(a, k): the (k - 1)-th smallest value, the largest before index k.
function largestBelow(a, k) {
  let largest = -Infinity;
  for (let i = 0; i < k; i++) if (a[i] > largest) largest = a[i];
  return largest;
}

// --- 2. crop ----------------------------------------------------------------------------------------

export function cropToInk(ink) {
  const keep = maskWithoutSpecks(ink);
  const { width, height } = ink;
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!keep[y * width + x]) continue;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
      if (x < left) left = x;
      if (x > right) right = x;
    }
  }
  if (bottom < 0) return null;
  const crop = image(right - left + 1, bottom - top + 1);
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      const i = y * width + x;
      crop.data[(y - top) * crop.width + (x - left)] = keep[i] ? ink.data[i] : 0;
    }
  }
  return crop;
}

function maskWithoutSpecks({ width, height, data }) {
  const factor = Math.max(1, Math.ceil(Math.max(width, height) / 32));
  const bw = Math.ceil(width / factor);
  const bh = Math.ceil(height / factor);
  const blocks = new Float64Array(bw * bh);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x];
      if (v > 0.1) blocks[Math.floor(y / factor) * bw + Math.floor(x / factor)] += v;
    }
  }
  const labels = label8(blocks, bw, bh);
  const mass = [0];
  for (let i = 0; i < blocks.length; i++) {
    if (!labels[i]) continue;
    while (mass.length <= labels[i]) mass.push(0);
    mass[labels[i]] += blocks[i];
  }
  const total = mass.reduce((a, b) => a + b, 0);
  let heaviest = 0;
  for (let l = 1; l < mass.length; l++) if (mass[l] > mass[heaviest]) heaviest = l;
  const keepLabel = mass.map((m, l) => l > 0 && (m >= SPECK_FRACTION * total || l === heaviest));
  const keep = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      keep[i] = data[i] > 0.1 && keepLabel[labels[Math.floor(y / factor) * bw + Math.floor(x / factor)]] ? 1 : 0;
    }
  }
  return keep;
}

// Connected parts, corners touching (scipy.ndimage.label's numbering: in raster order of first pixel).
function label8(values, width, height) {
  const labels = new Int32Array(width * height);
  let next = 0;
  const stack = [];
  for (let start = 0; start < values.length; start++) {
    if (values[start] <= 0 || labels[start]) continue;
    labels[start] = ++next;
    stack.push(start);
    while (stack.length) {
      const at = stack.pop();
      const x0 = at % width;
      const y0 = (at - x0) / width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const x = x0 + dx;
          const y = y0 + dy;
          if (x < 0 || y < 0 || x >= width || y >= height) continue;
          const i = y * width + x;
          if (values[i] > 0 && !labels[i]) {
            labels[i] = next;
            stack.push(i);
          }
        }
      }
    }
  }
  return labels;
}

// --- 3. stroke weight -------------------------------------------------------------------------------

export function normaliseStroke(crop) {
  const work = fitBox(crop, WORK_SIDE);
  const width = (strokeWidth(work) * DIGIT_BOX) / WORK_SIDE;
  if (width >= STROKE_BAND[0] && width <= STROKE_BAND[1]) return work;
  if (width > STROKE_BAND[1] && isSoft(work)) return work;
  const change = pyRound(((MNIST_STROKE - width) * WORK_SIDE) / DIGIT_BOX / 2);
  if (change === 0) return work;
  const padded = pad(work, Math.abs(change) + 1);
  const adjusted = change > 0 ? filter(padded, 2 * change + 1, Math.max) : thinKeepingThinParts(padded, -change);
  if (!adjusted.data.some((v) => v > 0.1)) return work;
  return cropToInk(adjusted) ?? work;
}

function thinKeepingThinParts(work, steps) {
  let out = work;
  for (let step = 0; step < steps; step++) {
    const eroded = filter(out, 3, Math.min);
    const reopened = filter(eroded, 3, Math.max);
    const next = image(out.width, out.height);
    for (let i = 0; i < next.data.length; i++) {
      const vanishing = out.data[i] > 0.5 && reopened.data[i] < 0.5;
      next.data[i] = vanishing ? out.data[i] : eroded.data[i];
    }
    out = next;
  }
  return out;
}

// scipy.ndimage's maximum_filter / minimum_filter with a square window, mode "nearest" (separable).
function filter(source, size, pick) {
  const half = size >> 1;
  const { width, height } = source;
  const across = image(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = source.data[y * width + x];
      for (let d = -half; d <= half; d++) v = pick(v, source.data[y * width + Math.min(width - 1, Math.max(0, x + d))]);
      across.data[y * width + x] = v;
    }
  }
  const out = image(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = across.data[y * width + x];
      for (let d = -half; d <= half; d++) v = pick(v, across.data[Math.min(height - 1, Math.max(0, y + d)) * width + x]);
      out.data[y * width + x] = v;
    }
  }
  return out;
}

function pad(source, by) {
  const out = image(source.width + 2 * by, source.height + 2 * by);
  for (let y = 0; y < source.height; y++) {
    out.data.set(source.data.subarray(y * source.width, (y + 1) * source.width), (y + by) * out.width + by);
  }
  return out;
}

function isSoft({ data }) {
  let inked = 0;
  let mid = 0;
  for (const v of data) {
    if (v > INK_LEVELS[0]) {
      inked++;
      if (v < INK_LEVELS[1]) mid++;
    }
  }
  return inked > 0 && mid > SOFT_INK * inked;
}

function strokeWidth({ width, height, data }) {
  const inside = (x, y) => x >= 0 && y >= 0 && x < width && y < height && data[y * width + x] > 0.5;
  let area = 0;
  let boundary = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!inside(x, y)) continue;
      area++;
      if (!(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1))) boundary++;
    }
  }
  return area === 0 ? 0 : (2 * area) / Math.max(boundary, 1);
}

// --- 4. scale (Pillow's resampling of float images: box when shrinking, bilinear when enlarging) ----

export function fitBox(ink, side) {
  const scale = side / Math.max(ink.width, ink.height);
  const width = Math.max(1, pyRound(ink.width * scale));
  const height = Math.max(1, pyRound(ink.height * scale));
  if (width === ink.width && height === ink.height) return image(width, height, Float32Array.from(ink.data));
  const kernel = scale < 1 ? BOX : BILINEAR;
  const across = resampleRows(ink, width, kernel);
  return transpose(resampleRows(transpose(across), height, kernel));
}

const BOX = { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) };
const BILINEAR = { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) };

// Pillow's precompute_coeffs: for each output pixel, the first input pixel and normalised weights.
function coefficients(inSize, outSize, kernel) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = kernel.support * filterScale;
  return Array.from({ length: outSize }, (_, out) => {
    const centre = (out + 0.5) * scale;
    const first = Math.max(0, Math.trunc(centre - support + 0.5));
    const last = Math.min(inSize, Math.trunc(centre + support + 0.5));
    const weights = [];
    for (let x = first; x < last; x++) weights.push(kernel.weight((x - centre + 0.5) / filterScale));
    const total = weights.reduce((a, b) => a + b, 0);
    return { first, weights: total === 0 ? weights : weights.map((w) => w / total) };
  });
}

function resampleRows(source, outWidth, kernel) {
  const out = image(outWidth, source.height);
  const taps = coefficients(source.width, outWidth, kernel);
  for (let y = 0; y < source.height; y++) {
    const row = y * source.width;
    taps.forEach(({ first, weights }, x) => {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += source.data[row + first + k] * weights[k];
      out.data[y * outWidth + x] = sum;
    });
  }
  return out;
}

function transpose(source) {
  const out = image(source.height, source.width);
  for (let y = 0; y < source.height; y++) {
    for (let x = 0; x < source.width; x++) out.data[x * source.height + y] = source.data[y * source.width + x];
  }
  return out;
}

// --- 5. centre ----------------------------------------------------------------------------------------

export function centreByMass(digit) {
  const field = new Float32Array(SIDE * SIDE);
  const { width, height } = digit;
  let mass = 0;
  let rows = 0;
  let cols = 0;
  const values = digit.data.map((v) => Math.min(1, Math.max(0, v)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x];
      mass += v;
      rows += y * v;
      cols += x * v;
    }
  }
  if (mass <= 0) return image(SIDE, SIDE, field);
  const top = Math.min(Math.max(pyRound(MASS_CENTRE - rows / mass), 0), SIDE - height);
  const left = Math.min(Math.max(pyRound(MASS_CENTRE - cols / mass), 0), SIDE - width);
  let peak = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x];
      field[(top + y) * SIDE + left + x] = v;
      if (v > peak) peak = v;
    }
  }
  if (peak > 0) for (let i = 0; i < field.length; i++) field[i] /= peak;
  return image(SIDE, SIDE, field);
}
