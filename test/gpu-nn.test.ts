// The indexing, LSTM, convolution, pooling and dropout ops on the gpu device, against the
// cpu on the same inputs: values, and gradients with respect to every float input (the cpu
// side is checked against float64 references and by gradcheck in its own tests).
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { disagreement, gpuOk } from './helpers/gpu.js';

type Outputs = Tensor | Tensor[] | { [k: string]: Tensor | Tensor[] };
const flat = (o: Outputs): Tensor[] => (o instanceof K.Tensor ? [o] : Array.isArray(o) ? o : Object.values(o).flatMap(flat));

/** Runs f on cpu and gpu copies of the inputs; compares outputs and input gradients. */
async function agree(seed: number, f: (...x: any[]) => Outputs, inputs: (R.Arr | Int32Array | { ids: Int32Array; shape: number[] })[],
                     tol = 1e-4, grads = true): Promise<void> {
  const r = R.rng(seed);
  const make = (device: K.DeviceName) => inputs.map((x) => x instanceof Int32Array ? K.tensor(x, [x.length], { device })
    : 'ids' in x ? K.tensor(x.ids, x.shape, { device }) : K.tensor(Float32Array.from(x.data), x.shape, { device }));
  const xc = make('cpu'), xg = make('gpu');
  const yc = flat(f(...xc)), yg = flat(f(...xg));
  expect(yg.length).toBe(yc.length);
  for (let k = 0; k < yc.length; k++) {
    expect(yg[k].device.name).toBe('gpu');
    expect(yg[k].shape).toEqual(yc[k].shape);
    expect(disagreement(await yg[k].data(), yc[k].dataSync(), 1e-4), `output ${k}`).toBeLessThan(tol);
  }
  if (!grads) return;
  const weights = yc.map((y) => r.uniform([...y.shape]));
  const floats = inputs.map((x, i) => (x instanceof Int32Array || 'ids' in x ? -1 : i)).filter((i) => i >= 0);
  const gradsOn = (xs: Tensor[], device: K.DeviceName) => {
    const ws = weights.map((w) => K.tensor(Float32Array.from(w.data), w.shape, { device }));
    const loss = (p: Tensor[]) => {
      const all = xs.slice();
      floats.forEach((i, k) => { all[i] = p[k]; });
      return flat(f(...all)).map((y, k) => K.sum(K.mul(y, ws[k]))).reduce((a, b) => K.add(a, b));
    };
    return K.grad(loss)(floats.map((i) => xs[i])) as Tensor[];
  };
  const gc = gradsOn(xc, 'cpu'), gg = gradsOn(xg, 'gpu');
  for (let k = 0; k < gc.length; k++) {
    expect(disagreement(await gg[k].data(), gc[k].dataSync(), 1e-4), `gradient of input ${floats[k]}`).toBeLessThan(tol * 10);
  }
}

describe.skipIf(!gpuOk)('gpu nn: slicing, concatenation, gather', () => {
  const r = R.rng(1);
  it('slice (a copy and a view) and index with lists', async () => {
    await agree(2, (x) => [K.slice(x, 1, 1, 3), K.slice(x, 0, 1), K.index(x, [null, Int32Array.of(2, 0, 2), [1, 4]])], [r.uniform([3, 4, 5])]);
  });
  it('concat, hcat, vcat', async () => {
    await agree(3, (a, b, c) => [K.concat([a, b], 1), K.hcat(a, b), K.vcat(a, c)], [r.uniform([2, 3]), r.uniform([2, 4]), r.uniform([5, 3])]);
  });
  it('gather with repeated ids on axis 0 and 1, and scatterAdd', async () => {
    const ids = Int32Array.of(4, 0, 4, 2, 4);
    await agree(4, (x, i) => [K.gather(x, i, 0), K.gather(x, i, 1)], [r.uniform([5, 6, 2]), ids]);
    await agree(5, (g, i) => K.scatterAdd(g, i, [5, 3], 0), [r.uniform([5, 3]), ids]);
  });
  it('bad ids from the cpu throw at once', () => {
    const x = K.tensor([[1, 2], [3, 4]], undefined, { device: 'gpu' });
    expect(() => K.gather(x, [0, 2])).toThrow(/position 1 .* outside \[0, 2\)/);
  });
});

