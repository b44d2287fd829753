// pool on the gpu in every mode pool() takes (0 max, 1 average counting padding, 2 average
// over the pixels inside the image, 3 Knet's deterministic max, which is max) against a
// float64 reference (test/helpers/nnref.ts): the forward and the gradient of
// L = sum(pool(x) .* r), over odd sizes, padding, strides unlike the window, per-axis
// windows and sizes that are not multiples of the workgroup size; central differences for
// a few; ties, NaN, and gradients of gradients for the average modes.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { gpuOk } from './helpers/gpu.js';
import { refGradcheck } from './helpers/gpu-gradcheck.js';
import { distinct, type PoolOpts, poolRef, relErr } from './helpers/nnref.js';

const onGpu = (a: R.Arr) => K.tensor(Float32Array.from(a.data), a.shape, { device: 'gpu' });

const geometries: [string, number[], PoolOpts][] = [
  ['2x2, odd height and width', [2, 3, 7, 9], {}],
  ['3x3 stride 2 padding 1', [2, 2, 9, 8], { window: 3, stride: 2, padding: 1 }],
  ['3x3 stride 1 padding 1 (overlapping)', [1, 2, 6, 7], { window: 3, stride: 1, padding: 1 }],
  ['per-axis window, padding, stride', [2, 2, 7, 10], { window: [3, 2], padding: [1, 0], stride: [1, 2] }],
  ['per-axis window [2, 3], padding [1, 2], stride [3, 1]', [1, 3, 8, 7], { window: [2, 3], padding: [1, 2], stride: [3, 1] }],
  ['stride 3 larger than the window 2', [1, 2, 9, 10], { window: 2, stride: 3 }],
  ['2x2 window with padding 1', [2, 2, 5, 6], { padding: 1 }],
  ['global pooling', [3, 4, 5, 6], { window: [5, 6] }],
  ['window 1', [1, 2, 3, 4], { window: 1 }],
  ['65 planes, 4680 outputs, 20995 inputs (no multiple of 256)', [5, 13, 17, 19], { window: 3, stride: 2 }],
  ['LeNet\'s first pool', [100, 20, 24, 24], {}],
];

describe.skipIf(!gpuOk)('gpu pool against a float64 reference, every mode', () => {
  geometries.forEach(([name, shape, opts], k) => {
    for (const mode of [0, 1, 2, 3]) {
      it(`${name}, mode ${mode}`, async () => {
        const rnd = R.rng(700 + 4 * k + mode);
        const x = mode === 0 || mode === 3 ? distinct(rnd, shape) : rnd.uniform(shape);
        const o = { ...opts, mode };
        const probe = poolRef(x, o);
        const r = rnd.uniform(probe.y.shape);
        const ref = poolRef(x, o, r);
        const tx = onGpu(x), tr = onGpu(r);
        const y = K.pool(tx, o);
        expect(y.shape).toEqual(ref.y.shape);
        expect(relErr(await y.data(), ref.y.data), 'y').toBeLessThan(1e-6);
        const gx = K.grad((t: Tensor) => K.sum(K.mul(K.pool(t, o), tr)))(tx) as Tensor;
        expect(relErr(await gx.data(), ref.gx), 'dx').toBeLessThan(1e-6);
        for (const t of [tx, tr, y, gx]) t.dispose();
      });
    }
  });
});

describe.skipIf(!gpuOk)('gpu pool gradients against float64 central differences', () => {
  const cases: [string, number[], PoolOpts][] = [
    ['max, 3x3 stride 2 padding 1', [2, 2, 9, 8], { window: 3, stride: 2, padding: 1, mode: 0 }],
    ['average with padding, per-axis', [1, 3, 7, 10], { window: [3, 2], padding: [1, 1], stride: [2, 3], mode: 1 }],
    ['average without padding, overlapping', [2, 2, 6, 7], { window: 3, stride: 1, padding: 1, mode: 2 }],
  ];
  cases.forEach(([name, shape, opts], k) => it(name, async () => {
    const rnd = R.rng(800 + k);
    const x = opts.mode === 0 ? distinct(rnd, shape) : rnd.uniform(shape);
    const res = await refGradcheck((t) => K.pool(t, opts), (a) => poolRef(a, opts).y, [x], { seed: 900 + k });
    expect(res.worst, JSON.stringify(res.at)).toBeLessThan(1e-4);
  }));
});

describe.skipIf(!gpuOk)('gpu pool: ties, NaN, gradients of gradients', () => {
  it('max: ties send the gradient to the first maximum of each window', async () => {
    for (const [shape, opts] of [[[1, 1, 4, 6], {}], [[1, 1, 6, 6], { window: 3 }], [[1, 1, 5, 5], { window: 3, stride: 1, padding: 1 }]] as [number[], PoolOpts][]) {
      const x = K.zeros(shape, { device: 'gpu' }), r = K.ones(poolRef({ shape, data: new Float64Array(R.size(shape)) }, opts).y.shape, { device: 'gpu' });
      const g = await (K.grad((t: Tensor) => K.sum(K.mul(K.pool(t, opts), r)))(x) as Tensor).data();
      const want = poolRef({ shape, data: new Float64Array(R.size(shape)) }, opts, { shape: [...r.shape], data: new Float64Array(r.size).fill(1) }).gx;
      expect(Array.from(g)).toEqual(Array.from(want));
    }
  });
  it('max: a NaN first pixel gives NaN; later NaNs are skipped (as on the cpu)', async () => {
    const row0 = [NaN, 1, 2, NaN, 3, 4, -Infinity, Infinity];
    const row1 = [0, 5, NaN, 1, 3, 3, 7, NaN];
    const x = K.tensor([[[row0, row1]]], undefined, { device: 'gpu' });
    expect(Array.from(await K.pool(x).data())).toEqual([NaN, 2, 4, Infinity]);
    expect(Array.from(await K.pool(x).data())).toEqual(Array.from(K.pool(K.tensor([[[row0, row1]]])).dataSync()));
  });
  for (const mode of [1, 2]) {
    it(`average mode ${mode}: the gradient of sumabs2 of the gradient (P' P P' P) against float64`, async () => {
      const rnd = R.rng(950 + mode);
      const x = rnd.uniform([2, 3, 7, 6]);
      const opts = { window: 3, padding: 1, stride: 2, mode };
      // F(t) = |grad_u sumabs2(P u) at t|^2 = |2 P'P t|^2, so dF/dt = 8 P'P P'P t
      const P = (a: R.Arr) => poolRef(a, opts).y;
      const Pt = (v: R.Arr): R.Arr => ({ shape: x.shape, data: poolRef(x, opts, v).gx });
      const want = R.map(Pt(P(Pt(P(x)))), (v) => 8 * v);
      const outer = (t: Tensor) => K.sumabs2(K.grad((u: Tensor) => K.sumabs2(K.pool(u, opts)))(t) as Tensor);
      const g = K.grad(outer)(onGpu(x)) as Tensor;
      expect(relErr(await g.data(), want.data)).toBeLessThan(1e-5);
    });
  }
});
