// Float64 reference implementations for the op tests, on plain arrays with shapes.

export interface Arr { data: Float64Array; shape: number[] }

export const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

export function strides(shape: number[]): number[] {
  const s = new Array(shape.length); let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** Seeded generator for test data (mulberry32). */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (shape: number[], lo = -1, hi = 1): Arr => ({ shape, data: Float64Array.from({ length: size(shape) }, () => Math.fround(lo + (hi - lo) * next())) }),
    int: (n: number) => Math.floor(next() * n),
  };
}

export function map(x: Arr, f: (v: number) => number): Arr {
  return { shape: x.shape, data: x.data.map(f) };
}

export function bshape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    return da === 1 ? db : da;
  });
}

function index(shape: number[], flat: number): number[] {
  const idx = new Array(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) { idx[i] = flat % shape[i]; flat = Math.floor(flat / shape[i]); }
  return idx;
}

function at(x: Arr, idx: number[]): number {
  const k = idx.length - x.shape.length; const st = strides(x.shape);
  let o = 0;
  x.shape.forEach((d, i) => { o += (d === 1 ? 0 : idx[i + k]) * st[i]; });
  return x.data[o];
}

export function binary(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const shape = bshape(a.shape, b.shape);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) { const idx = index(shape, i); data[i] = f(at(a, idx), at(b, idx)); }
  return { shape, data };
}

export function reduce(x: Arr, axes: number[] | undefined, keepdims: boolean, init: number, f: (acc: number, v: number) => number): Arr {
  const ax = axes ?? x.shape.map((_, i) => i);
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const data = new Float64Array(size(kept)).fill(init);
  const ks = strides(kept);
  for (let i = 0; i < x.data.length; i++) {
    const idx = index(x.shape, i);
    let o = 0; idx.forEach((v, j) => { if (!ax.includes(j)) o += v * ks[j]; });
    data[o] = f(data[o], x.data[i]);
  }
  return { data, shape: keepdims ? kept : x.shape.filter((_, i) => !ax.includes(i)) };
}

export function matmul(a: Arr, b: Arr, ta: boolean, tb: boolean): Arr {
  const [M, K] = ta ? [a.shape[1], a.shape[0]] : a.shape;
  const N = tb ? b.shape[0] : b.shape[1];
  const data = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += (ta ? a.data[k * M + i] : a.data[i * K + k]) * (tb ? b.data[j * K + k] : b.data[k * N + j]);
    data[i * N + j] = s;
  }
  return { data, shape: [M, N] };
}

export function transpose(x: Arr, perm: number[]): Arr {
  const shape = perm.map((p) => x.shape[p]);
  const st = strides(x.shape);
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const idx = index(shape, i); let o = 0;
    idx.forEach((v, j) => { o += v * st[perm[j]]; });
    data[i] = x.data[o];
  }
  return { data, shape };
}

/** Applies f to each 1-D fibre along `axis` (f maps the fibre to one of equal length). */
export function alongAxis(x: Arr, axis: number, f: (v: number[]) => number[]): Arr {
  const st = strides(x.shape), n = x.shape[axis];
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    if (index(x.shape, i)[axis] !== 0) continue;
    const fibre = Array.from({ length: n }, (_, j) => x.data[i + j * st[axis]]);
    f(fibre).forEach((v, j) => { data[i + j * st[axis]] = v; });
  }
  return { data, shape: x.shape };
}

export function logsumexpFibre(v: number[]): number {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** max |a - b| / (atol + |b|) style comparison: returns the worst error. */
export function worst(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5): number {
  if (actual.length !== expected.length) return Infinity;
  let w = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (e === a) continue;
    const err = Math.abs(a - e) / (atol + Math.abs(e));
    if (!(err <= w)) w = err;
  }
  return w;
}
