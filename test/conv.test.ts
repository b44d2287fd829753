// conv4 against a float64 direct convolution (forward, and both gradients in full through
// the adjoint), gradcheck, gradients of gradients, bad input, and the seed's LeNet.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { cpuDevice } from '../ts/device/cpu.js';
import { CONV_DIRECT, convDirect } from '../ts/device/wasm/device.js';
import { convGeometry } from '../ts/nn/conv.js';
import * as R from './helpers/ref.js';
import { raw } from './helpers/raw.js';
import { type ConvOpts, convRef, relErr } from './helpers/nnref.js';

interface Case { name: string; x: number[]; w: number[]; opts: ConvOpts }

const cases: Case[] = [
  { name: 'plain 3x2 filter', x: [2, 3, 7, 6], w: [4, 3, 3, 2], opts: {} },
  { name: 'padding 1', x: [2, 3, 7, 6], w: [4, 3, 3, 3], opts: { padding: 1 } },
  { name: 'padding 2', x: [2, 2, 6, 5], w: [3, 2, 3, 3], opts: { padding: 2 } },
  { name: 'stride 2', x: [2, 3, 9, 8], w: [4, 3, 3, 3], opts: { stride: 2 } },
  { name: 'stride 3, padding 1', x: [2, 3, 10, 11], w: [2, 3, 4, 3], opts: { stride: 3, padding: 1 } },
  { name: 'dilation 2', x: [2, 3, 9, 9], w: [4, 3, 3, 3], opts: { dilation: 2 } },
  { name: 'dilation 2, padding 2, stride 2', x: [1, 2, 9, 10], w: [3, 2, 3, 2], opts: { dilation: 2, padding: 2, stride: 2 } },
  { name: 'dilation 2, padding 2, stride 1 (on a padded copy)', x: [2, 3, 9, 10], w: [4, 3, 3, 3], opts: { dilation: 2, padding: 2 } },
  { name: 'mode 1 (convolution)', x: [2, 3, 7, 6], w: [4, 3, 3, 2], opts: { mode: 1 } },
  { name: 'mode 1, padding 1, stride 2, dilation 2', x: [2, 3, 11, 9], w: [3, 3, 3, 3], opts: { mode: 1, padding: 1, stride: 2, dilation: 2 } },
  { name: 'per-axis pairs', x: [2, 3, 8, 13], w: [3, 3, 3, 4], opts: { padding: [2, 0], stride: [1, 3], dilation: [2, 1] } },
  { name: 'odd sizes, mode 1', x: [3, 5, 11, 13], w: [7, 5, 5, 3], opts: { stride: 2, padding: 2, mode: 1 } },
  { name: 'batch 1, many channels', x: [1, 32, 5, 5], w: [16, 32, 3, 3], opts: { padding: 1 } },
  { name: 'filter as large as the input', x: [2, 3, 5, 5], w: [4, 3, 5, 5], opts: {} },
  { name: 'filter larger than the input, padded', x: [1, 2, 3, 3], w: [2, 2, 5, 5], opts: { padding: 2 } },
  { name: '1x1 filter (no im2col)', x: [2, 8, 5, 7], w: [6, 8, 1, 1], opts: {} },
  { name: '1x1 filter, stride 2', x: [2, 4, 5, 7], w: [3, 4, 1, 1], opts: { stride: 2 } },
  { name: 'one output channel, one input channel', x: [4, 1, 6, 6], w: [1, 1, 2, 2], opts: {} },
  { name: 'LeNet layer 2 shape', x: [2, 20, 12, 12], w: [50, 20, 5, 5], opts: {} },
  // The kernels block their products (assembly/im2col.ts): pixels in blocks of 256, taps
  // and output channels in blocks of 256 (depth) or 512 (filter gradient's taps).
  { name: 'large image (pixel blocks)', x: [2, 8, 40, 300], w: [3, 8, 3, 3], opts: { padding: 1 } },
  { name: 'large image, stride 2 and dilation', x: [1, 16, 23, 600], w: [2, 16, 5, 5], opts: { stride: [2, 1], dilation: [1, 2], padding: [0, 3] } },
  { name: 'filter-gradient depth blocks spanning images', x: [5, 3, 12, 12], w: [4, 3, 3, 3], opts: {} },
  { name: '600 taps (tap chunks)', x: [2, 24, 7, 7], w: [3, 24, 5, 5], opts: { padding: 1 } },
  { name: '260 output channels (depth blocks of the data gradient)', x: [2, 2, 6, 6], w: [260, 2, 2, 2], opts: { stride: 2 } },
  // The direct kernels (assembly/convdirect.ts; stride 1 and dilation 1, padded ones on a
  // padded copy of x; see DIRECT below).
  { name: 'direct: LeNet layer 1 shape', x: [3, 1, 28, 28], w: [20, 1, 5, 5], opts: {} },
  { name: 'direct: 3 channels, mode 1, 11 columns (last run overlapped)', x: [2, 3, 14, 13], w: [7, 3, 3, 3], opts: { mode: 1 } },
  { name: 'direct: 8 columns, 9 filters, 10 taps', x: [2, 1, 9, 12], w: [9, 1, 2, 5], opts: {} },
  { name: 'direct: 5 filters (odd pair), 12 taps, mode 1', x: [2, 2, 10, 13], w: [5, 2, 3, 2], opts: { mode: 1 } },
  { name: 'direct, padded: 3x3, padding 1, 16 columns', x: [2, 3, 9, 16], w: [6, 3, 3, 3], opts: { padding: 1 } },
  { name: 'direct, padded: padding [2, 1], mode 1, 11 columns', x: [2, 2, 7, 10], w: [5, 2, 3, 2], opts: { padding: [2, 1], mode: 1 } },
  { name: 'direct, padded: 5x5, padding 2', x: [3, 1, 12, 12], w: [4, 1, 5, 5], opts: { padding: 2 } },
];
/** The cases above that take the direct forward, and those whose filter gradient is direct too. */
const DIRECT = { forward: [0, 1, 2, 3, 4, 5, 6].map((i) => cases.length - 7 + i), filter: [0, 2, 3, 4, 6].map((i) => cases.length - 7 + i) };

