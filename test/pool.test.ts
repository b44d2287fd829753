// pool in every mode against a float64 reference (forward and the full gradient), ties,
// gradcheck, gradients of gradients for the average modes, and bad input.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { distinct, pairOf, type PoolOpts, poolRef, relErr } from './helpers/nnref.js';

type Opts = PoolOpts;

const geometries: [string, number[], Opts][] = [
  ['2x2 stride 2 (SIMD path)', [2, 3, 8, 16], {}],
  ['2x2 stride 2, odd height and width', [2, 2, 7, 9], {}],
  ['2x2 stride 2, width not a multiple of 8', [1, 3, 6, 14], { window: 2 }],
  ['3x3 stride 2 padding 1', [2, 2, 9, 8], { window: 3, stride: 2, padding: 1 }],
  ['3x3 stride 1 padding 1 (overlapping)', [1, 2, 6, 7], { window: 3, stride: 1, padding: 1 }],
  ['per-axis window, padding, stride', [2, 2, 7, 10], { window: [3, 2], padding: [1, 0], stride: [1, 2] }],
  ['stride larger than the window', [1, 2, 9, 10], { window: 2, stride: 3 }],
  ['2x2 window with padding 1', [2, 2, 5, 6], { padding: 1 }],
  ['global pooling', [3, 4, 5, 6], { window: [5, 6] }],
  ['window 1', [1, 2, 3, 4], { window: 1 }],
];

describe('pool against a float64 reference', () => {
  geometries.forEach(([name, shape, opts], k) => {
    for (const mode of [0, 1, 2, 3]) {
      it(`${name}, mode ${mode}`, () => {
        const rnd = R.rng(50 + k);
        const x = mode === 0 || mode === 3 ? distinct(rnd, shape) : rnd.uniform(shape);
        const probe = poolRef(x, { ...opts, mode });
        const r = rnd.uniform(probe.y.shape);
        const ref = poolRef(x, { ...opts, mode }, r);
        const tx = K.tensor(Float32Array.from(x.data), shape), tr = K.tensor(Float32Array.from(r.data), r.shape);
        const y = K.pool(tx, { ...opts, mode });
        expect(y.shape).toEqual(ref.y.shape);
        expect(relErr(y.dataSync(), ref.y.data)).toBeLessThan(1e-6);
        const gx = K.grad((t: Tensor) => K.sum(K.mul(K.pool(t, { ...opts, mode }), tr)))(tx);
        expect(relErr(gx.dataSync(), ref.gx)).toBeLessThan(1e-6);
        if (mode !== 3) {
          const res = K.gradcheck((t: Tensor) => K.sum(K.mul(K.pool(t, { ...opts, mode }), tr)), tx);
          expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(2e-2);
        }
        for (const t of [tx, tr, y, gx]) t.dispose();
      });
    }
  });
});

describe('max pool ties and special values', () => {
  for (const [name, shape, opts] of [['SIMD path', [1, 1, 4, 16], {}], ['general path', [1, 1, 6, 6], { window: 3 }]] as [string, number[], Opts][]) {
    it(`the gradient goes to the first maximum of a window (${name})`, () => {
      const x = K.zeros(shape); // every pixel ties
      const g = K.grad((t: Tensor) => K.sum(K.pool(t, opts)))(x).dataSync();
      const [, , H, W] = shape, k = pairOf(opts.window, 2)[0];
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
        expect(g[h * W + w], `(${h}, ${w})`).toBe(h % k === 0 && w % k === 0 ? 1 : 0);
      }
    });
  }
  it('a later equal value does not win; a larger one does', () => {
    // windows (2x2): [5 5; 1 1] -> first, [1 2; 2 2] -> (0,1), [0 0; 0 3] -> (1,1), [-1 -2; -1 -3] -> (0,0)
    const x = K.tensor([[[[5, 5, 1, 2, 0, 0, -1, -2], [1, 1, 2, 2, 0, 3, -1, -3]]]]);
    expect(K.pool(x).toArray()).toEqual([[[[5, 2, 3, -1]]]]);
    const g = K.grad((t: Tensor) => K.sum(K.pool(t)))(x);
    expect(g.toArray()).toEqual([[[[1, 0, 0, 1, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0, 0]]]]);
  });
  it('SIMD and scalar paths agree, NaN included', () => {
    // 12 output columns: 8 through SIMD, 4 through the scalar tail, the same data in both
    const row0 = [NaN, 1, 2, NaN, 3, 4, -Infinity, Infinity];
    const row1 = [0, 5, NaN, 1, 3, 3, 7, NaN];
    const x = K.tensor([[[[...row0, ...row0, ...row0], [...row1, ...row1, ...row1]]]]);
    const y = Array.from(K.pool(x).dataSync());
    expect(y.slice(0, 4)).toEqual(y.slice(4, 8));
    expect(y.slice(4, 8)).toEqual(y.slice(8, 12));
    expect(y.slice(0, 4)).toEqual([NaN, 2, 4, Infinity]); // a window whose first pixel is NaN gives NaN
  });
});

describe('pool gradients of gradients', () => {
  for (const mode of [1, 2]) {
    it(`average mode ${mode}: the gradient's gradient is a pool again`, () => {
      const rnd = R.rng(77);
      const x = K.tensor(Float32Array.from(rnd.uniform([2, 2, 5, 6]).data), [2, 2, 5, 6]);
      const opts = { window: 3, padding: 1, stride: 2, mode };
      const outer = (t: Tensor) => K.sumabs2(K.grad((u: Tensor) => K.sumabs2(K.pool(u, opts)))(t));
      const res = K.gradcheck(outer, x);
      expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(2e-2);
    });
  }
  it('max pool: a clear error', () => {
    const x = K.tensor(Float32Array.from(distinct(R.rng(1), [1, 1, 4, 4]).data), [1, 1, 4, 4]);
    const outer = (t: Tensor) => K.sumabs2(K.grad((u: Tensor) => K.sumabs2(K.pool(u)))(t));
    expect(() => K.grad(outer)(x)).toThrow(/derivative of max pool's gradient is not implemented/);
  });
});

describe('pool bad input', () => {
  const x = K.zeros([2, 3, 8, 8]);
  const bad: [string, () => unknown, RegExp][] = [
    ['3-D x', () => K.pool(K.zeros([3, 8, 8])), /knet pool: x must be 4-D \[N, C, H, W\].*\[3,8,8\]/],
    ['window larger than the padded input', () => K.pool(x, { window: 11, padding: 1 }), /knet pool: the window \[11, 11\] is larger than the padded input 10 x 10 \(x \[2,3,8,8\]/],
    ['padding as large as the window', () => K.pool(x, { window: 2, padding: 2 }), /knet pool: padding \[2, 2\] must be smaller than the window \[2, 2\]/],
    ['unknown option', () => K.pool(x, { size: 2 } as any), /knet pool: unknown option 'size' \(known: window, padding, stride, mode\)/],
    ['mode 4', () => K.pool(x, { mode: 4 }), /knet pool: mode must be 0 \(max\), 1 .* or 3/],
    ['window 0', () => K.pool(x, { window: 0 }), /knet pool: window must be an integer >= 1/],
    ['stride 0', () => K.pool(x, { stride: [1, 0] }), /knet pool: stride must be an integer >= 1/],
    ['not a tensor', () => K.pool(null as any), /knet pool: x must be a Tensor, got null/],
  ];
  for (const [name, f, msg] of bad) it(name, () => expect(f).toThrow(msg));
});
