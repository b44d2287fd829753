// One table of ops (test/helpers/op-table.ts, shared with the gpu tests) drives the forward
// tests (against float64 references) and gradcheck on the cpu device.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { draw, rows } from './helpers/op-table.js';

describe('ops: forward against float64 references', () => {
  rows.forEach((row, i) => it(row.name, () => {
    const r = R.rng(1000 + i);
    const xs = row.shapes.map((s, j) => draw(r, s, row.domain?.[j]));
    const ts = xs.map((x) => K.tensor(Float32Array.from(x.data), x.shape));
    const y = row.run(...ts);
    const want = row.ref(...xs);
    expect(y.shape).toEqual(want.shape);
    expect(R.worst(y.dataSync(), want.data)).toBeLessThan(row.tol ?? 1e-4);
    for (const t of [...ts, y]) t.dispose();
  }));
});

describe('ops: gradcheck', () => {
  rows.filter((row) => row.grad !== false).forEach((row, i) => it(row.name, () => {
    const r = R.rng(5000 + i);
    const xs = row.shapes.map((s, j) => draw(r, s, row.domain?.[j]));
    const ts = xs.map((x) => K.tensor(Float32Array.from(x.data), x.shape));
    const probe = row.run(...ts);
    const weights = K.tensor(Float32Array.from(draw(r, [...probe.shape]).data), probe.shape);
    probe.dispose();
    const loss = (w: Tensor[]) => K.sum(K.mul(row.run(...w), weights));
    const res = K.gradcheck(loss, ts);
    expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(2e-2);
    for (const t of [...ts, weights]) t.dispose();
  }));
});

describe('nll and accuracy', () => {
  const r = R.rng(7);
  const scores = draw(r, [5, 8]);
  const labels = Int32Array.from({ length: 8 }, () => r.int(5));
  const refNll = (axis: number) => {
    const lp = R.alongAxis(axis === 0 ? scores : R.transpose(scores, [1, 0]), axis, (v) => { const l = R.logsumexpFibre(v); return v.map((e) => e - l); });
    let s = 0;
    for (let j = 0; j < 8; j++) s += axis === 0 ? lp.data[labels[j] * 8 + j] : lp.data[j * 5 + labels[j]];
    return -s / 8;
  };
  it('int32 labels, classes on axis 0 (the seed layout) and axis 1', () => {
    const s0 = K.tensor(Float32Array.from(scores.data), [5, 8]);
    const s1 = K.transpose(s0);
    const y = K.tensor(labels, [8]);
    expect(K.nll(s0, y).item()).toBeCloseTo(refNll(0), 5);
    expect(K.nll(s1, y, 1).item()).toBeCloseTo(refNll(0), 5);
    const res = K.gradcheck((w: Tensor[]) => K.nll(w[0], y), [s0]);
    expect(res.maxError).toBeLessThan(2e-2);
  });
  it('one-hot labels equal int32 labels', () => {
    const s0 = K.tensor(Float32Array.from(scores.data), [5, 8]);
    const oh = new Float32Array(40);
    labels.forEach((c, j) => { oh[c * 8 + j] = 1; });
    expect(K.nll(s0, K.tensor(oh, [5, 8])).item()).toBeCloseTo(K.nll(s0, K.tensor(labels, [8])).item(), 5);
  });
  it('accuracy counts argmax hits', () => {
    const s = K.tensor([[0.1, 0.9, 0.3], [0.8, 0.05, 0.6]]); // classes on axis 0, 3 examples
    expect(K.accuracy(s, K.tensor(Int32Array.of(1, 0, 0), [3]))).toBeCloseTo(2 / 3);
    expect(K.accuracy(s, K.tensor(Int32Array.of(1, 0, 1), [3]))).toBe(1);
  });
});