describe('conv4 against a float64 direct convolution', () => {
  cases.forEach((c, k) => it(c.name, () => {
    const rnd = R.rng(100 + k);
    const x = rnd.uniform(c.x), w = rnd.uniform(c.w);
    const probe = convRef(w, x, c.opts);
    const r = rnd.uniform(probe.y.shape);
    const ref = convRef(w, x, c.opts, r);
    const [tw, tx, tr] = [w, x, r].map((a) => K.tensor(Float32Array.from(a.data), a.shape));
    const y = K.conv4(tw, tx, c.opts);
    expect(y.shape).toEqual(ref.y.shape);
    expect(relErr(y.dataSync(), ref.y.data)).toBeLessThan(1e-5);
    const [gw, gx] = K.grad((p: Tensor[]) => K.sum(K.mul(K.conv4(p[0], p[1], c.opts), tr)))([tw, tx]);
    expect(relErr(gw.dataSync(), ref.gw)).toBeLessThan(1e-5);
    expect(relErr(gx.dataSync(), ref.gx)).toBeLessThan(1e-5);
    for (const t of [tw, tx, tr, y, gw, gx]) t.dispose();
  }));
});

describe('conv4 direct kernels (assembly/convdirect.ts)', () => {
  it('take the shapes they are meant for (stride 1, dilation 1), not others', () => {
    const direct = (c: Case) => convDirect(convGeometry(K.zeros(c.w), K.zeros(c.x), c.opts as any));
    for (const k of DIRECT.forward) expect(direct(cases[k]), cases[k].name).toEqual({ forward: true, filter: DIRECT.filter.includes(k) });
    for (const name of ['padding 1', 'stride 2', 'dilation 2', 'per-axis pairs', 'LeNet layer 2 shape', 'one output channel, one input channel']) {
      const c = cases.find((c) => c.name === name)!;
      // 6 columns; strided or dilated; LeNet's second layer has 500 taps; the last 5 columns
      expect(direct(c), name).toEqual({ forward: false, filter: false });
    }
    // padded ones only while CONV_DIRECT.padded is on
    CONV_DIRECT.padded = false;
    try {
      for (const k of DIRECT.forward.filter((k) => cases[k].name.includes('padded'))) expect(direct(cases[k]), cases[k].name).toEqual({ forward: false, filter: false });
    } finally { CONV_DIRECT.padded = true; }
  });

  it('give the implicit GEMM\'s forward bit for bit, and its gradients to rounding', () => {
    // the other path: no direct kernels, and padding handled by the implicit GEMM itself
    // rather than on a padded copy of x
    for (const k of DIRECT.forward) {
      const c = cases[k], rnd = R.rng(700 + k);
      const [w, x] = [c.w, c.x].map((s) => K.tensor(Float32Array.from(rnd.uniform(s).data), s));
      const y0 = K.conv4(w, x, c.opts), dy = K.tensor(Float32Array.from(rnd.uniform(y0.shape as number[]).data), y0.shape as number[]);
      const grads = () => (K.grad((p: Tensor[]) => K.sum(K.mul(K.conv4(p[0], p[1], c.opts), dy)))([w, x]) as Tensor[]).map((t) => t.dataSync());
      const [ya, [gwa, gxa]] = [y0.dataSync(), grads()];
      const saved = { ...CONV_DIRECT };
      CONV_DIRECT.forwardMaxTaps = -1; CONV_DIRECT.filterMaxTaps = -1; CONV_DIRECT.padded = false;
      let yb: Float32Array, gwb: Float32Array, gxb: Float32Array;
      try { yb = K.conv4(w, x, c.opts).dataSync() as Float32Array; [gwb, gxb] = grads() as Float32Array[]; } finally { Object.assign(CONV_DIRECT, saved); }
      expect(Array.from(ya), c.name).toEqual(Array.from(yb));
      expect(relErr(gwa, Array.from(gwb)), c.name).toBeLessThan(1e-5);
      expect(relErr(gxa, Array.from(gxb)), c.name).toBeLessThan(1e-5);
    }
  });

  it('padded copies come from the pool and go back: memory stays flat over repeated steps', () => {
    const rnd = R.rng(78), opts = { padding: 1 };
    const [w, x] = [[6, 3, 3, 3], [4, 3, 9, 16]].map((s) => K.tensor(Float32Array.from(rnd.uniform(s).data), s));
    const step = () => K.tidy(() => { const [gw, gx] = K.grad((p: Tensor[]) => K.sum(K.conv4(p[0], p[1], opts)))([w, x]) as Tensor[]; gw.dataSync(); gx.dataSync(); });
    step();
    const before = K.memory().cpu!;
    for (let i = 0; i < 20; i++) step();
    const after = K.memory().cpu!;
    expect(after.live).toBe(before.live);
    expect(after.tensors).toBe(before.tensors);
    expect(after.live + after.pooled).toBe(before.live + before.pooled);
  });

  it('padded stride-1 convolutions on a padded copy of x, where the direct kernels do not apply', () => {
    // 288 taps, and a dilated filter (implicit GEMM on the copy): the same forward bits as on
    // the padded geometry, the gradients to rounding
    for (const [ws, xs, opts] of [[[6, 32, 3, 3], [2, 32, 6, 9], { padding: 1 }], [[4, 3, 3, 3], [2, 3, 9, 10], { padding: 2, dilation: 2 }]] as const) {
      const rnd = R.rng(77);
      const [w, x] = [ws, xs].map((s) => K.tensor(Float32Array.from(rnd.uniform(s as number[]).data), s as number[]));
      expect(convDirect(convGeometry(w, x, opts))).toEqual({ forward: false, filter: false });
      const run = () => [K.conv4(w, x, opts), ...K.grad((p: Tensor[]) => K.sum(K.conv4(p[0], p[1], opts)))([w, x]) as Tensor[]].map((t) => t.dataSync());
      const [ya, gwa, gxa] = run();
      CONV_DIRECT.padded = false;
      let yb: ArrayLike<number>, gwb: ArrayLike<number>, gxb: ArrayLike<number>;
      try { [yb, gwb, gxb] = run(); } finally { CONV_DIRECT.padded = true; }
      expect(Array.from(ya)).toEqual(Array.from(yb));
      expect(relErr(gwa, Array.from(gwb))).toBeLessThan(1e-5);
      expect(relErr(gxa, Array.from(gxb))).toBeLessThan(1e-5);
    }
  });
});