describe.skipIf(!gpuOk)('gpu nn: LSTM', () => {
  const r = R.rng(6);
  const [B, X, H] = [3, 4, 5];
  it('lstmCell: hidden and cell, and gradients to every input', async () => {
    await agree(7, (w, b, h, c, x) => K.lstmCell(w, b, h, c, x),
      [r.uniform([X + H, 4 * H]), r.uniform([1, 4 * H]), r.uniform([B, H]), r.uniform([B, H]), r.uniform([B, X])]);
  });
  it('rnnForward: two layers over a sequence', async () => {
    K.setSeed(8);
    const layers = K.rnnInit(X, H, { layers: 2 });
    const arr = (t: Tensor): R.Arr => ({ shape: [...t.shape], data: Float64Array.from(t.dataSync()) });
    await agree(9, (w0, b0, w1, b1, x) => {
      const out = K.rnnForward([{ w: w0, b: b0 }, { w: w1, b: b1 }], x);
      return [out.y, ...out.h, ...out.c];
    }, [arr(layers[0].w), arr(layers[0].b), arr(layers[1].w), arr(layers[1].b), r.uniform([6, B, X])]);
  });
});

describe.skipIf(!gpuOk)('gpu nn: conv4 and pool', () => {
  const r = R.rng(10);
  const cases: [string, number[], number[], K.ConvOptions][] = [
    ['3x3', [4, 3, 3, 3], [2, 3, 7, 6], {}],
    ['padding 1, stride 2', [5, 2, 3, 3], [2, 2, 9, 8], { padding: 1, stride: 2 }],
    ['dilation 2, true convolution', [3, 2, 3, 2], [1, 2, 8, 9], { dilation: 2, mode: 1 }],
    ['1x1', [6, 4, 1, 1], [3, 4, 5, 5], {}],
    ['asymmetric', [2, 3, 2, 3], [2, 3, 6, 7], { padding: [1, 0], stride: [1, 2] }],
  ];
  for (const [name, ws, xs, opts] of cases) {
    it(`conv4 ${name}`, async () => {
      await agree(11, (w, x) => K.conv4(w, x, opts), [r.uniform(ws), r.uniform(xs)], 1e-3);
    });
  }
  const pools: [string, K.PoolOptions][] = [
    ['max 2x2', {}], ['mean 2x2', { mode: 1 }], ['max 3, stride 2, padding 1', { window: 3, stride: 2, padding: 1 }],
    ['mean with padding 3/1/1', { window: 3, stride: 1, padding: 1, mode: 1 }], ['mean without padding 3/1/1', { window: 3, stride: 1, padding: 1, mode: 2 }],
  ];
  for (const [name, opts] of pools) {
    it(`pool ${name}`, async () => {
      // distinct values, so that the max never ties
      const x = r.uniform([2, 3, 7, 8]);
      x.data.forEach((_, i) => { x.data[i] = Math.fround(((i * 37) % 336) / 100 - 1.5); });
      await agree(12, (t) => K.pool(t, opts), [x]);
    });
  }
});

describe.skipIf(!gpuOk)('gpu nn: dropout', () => {
  it('draws the cpu\'s mask from the same seed, in the forward pass and its gradient', async () => {
    const x = R.rng(13).uniform([7, 33]);
    const run = (device: K.DeviceName) => {
      K.setSeed(14);
      const t = K.tensor(Float32Array.from(x.data), x.shape, { device });
      const [g, l] = K.gradloss((v: Tensor) => K.sum(K.mul(K.dropout(v, 0.3), v)))(t) as [Tensor, Tensor];
      return [g, l];
    };
    const [gc, lc] = run('cpu'), [gg, lg] = run('gpu');
    expect(Array.from(await gg.data())).toEqual(Array.from(gc.dataSync()));
    expect(await lg.itemAsync()).toBeCloseTo(lc.item(), 4);
  });
});
