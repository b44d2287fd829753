// The fused LSTM on the gpu against the seed's plain-code lstm() on the gpu (hcat, matmul,
// slices, sigm, tanh): values and gradients with respect to all five inputs, for one cell
// at several sizes (B*H and 4H off every multiple of the workgroup size), with the states
// given as views into one buffer, and unrolled over a sequence, where rnnForward's
// one-op layer (gate outputs written into views of one buffer) must match T plain steps.
// Both are also checked against a float64 cell (test/helpers/nnref.ts) and, for a small
// cell, against float64 central differences.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { disagreement, gpuOk } from './helpers/gpu.js';
import { refGradcheck } from './helpers/gpu-gradcheck.js';
import { lstmRef, relErr } from './helpers/nnref.js';

const onGpu = (a: R.Arr) => K.tensor(Float32Array.from(a.data), a.shape, { device: 'gpu' });
type Cell = (w: Tensor, b: Tensor, h: Tensor, c: Tensor, x: Tensor) => [Tensor, Tensor];

/** [w, b, h, c, x] for batch B, input X, hidden H; b as [1, 4H] or [4H]. */
function inputs(seed: number, B: number, X: number, H: number, flatBias: boolean): R.Arr[] {
  const r = R.rng(seed);
  return [r.uniform([X + H, 4 * H]), r.uniform(flatBias ? [4 * H] : [1, 4 * H]), r.uniform([B, H]), r.uniform([B, H]), r.uniform([B, X])];
}

/** Outputs and gradients (to all five inputs) of sum(h .* rh) + sum(c .* rc). */
async function run(cell: Cell, xs: Tensor[], rh: Tensor, rc: Tensor) {
  const [h, c] = cell(...(xs as [Tensor, Tensor, Tensor, Tensor, Tensor]));
  const g = K.grad((p: Tensor[]) => {
    const [h2, c2] = cell(...(p as [Tensor, Tensor, Tensor, Tensor, Tensor]));
    return K.add(K.sum(K.mul(h2, rh)), K.sum(K.mul(c2, rc)));
  })(xs) as Tensor[];
  return { h: await h.data(), c: await c.data(), g: await Promise.all(g.map((t) => t.data())) };
}

const names = ['weight', 'bias', 'hidden', 'cell', 'input'];

describe.skipIf(!gpuOk)('gpu lstmCell equals the plain lstm on the gpu', () => {
  const sizes: [number, number, number, boolean][] = [[3, 4, 5, false], [37, 19, 67, true], [1, 1, 1, false], [130, 10, 2, true], [2, 300, 9, false]];
  sizes.forEach(([B, X, H, flat], k) => it(`B=${B} X=${X} H=${H}${flat ? ', bias [4H]' : ''}`, async () => {
    const a = inputs(40 + k, B, X, H, flat);
    const xs = a.map(onGpu);
    const rr = R.rng(60 + k);
    const rh = onGpu(rr.uniform([B, H])), rc = onGpu(rr.uniform([B, H]));
    const fused = await run(K.lstmCell, xs, rh, rc), plain = await run(K.lstm, xs, rh, rc);
    // (on lavapipe the two are bit-identical: the same arithmetic in the same order)
    expect(disagreement(fused.h, plain.h), 'hidden').toBeLessThan(1e-5);
    expect(disagreement(fused.c, plain.c), 'cell').toBeLessThan(1e-5);
    fused.g.forEach((g, i) => expect(disagreement(g, plain.g[i], 1e-4), `gradient of ${names[i]}`).toBeLessThan(1e-4));
    // and both against float64
    const want = lstmRef(a[0], a[1], a[2], a[3], a[4]).data;
    expect(relErr([...fused.h, ...fused.c], want), 'fused vs float64').toBeLessThan(1e-5);
    expect(relErr([...plain.h, ...plain.c], want), 'plain vs float64').toBeLessThan(1e-5);
  }));

  it('hidden and cell as views into one state buffer; the input a column slice (a copy)', async () => {
    const [B, X, H] = [6, 7, 11];
    const a = inputs(70, B, X, H, false);
    const r = R.rng(71);
    const state = onGpu(r.uniform([2, B, H])), wide = onGpu(r.uniform([B, X + 3]));
    const h = K.index(state, [0]), c = K.index(state, [1]), x = K.slice(wide, 1, 2, 2 + X);
    expect(c.offset).toBe(B * H); // views
    const w = onGpu(a[0]), b = onGpu(a[1]);
    const rh = onGpu(r.uniform([B, H])), rc = onGpu(r.uniform([B, H]));
    const fused = await run(K.lstmCell, [w, b, h, c, x], rh, rc), plain = await run(K.lstm, [w, b, h, c, x], rh, rc);
    expect(disagreement(fused.h, plain.h)).toBeLessThan(1e-5);
    expect(disagreement(fused.c, plain.c)).toBeLessThan(1e-5);
    fused.g.forEach((g, i) => expect(disagreement(g, plain.g[i], 1e-4), `gradient of ${names[i]}`).toBeLessThan(1e-4));
  });

  for (const [name, cell] of [['fused', K.lstmCell], ['plain', K.lstm]] as [string, Cell][]) {
    it(`${name}: gradients against float64 central differences`, async () => {
      const a = inputs(80, 3, 4, 5, false);
      const res = await refGradcheck((w, b, h, c, x) => {
        const [h2, c2] = cell(w, b, h, c, x);
        return K.reshape(K.vcat(h2, c2), [2, 3, 5]);
      }, lstmRef, a, { seed: 81 });
      expect(res.worst, JSON.stringify(res.at)).toBeLessThan(1e-4);
    });
  }
});

