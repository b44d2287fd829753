// conv4 on the gpu against a float64 direct convolution (test/helpers/nnref.ts): the
// forward, and the gradients with respect to w and x of L = sum(conv4(w, x) .* r) against
// the float64 adjoint (exact: L is bilinear), over padding, stride, dilation, true
// convolution, many channels, batch 1, odd sizes, views at an offset and LeNet's two layers
// at full batch. A few small cases also go through central differences of the float64
// reference (test/helpers/gpu-gradcheck.ts).
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { gpuOk } from './helpers/gpu.js';
import { refGradcheck } from './helpers/gpu-gradcheck.js';
import { type ConvOpts, convRef, relErr } from './helpers/nnref.js';
import { CONV_FILTER_SPLIT } from '../ts/device/webgpu/kernels/nn.js';
import { getDevice } from '../ts/device/index.js';

const onGpu = (a: R.Arr) => K.tensor(Float32Array.from(a.data), a.shape, { device: 'gpu' });

interface Case { name: string; x: number[]; w: number[]; opts: ConvOpts; tol?: number }
const cases: Case[] = [
  { name: 'padding 2', x: [2, 3, 7, 6], w: [4, 3, 3, 3], opts: { padding: 2 } },
  { name: 'stride 3', x: [2, 3, 11, 10], w: [4, 3, 3, 2], opts: { stride: 3 } },
  { name: 'stride 3, padding 1, 4x3 filter', x: [2, 3, 10, 11], w: [2, 3, 4, 3], opts: { stride: 3, padding: 1 } },
  { name: 'dilation 2', x: [2, 2, 11, 9], w: [3, 2, 3, 3], opts: { dilation: 2 } },
  { name: 'dilation 2, padding 2, stride 2, true convolution', x: [1, 2, 9, 10], w: [3, 2, 3, 2], opts: { dilation: 2, padding: 2, stride: 2, mode: 1 } },
  { name: 'per-axis padding, stride, dilation', x: [2, 3, 8, 13], w: [3, 3, 3, 4], opts: { padding: [2, 0], stride: [1, 3], dilation: [2, 1] } },
  { name: '32 in, 64 out channels, padding 1', x: [2, 32, 9, 7], w: [64, 32, 3, 3], opts: { padding: 1 } },
  { name: 'batch 1, stride [2, 1]', x: [1, 5, 13, 11], w: [6, 5, 4, 3], opts: { stride: [2, 1] } },
  { name: 'odd sizes, true convolution, stride 2, padding 2', x: [3, 5, 11, 13], w: [7, 5, 5, 3], opts: { stride: 2, padding: 2, mode: 1 } },
  { name: 'filter larger than the input, padded', x: [1, 2, 3, 3], w: [2, 2, 5, 5], opts: { padding: 2 } },
  { name: '1x1 filter, stride 2', x: [2, 4, 5, 7], w: [3, 4, 1, 1], opts: { stride: 2 } },
  { name: 'one channel in and out, 257 output pixels', x: [1, 1, 258, 2], w: [1, 1, 2, 1], opts: {} },
  // dw sums 57,600 (layer 1) and 6,400 (layer 2) products per entry, one after another:
  // 8.6e-6 and 3.4e-6 on lavapipe; the cases above stay below 1e-6
  { name: 'LeNet layer 1 at batch 100', x: [100, 1, 28, 28], w: [20, 1, 5, 5], opts: {}, tol: 1e-4 },
  { name: 'LeNet layer 2 at batch 100', x: [100, 20, 12, 12], w: [50, 20, 5, 5], opts: {}, tol: 1e-4 },
];

