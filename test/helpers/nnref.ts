// Float64 references for conv4, pool and the LSTM cell, on plain arrays: the cpu tests
// (test/conv.test.ts, test/pool.test.ts) and the gpu ones check against the same ones.
import * as R from './ref.js';
import type { Arr } from './ref.js';

export type Pair = number | [number, number];
export interface ConvOpts { padding?: Pair; stride?: Pair; dilation?: Pair; mode?: number }
export interface PoolOpts { window?: Pair; padding?: Pair; stride?: Pair; mode?: number }

export const pairOf = (v: Pair | undefined, d: number): [number, number] => v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;

/**
 * Direct float64 convolution y = conv4(w, x) and, for L = sum(y .* r), dL/dw and dL/dx:
 * every product w[o,c,i,j] * x[n,c,r,q] contributes r[n,o,ho,wo] times the other factor.
 */
export function convRef(w: Arr, x: Arr, opts: ConvOpts, r?: Arr): { y: Arr; gw: Float64Array; gx: Float64Array } {
  const [N, C, H, W] = x.shape, [O, , kh, kw] = w.shape;
  const [ph, pw] = pairOf(opts.padding, 0), [sh, sw] = pairOf(opts.stride, 1), [dh, dw] = pairOf(opts.dilation, 1);
  const flip = opts.mode === 1;
  const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1, Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const y = new Float64Array(N * O * Ho * Wo), gw = new Float64Array(w.data.length), gx = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let ho = 0; ho < Ho; ho++) for (let wo = 0; wo < Wo; wo++) {
    const yi = ((n * O + o) * Ho + ho) * Wo + wo;
    const g = r ? r.data[yi] : 0;
    let s = 0;
    for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) {
      const rr = ho * sh - ph + (flip ? kh - 1 - i : i) * dh;
      if (rr < 0 || rr >= H) continue;
      for (let j = 0; j < kw; j++) {
        const q = wo * sw - pw + (flip ? kw - 1 - j : j) * dw;
        if (q < 0 || q >= W) continue;
        const wi = ((o * C + c) * kh + i) * kw + j, xi = ((n * C + c) * H + rr) * W + q;
        s += w.data[wi] * x.data[xi];
        if (r) { gw[wi] += g * x.data[xi]; gx[xi] += g * w.data[wi]; }
      }
    }
    y[yi] = s;
  }
  return { y: { data: y, shape: [N, O, Ho, Wo] }, gw, gx };
}

/** Float64 pooling and, for L = sum(y .* r), dL/dx (max: to the first maximum, row-major). */
export function poolRef(x: Arr, opts: PoolOpts, r?: Arr): { y: Arr; gx: Float64Array } {
  const [N, C, H, W] = x.shape;
  const [kh, kw] = pairOf(opts.window, 2), [ph, pw] = pairOf(opts.padding, 0), [sh, sw] = pairOf(opts.stride ?? opts.window, 2);
  const mode = opts.mode ?? 0;
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1, Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  const y = new Float64Array(N * C * Ho * Wo), gx = new Float64Array(x.data.length);
  for (let p = 0; p < N * C; p++) for (let ho = 0; ho < Ho; ho++) for (let wo = 0; wo < Wo; wo++) {
    const inside: number[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const h = ho * sh - ph + i, w = wo * sw - pw + j;
      if (h >= 0 && h < H && w >= 0 && w < W) inside.push((p * H + h) * W + w);
    }
    const yi = (p * Ho + ho) * Wo + wo, g = r ? r.data[yi] : 0;
    if (mode === 0 || mode === 3) {
      let best = inside[0];
      for (const k of inside) if (x.data[k] > x.data[best]) best = k;
      y[yi] = x.data[best];
      gx[best] += g;
    } else {
      const count = mode === 1 ? kh * kw : inside.length;
      y[yi] = inside.reduce((s, k) => s + x.data[k], 0) / count;
      for (const k of inside) gx[k] += g / count;
    }
  }
  return { y: { data: y, shape: [N, C, Ho, Wo] }, gx };
}

/** Distinct values spaced 0.05 apart in random order: no ties, and no difference step crosses a kink. */
export function distinct(rnd: ReturnType<typeof R.rng>, shape: number[]): Arr {
  const n = R.size(shape), v = Array.from({ length: n }, (_, i) => Math.fround((i - n / 2) * 0.05));
  for (let i = n - 1; i > 0; i--) { const j = rnd.int(i + 1); [v[i], v[j]] = [v[j], v[i]]; }
  return { shape, data: Float64Array.from(v) };
}

/**
 * The seed's LSTM cell in float64 (rows are the batch; gates forget, input, output, change):
 * returns hidden and cell stacked as [2, B, H].
 */
export function lstmRef(weight: Arr, bias: Arr, hidden: Arr, cell: Arr, input: Arr): Arr {
  const [B, H] = hidden.shape, X = input.shape[1];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const out = new Float64Array(2 * B * H);
  for (let b = 0; b < B; b++) {
    const gates = new Float64Array(4 * H);
    for (let k = 0; k < 4 * H; k++) {
      let s = bias.data[k];
      for (let j = 0; j < X; j++) s += input.data[b * X + j] * weight.data[j * 4 * H + k];
      for (let j = 0; j < H; j++) s += hidden.data[b * H + j] * weight.data[(X + j) * 4 * H + k];
      gates[k] = s;
    }
    for (let j = 0; j < H; j++) {
      const f = sig(gates[j]), i = sig(gates[H + j]), o = sig(gates[2 * H + j]), z = Math.tanh(gates[3 * H + j]);
      const c = cell.data[b * H + j] * f + i * z;
      out[B * H + b * H + j] = c;
      out[b * H + j] = o * Math.tanh(c);
    }
  }
  return { data: out, shape: [2, B, H] };
}

/** max |a - e| relative to the largest |e| (sums of many terms cancel; this is the scale that matters). */
export function relErr(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < e.length; i++) { d = Math.max(d, Math.abs(a[i] - e[i])); s = Math.max(s, Math.abs(e[i])); }
  return a.length === e.length ? d / Math.max(s, 1e-30) : Infinity;
}