describe.skipIf(!gpuOk)('gpu LSTM over a sequence: plain steps, fused steps and rnnForward agree', () => {
  it('T=6, B=5, X=7, H=9: outputs, final states, and gradients to w, b, x, h0, c0', async () => {
    const [T, B, X, H] = [6, 5, 7, 9];
    const r = R.rng(90);
    const w = onGpu(r.uniform([X + H, 4 * H], -0.5, 0.5)), b = onGpu(r.uniform([1, 4 * H]));
    const x = onGpu(r.uniform([T, B, X])), h0 = onGpu(r.uniform([B, H])), c0 = onGpu(r.uniform([B, H]));
    const ry = onGpu(r.uniform([T, B, H])), rh = onGpu(r.uniform([B, H])), rc = onGpu(r.uniform([B, H]));
    const steps = (cell: Cell) => (p: Tensor[]) => {
      let [h, c] = [p[3], p[4]];
      const ys: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        [h, c] = cell(p[0], p[1], h, c, K.index(p[2], [t]));
        ys.push(K.reshape(h, [1, B, H]));
      }
      return { y: K.concat(ys, 0), h, c };
    };
    const layer = (p: Tensor[]) => {
      const out = K.rnnForward([{ w: p[0], b: p[1] }], p[2], [p[3]], [p[4]]);
      return { y: out.y, h: out.h[0], c: out.c[0] };
    };
    const loss = (f: (p: Tensor[]) => { y: Tensor; h: Tensor; c: Tensor }) => (p: Tensor[]) => {
      const o = f(p);
      return K.add(K.add(K.sum(K.mul(o.y, ry)), K.sum(K.mul(o.h, rh))), K.sum(K.mul(o.c, rc)));
    };
    const p = [w, b, x, h0, c0];
    const results = await Promise.all([steps(K.lstm), steps(K.lstmCell), layer].map(async (f) => {
      const o = f(p);
      const g = K.grad(loss(f))(p) as Tensor[];
      return { y: await o.y.data(), h: await o.h.data(), c: await o.c.data(), g: await Promise.all(g.map((t) => t.data())) };
    }));
    const [plain, ...others] = results;
    others.forEach((o, k) => {
      const tag = k === 0 ? 'fused steps' : 'rnnForward';
      expect(disagreement(o.y, plain.y), `${tag}: y`).toBeLessThan(1e-5);
      expect(disagreement(o.h, plain.h), `${tag}: h`).toBeLessThan(1e-5);
      expect(disagreement(o.c, plain.c), `${tag}: c`).toBeLessThan(1e-5);
      // rnnForward sums the weight gradient over all steps in one matmul, in another order:
      // entries near zero differ relatively (1.3e-4 for w), so measure against the scale
      o.g.forEach((g, i) => expect(relErr(g, plain.g[i]), `${tag}: gradient of ${['w', 'b', 'x', 'h0', 'c0'][i]}`).toBeLessThan(1e-5));
    });
  });
});

describe.skipIf(!gpuOk)('gpu LSTM over a sequence against float64 central differences', () => {
  const [T, B, X, H] = [4, 3, 5, 6];
  /** The float64 sequence: y [T, B, H], then the final h and c, flattened into one vector. */
  const seqRef = (w: R.Arr, b: R.Arr, x: R.Arr, h0: R.Arr, c0: R.Arr): R.Arr => {
    let h = h0, c = c0;
    const out: number[] = [];
    for (let t = 0; t < T; t++) {
      const xt = { shape: [B, X], data: x.data.slice(t * B * X, (t + 1) * B * X) };
      const hc = lstmRef(w, b, h, c, xt).data;
      h = { shape: [B, H], data: hc.slice(0, B * H) };
      c = { shape: [B, H], data: hc.slice(B * H) };
      out.push(...h.data);
    }
    out.push(...h.data, ...c.data);
    return { shape: [out.length], data: Float64Array.from(out) };
  };
  const flatOut = (y: Tensor, h: Tensor, c: Tensor) => K.concat([K.reshape(y, [-1]), K.reshape(h, [-1]), K.reshape(c, [-1])], 0);
  const runs: [string, (w: Tensor, b: Tensor, x: Tensor, h0: Tensor, c0: Tensor) => Tensor][] = [
    ['rnnForward', (w, b, x, h0, c0) => { const o = K.rnnForward([{ w, b }], x, [h0], [c0]); return flatOut(o.y, o.h[0], o.c[0]); }],
    ['lstmCell steps', (w, b, x, h0, c0) => {
      let [h, c] = [h0, c0];
      const ys: Tensor[] = [];
      for (let t = 0; t < T; t++) { [h, c] = K.lstmCell(w, b, h, c, K.index(x, [t])); ys.push(h); }
      return flatOut(K.vcat(...ys), h, c);
    }],
  ];
  runs.forEach(([name, f], k) => it(name, async () => {
    const r = R.rng(95 + k);
    const a = [r.uniform([X + H, 4 * H], -0.5, 0.5), r.uniform([1, 4 * H]), r.uniform([T, B, X]), r.uniform([B, H]), r.uniform([B, H])];
    const res = await refGradcheck(f, seqRef, a, { seed: 97 + k });
    expect(res.worst, JSON.stringify(res.at)).toBeLessThan(1e-4);
    expect(res.directional).toBeLessThan(1e-5);
  }));
});