describe.skipIf(!gpuOk)('gpu conv4 against a float64 direct convolution, forward and both gradients', () => {
  cases.forEach((c, k) => it(c.name, async () => {
    const rnd = R.rng(300 + k);
    const x = rnd.uniform(c.x), w = rnd.uniform(c.w);
    const probe = convRef(w, x, c.opts);
    const r = rnd.uniform(probe.y.shape);
    const ref = convRef(w, x, c.opts, r);
    const tw = onGpu(w), tx = onGpu(x), tr = onGpu(r);
    const y = K.conv4(tw, tx, c.opts);
    const [gw, gx] = K.grad((p: Tensor[]) => K.sum(K.mul(K.conv4(p[0], p[1], c.opts), tr)))([tw, tx]) as Tensor[];
    expect(y.shape).toEqual(ref.y.shape);
    expect(relErr(await y.data(), ref.y.data), 'y').toBeLessThan(c.tol ?? 1e-5);
    expect(relErr(await gw.data(), ref.gw), 'dw').toBeLessThan(c.tol ?? 1e-5);
    expect(relErr(await gx.data(), ref.gx), 'dx').toBeLessThan(c.tol ?? 1e-5);
    for (const t of [tw, tx, tr, y, gw, gx]) t.dispose();
  }));

  // The filter gradient has two kernels (one thread per tap, or a workgroup per tap for
  // long sums: conv.wgsl's conv_filter_split); the cases above take the one their size
  // picks; here each takes the other.
  cases.forEach((c, k) => it(`${c.name}: dw with the other filter-gradient kernel`, async () => {
    const rnd = R.rng(300 + k);
    const x = rnd.uniform(c.x), w = rnd.uniform(c.w);
    const r = rnd.uniform(convRef(w, x, c.opts).y.shape);
    const ref = convRef(w, x, c.opts, r);
    const tw = onGpu(w), tx = onGpu(x), tr = onGpu(r);
    const n = c.x[0];
    const y = K.conv4(tw, tx, c.opts);
    const saved = { ...CONV_FILTER_SPLIT };
    const cpuLike = (getDevice('gpu') as any).cpuLike as boolean;
    const split = n * y.shape[2] * y.shape[3] >= (cpuLike ? saved.minSumCpu : saved.minSum) && tw.size <= saved.maxTaps;
    CONV_FILTER_SPLIT.minSum = CONV_FILTER_SPLIT.minSumCpu = split ? Infinity : 0;
    CONV_FILTER_SPLIT.maxTaps = Infinity;
    try {
      const gw = K.grad((p: Tensor) => K.sum(K.mul(K.conv4(p, tx, c.opts), tr)))(tw) as Tensor;
      expect(relErr(await gw.data(), ref.gw), `dw (${split ? 'one thread per tap' : 'split'})`).toBeLessThan(c.tol ?? 1e-5);
      gw.dispose();
    } finally { Object.assign(CONV_FILTER_SPLIT, saved); }
    for (const t of [tw, tx, tr, y]) t.dispose();
  }));

  it('w and x as views at an offset into larger buffers', async () => {
    const rnd = R.rng(399);
    const xb = rnd.uniform([4, 3, 7, 9]), wb = rnd.uniform([6, 3, 3, 3]);
    const opts: ConvOpts = { padding: 1, stride: [2, 1] };
    const tx = K.slice(onGpu(xb), 0, 1, 3), tw = K.slice(onGpu(wb), 0, 2, 5);
    expect(tx.offset).toBeGreaterThan(0);
    expect(tw.offset).toBeGreaterThan(0);
    const x = { shape: [2, 3, 7, 9], data: xb.data.slice(189, 3 * 189) };
    const w = { shape: [3, 3, 3, 3], data: wb.data.slice(2 * 27, 5 * 27) };
    const r = rnd.uniform(convRef(w, x, opts).y.shape);
    const ref = convRef(w, x, opts, r);
    const tr = onGpu(r);
    expect(relErr(await K.conv4(tw, tx, opts).data(), ref.y.data)).toBeLessThan(1e-5);
    const [gw, gx] = K.grad((p: Tensor[]) => K.sum(K.mul(K.conv4(p[0], p[1], opts), tr)))([tw, tx]) as Tensor[];
    expect(relErr(await gw.data(), ref.gw)).toBeLessThan(1e-5);
    expect(relErr(await gx.data(), ref.gx)).toBeLessThan(1e-5);
  });
});

describe.skipIf(!gpuOk)('gpu conv4 gradients against float64 central differences', () => {
  const small: Case[] = [
    { name: 'padding 2, stride 3, dilation 2', x: [2, 2, 9, 8], w: [3, 2, 2, 3], opts: { padding: 2, stride: 3, dilation: 2 } },
    { name: 'true convolution, per-axis options, batch 1', x: [1, 3, 7, 6], w: [2, 3, 3, 2], opts: { padding: [1, 2], stride: [2, 1], mode: 1 } },
  ];
  small.forEach((c, k) => it(c.name, async () => {
    const rnd = R.rng(500 + k);
    const res = await refGradcheck((w, x) => K.conv4(w, x, c.opts), (w, x) => convRef(w, x, c.opts).y,
      [rnd.uniform(c.w), rnd.uniform(c.x)], { seed: 600 + k });
    expect(res.worst, JSON.stringify(res.at)).toBeLessThan(1e-4);
    expect(res.directional).toBeLessThan(1e-5);
  }));
});
