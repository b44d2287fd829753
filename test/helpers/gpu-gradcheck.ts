// An asynchronous gradient check for devices whose readback is asynchronous (the gpu):
// the device's analytic gradient of L(x) = sum(run(x) .* r), read back with await, against
// central differences of the same L computed in float64 on the host from a float64
// reference of the op. The library's gradcheck reads and writes tensors synchronously, so it
// can only run on the cpu; this one never touches the device between the gradient and its
// readback, and the differences come from the reference, not from float32 kernels, so they
// are accurate to ~1e-10 and the tolerance measures the device alone.
//
// Inputs with up to `all` elements have every coordinate checked; larger ones a sample (the
// first and last elements, both sides of every multiple of `edge` up to 4 of them, and
// random ones) plus one directional derivative along a random direction, which covers every
// coordinate at once: sum(g .* v) against (L(x + h v) - L(x - h v)) / 2h.
import * as K from '../../ts/index.js';
import type { Tensor } from '../../ts/index.js';
import * as R from './ref.js';
import type { Arr } from './ref.js';

export interface RefGradOptions {
  /** Which inputs to differentiate (default: all). */
  wrt?: number[];
  /** The weights r of L = sum(run(x) .* r); default: uniform in [-1, 1] from `seed`. */
  r?: Arr;
  seed?: number;
  device?: K.DeviceName;
  /** Check every coordinate of inputs up to this size (default 400). */
  all?: number;
  /** Random coordinates checked beyond the fixed ones, for larger inputs (default 24). */
  samples?: number;
  /** Coordinates on both sides of multiples of this (a workgroup size) are always checked. */
  edge?: number;
  /** Central-difference step, scaled by max(1, |x_i|) (default 1e-5). */
  h?: number;
}

export interface RefGradResult {
  /**
   * The worst error over the checked coordinates: |analytic - numeric| / (|numeric| +
   * 1e-2 * max |numeric| of that input + 1e-6), so tiny entries of a large gradient are
   * measured against its scale, not against zero.
   */
  worst: number;
  /** The directional check's relative error (0 when every coordinate was checked). */
  directional: number;
  /** Where the worst error was. */
  at: { input: number; index: number; analytic: number; numeric: number } | null;
  checked: number;
  /** The device's gradients, read back. */
  grads: Float32Array[];
}

const sumDot = (y: Arr, r: Arr): number => {
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += y.data[i] * r.data[i];
  return s;
};

/** The coordinates to check of an n-element input. */
function coordinates(n: number, all: number, samples: number, edge: number, rnd: ReturnType<typeof R.rng>): number[] {
  if (n <= all) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>([0, 1, n - 2, n - 1]);
  for (let k = 1; k <= 4 && k * edge <= n; k++) for (const d of [-1, 0]) set.add(k * edge + d);
  while (set.size < Math.min(n, 8 + 4 * 2 + samples)) set.add(rnd.int(n));
  return [...set].filter((i) => i >= 0 && i < n).sort((a, b) => a - b);
}

/** Runs the check; see RefGradResult. `inputs` must hold float32-representable values. */
export async function refGradcheck(run: (...x: Tensor[]) => Tensor, ref: (...x: Arr[]) => Arr, inputs: Arr[],
                                   opts: RefGradOptions = {}): Promise<RefGradResult> {
  const { device = 'gpu', all = 400, samples = 24, edge = 256, h = 1e-5, seed = 1 } = opts;
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  const rnd = R.rng(seed);
  const y0 = ref(...inputs);
  const r = opts.r ?? rnd.uniform(y0.shape);
  if (r.data.length !== y0.data.length) throw new Error(`refGradcheck: r has ${r.data.length} elements, the output ${y0.data.length}`);
  const L = (xs: Arr[]) => sumDot(ref(...xs), r);

  // the device's gradient
  const ts = inputs.map((x) => K.tensor(Float32Array.from(x.data), x.shape, { device }));
  const rt = K.tensor(Float32Array.from(r.data), r.shape, { device });
  const loss = (p: Tensor[]) => {
    const all_ = ts.slice();
    wrt.forEach((i, k) => { all_[i] = p[k]; });
    return K.sum(K.mul(run(...all_), rt));
  };
  const g = K.grad(loss)(wrt.map((i) => ts[i])) as Tensor[];
  const grads: Float32Array[] = [];
  for (const t of g) grads.push((await t.data()) as Float32Array);
  for (const t of [...ts, rt, ...g]) t.dispose();

  let worst = 0, directional = 0, checked = 0;
  let at: RefGradResult['at'] = null;
  const shifted = (i: number, idx: number, d: number): Arr[] => inputs.map((x, j) => {
    if (j !== i) return x;
    const data = Float64Array.from(x.data);
    data[idx] += d;
    return { shape: x.shape, data };
  });
  let sampledAny = false;
  wrt.forEach((i, k) => {
    const x = inputs[i], n = x.data.length, ga = grads[k];
    if (ga.length !== n) throw new Error(`refGradcheck: the gradient of input ${i} has ${ga.length} elements, the input ${n}`);
    const idx = coordinates(n, all, samples, edge, rnd);
    if (idx.length < n) sampledAny = true;
    const numeric = idx.map((j) => {
      const step = h * Math.max(1, Math.abs(x.data[j]));
      return (L(shifted(i, j, step)) - L(shifted(i, j, -step))) / (2 * step);
    });
    const scale = Math.max(0, ...numeric.map(Math.abs));
    idx.forEach((j, m) => {
      const e = Math.abs(ga[j] - numeric[m]) / (Math.abs(numeric[m]) + 1e-2 * scale + 1e-6);
      checked++;
      if (!(e <= worst)) { worst = e; at = { input: i, index: j, analytic: ga[j], numeric: numeric[m] }; }
    });
  });
  if (sampledAny) {
    // one directional derivative over all differentiated inputs at once
    const v = wrt.map((i) => rnd.uniform(inputs[i].shape));
    const along = (t: number) => inputs.map((x, j) => {
      const k = wrt.indexOf(j);
      if (k < 0) return x;
      const data = Float64Array.from(x.data);
      for (let e = 0; e < data.length; e++) data[e] += t * v[k].data[e];
      return { shape: x.shape, data };
    });
    const numeric = (L(along(h)) - L(along(-h))) / (2 * h);
    let analytic = 0, mag = 0;
    wrt.forEach((_, k) => { for (let e = 0; e < grads[k].length; e++) { analytic += grads[k][e] * v[k].data[e]; mag += Math.abs(grads[k][e] * v[k].data[e]); } });
    directional = Math.abs(analytic - numeric) / (Math.abs(numeric) + 1e-3 * mag + 1e-6);
  }
  return { worst, directional, at, checked, grads };
}