describe('conv4 gradcheck', () => {
  cases.filter((c) => R.size(c.x) <= 2000).forEach((c, k) => it(c.name, () => {
    const rnd = R.rng(300 + k);
    const x = K.tensor(Float32Array.from(rnd.uniform(c.x).data), c.x), w = K.tensor(Float32Array.from(rnd.uniform(c.w).data), c.w);
    const y = K.conv4(w, x, c.opts);
    const r = K.tensor(Float32Array.from(rnd.uniform([...y.shape]).data), y.shape);
    const res = K.gradcheck((p: Tensor[]) => K.sum(K.mul(K.conv4(p[0], p[1], c.opts), r)), [w, x]);
    expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(2e-2);
    for (const t of [x, w, y, r]) t.dispose();
  }));

  it('gradients of gradients (each kernel\'s vjp is made of the other two)', () => {
    const rnd = R.rng(9);
    const opts = { padding: 1, stride: 2, mode: 1 };
    const x = K.tensor(Float32Array.from(rnd.uniform([2, 3, 7, 6], -0.5, 0.5).data), [2, 3, 7, 6]);
    const w = K.tensor(Float32Array.from(rnd.uniform([4, 3, 3, 3], -0.5, 0.5).data), [4, 3, 3, 3]);
    // inner's gradients are filter(x, 2y) and data(w, 2y) with y = conv4(w, x); outer
    // differentiates both kernels with respect to both of their inputs.
    const inner = (p: Tensor[]) => K.sumabs2(K.conv4(p[0], p[1], opts));
    const outer = (p: Tensor[]) => {
      const [gw, gx] = K.grad(inner)(p);
      return K.add(K.sumabs2(gw), K.sumabs2(gx));
    };
    const res = K.gradcheckWith({ samples: 8, eps: 1e-3 })(outer, [w, x]);
    expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(2e-2);
    for (const t of [x, w]) t.dispose();
  });
});

describe('im2col and col2im kernels', () => {
  it('im2col gives the columns of the header formula; col2im is its adjoint', async () => {
    const k = await raw();
    // [N, C, H, W, O, kh, kw, Ho, Wo, ph, pw, sh, sw, dh, dw, flip]
    const [C, H, W, kh, kw, ph, pw, sh, sw, dh, dw] = [2, 7, 6, 3, 2, 1, 2, 2, 1, 2, 1];
    const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1, Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
    for (const flip of [0, 1]) {
      const meta = k.i32([1, C, H, W, 1, kh, kw, Ho, Wo, ph, pw, sh, sw, dh, dw, flip]);
      const rnd = R.rng(5 + flip);
      const xs = rnd.uniform([C * H * W]).data, cs = rnd.uniform([C * kh * kw * Ho * Wo]).data;
      const x = k.f32(xs), col = k.alloc(cs.length), c = k.f32(cs), back = k.alloc(xs.length);
      k.k.im2col(x, col, meta);
      k.k.col2im(c, back, meta);
      const got = k.readF32(col, cs.length), adj = k.readF32(back, xs.length);
      let dot1 = 0, dot2 = 0;
      for (let t = 0; t < C * kh * kw; t++) for (let p = 0; p < Ho * Wo; p++) {
        const ch = Math.floor(t / (kh * kw)), i = Math.floor(t / kw) % kh, j = t % kw;
        const ii = flip ? kh - 1 - i : i, jj = flip ? kw - 1 - j : j;
        const r = Math.floor(p / Wo) * sh - ph + ii * dh, q = (p % Wo) * sw - pw + jj * dw;
        const want = r < 0 || r >= H || q < 0 || q >= W ? 0 : Math.fround(xs[(ch * H + r) * W + q]);
        expect(got[t * Ho * Wo + p]).toBe(want);
        dot1 += want * cs[t * Ho * Wo + p];
      }
      for (let i = 0; i < xs.length; i++) dot2 += adj[i] * xs[i];
      expect(Math.abs(dot1 - dot2)).toBeLessThan(1e-4 * Math.abs(dot1) + 1e-5);
    }
  });
});

describe('conv4 bad input', () => {
  const x = K.zeros([2, 3, 8, 8]), w = K.zeros([4, 3, 3, 3]);
  const bad: [string, () => unknown, RegExp][] = [
    ['channel mismatch', () => K.conv4(K.zeros([4, 2, 3, 3]), x), /knet conv4: x has 3 channels but w expects 2: x \[2,3,8,8\].*w \[4,2,3,3\]/],
    ['3-D x', () => K.conv4(w, K.zeros([3, 8, 8])), /knet conv4: x must be 4-D \[N, C, H, W\].*\[3,8,8\]/],
    ['2-D w', () => K.conv4(K.zeros([4, 27]), x), /knet conv4: w must be 4-D \[O, C, kh, kw\].*\[4,27\]/],
    ['5-D x', () => K.conv4(w, K.zeros([1, 2, 3, 8, 8])), /not supported yet/],
    ['filter larger than the input', () => K.conv4(K.zeros([4, 3, 9, 3]), x), /knet conv4: the output would be empty.*\[4,3,9,3\].*8 x 8/],
    ['dilated filter larger than the input', () => K.conv4(w, x, { dilation: 4 }), /dilated to 9 x 9/],
    ['unknown option', () => K.conv4(w, x, { pad: 1 } as any), /knet conv4: unknown option 'pad' \(known: padding, stride, dilation, mode\)/],
    ['stride 0', () => K.conv4(w, x, { stride: 0 }), /knet conv4: stride must be an integer >= 1/],
    ['negative padding', () => K.conv4(w, x, { padding: -1 }), /knet conv4: padding must be an integer >= 0/],
    ['a triple', () => K.conv4(w, x, { padding: [1, 1, 1] as any }), /padding must be .* pair \[h, w\]/],
    ['fractional dilation', () => K.conv4(w, x, { dilation: 1.5 }), /dilation must be an integer/],
    ['mode 2', () => K.conv4(w, x, { mode: 2 }), /knet conv4: mode must be 0 \(cross-correlation\) or 1 \(convolution\)/],
    ['int32 x', () => K.conv4(w, K.tensor(new Int32Array(2 * 3 * 8 * 8), [2, 3, 8, 8])), /knet conv4: x must be float32/],
    ['not a tensor', () => K.conv4(w, [1, 2, 3] as any), /knet conv4: x must be a Tensor/],
  ];
  for (const [name, f, msg] of bad) it(name, () => expect(f).toThrow(msg));

  it('a device without the kernel says so', () => {
    // a stand-in device: the cpu device's memory, but no conv4 kernels
    const fake = Object.create(cpuDevice, { name: { value: 'gpu' }, conv4: { value: undefined } });
    const fx = K.zeros([1, 1, 4, 4], { device: fake }), fw = K.zeros([1, 1, 2, 2], { device: fake });
    expect(() => K.conv4(fw, fx)).toThrow("knet conv4: not implemented on the 'gpu' device yet");
  });
});

describe('training', () => {
  it('a loop with conv4, pool and dropout keeps live bytes flat', () => {
    K.setSeed(11);
    const x = K.rand([16, 1, 12, 12]), y = K.tensor(Int32Array.from({ length: 16 }, (_, i) => i % 10), [16]);
    const w = [K.mul(K.randn(6, 1, 3, 3), 0.3), K.zeros(1, 6, 1, 1), K.mul(K.randn(10, 216), 0.1), K.zeros(10, 1)];
    const predict = (w: Tensor[], x: Tensor) => {
      const h = K.dropout(K.pool(K.relu(K.add(K.conv4(w[0], x, { padding: 1 }), w[1])), { window: 3, padding: 1, stride: 2, mode: 2 }), 0.2);
      return K.add(K.matmul(w[2], K.mat(h), false, true), w[3]);
    };
    const lossgrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y));
    const opts = K.optimizers(w, K.Sgd, { lr: 0.1 });
    const live: number[] = [], losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const [g, l] = lossgrad(w, x, y);
      K.update(w, g, opts);
      losses.push(l.item());
      l.dispose();
      if (step >= 10) live.push(K.memory().cpu!.live);
    }
    expect(new Set(live).size).toBe(1);
    expect(losses[29]).toBeLessThan(losses[0]);
  });

  it('LeNet (examples/lenet.ts) reaches 97% test accuracy after one epoch on MNIST, on the cpu device', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/lenet.ts', '--epochs', '1'],
      { encoding: 'utf8', timeout: 600_000 });
    const tst = Number([...out.matchAll(/tst (\d\.\d+)/g)].at(-1)![1]);
    expect(tst).toBeGreaterThanOrEqual(0.97);
  }, 600_000);
});
