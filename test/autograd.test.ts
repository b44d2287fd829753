// Autograd over structures, closures, control flow, gradloss, argnum and nesting.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';

const t = (v: number[], s?: number[]) => K.tensor(v, s);
const vals = (x: Tensor) => Array.from(x.dataSync());

describe('grad', () => {
  it('gives the gradient in the structure of the parameters: array, object, nested', () => {
    const a = t([1, 2, 3]), b = t([4, 5, 6]);
    const f = (w: any) => K.sum(K.mul(w[0], w[1]));
    const g = K.grad(f)([a, b]);
    expect(vals(g[0])).toEqual([4, 5, 6]);
    expect(vals(g[1])).toEqual([1, 2, 3]);
    const h = K.grad((w: any) => K.sum(K.mul(w.x, w.y.z[0])))({ x: a, y: { z: [b] }, note: 'kept' });
    expect(vals(h.x)).toEqual([4, 5, 6]);
    expect(vals(h.y.z[0])).toEqual([1, 2, 3]);
    expect(h.note).toBeNull();
  });

  it('follows loops, conditionals, recursion and closures: the tape records what ran', () => {
    const x = t([0.5, -1.5]);
    const scale = t([2, 3]);
    const power = (v: Tensor, n: number): Tensor => (n === 1 ? v : K.mul(v, power(v, n - 1)));
    const f = (w: Tensor) => {
      let acc = K.mul(w, scale); // closure over a constant tensor
      for (let i = 0; i < 3; i++) acc = K.add(acc, w);
      if (K.sum(w).item() < 0) acc = K.add(acc, power(w, 3));
      return K.sum(acc);
    };
    // d/dw = scale + 3 + 3 w^2 (the condition holds: sum(w) = -1)
    const g = K.grad(f)(x);
    expect(vals(g)).toEqual([2 + 3 + 3 * 0.25, 3 + 3 + 3 * 2.25]);
  });

  it('gradloss returns [gradient, loss]; argnum picks the argument', () => {
    const w = t([2]), x = t([3]);
    const f = (w: Tensor, x: Tensor) => K.sum(K.mul(K.mul(w, w), x));
    const [g, loss] = K.gradloss(f)(w, x);
    expect(loss.item()).toBe(12);
    expect(vals(g)).toEqual([12]);
    expect(vals(K.grad(f, 1)(w, x))).toEqual([4]);
  });

  it('gives zeros for parameters the loss does not use, and one tensor per leaf', () => {
    const a = t([1, 2]), b = t([3, 4]);
    const g = K.grad((w: Tensor[]) => K.sum(K.add(w[0], w[0])))([a, b]);
    expect(vals(g[0])).toEqual([2, 2]);
    expect(vals(g[1])).toEqual([0, 0]);
    const h = K.grad((w: Tensor[]) => K.sum(K.add(w[0], w[1])))([a, b]);
    expect(h[0]).not.toBe(h[1]);
  });

  it('supports a gradient of a gradient', () => {
    const x = t([1, 2, -3]);
    const f = (x: Tensor) => K.sum(K.mul(K.mul(x, x), x));        // sum x^3
    const df = (x: Tensor) => K.sum(K.grad(f)(x));                 // sum 3x^2
    expect(vals(K.grad(df)(x))).toEqual([6, 12, -18]);             // 6x
  });

  it('matches a float64 reference for a small MLP', () => {
    K.setSeed(1);
    const w = [K.mul(K.randn(4, 3), 0.5), K.zeros(4, 1), K.mul(K.randn(2, 4), 0.5), K.zeros(2, 1)];
    const x = K.randn(3, 5);
    const y = K.tensor(Int32Array.of(0, 1, 1, 0, 1), [5]);
    const predict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]);
    const res = K.gradcheck((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y), w, x, y);
    expect(res.maxError).toBeLessThan(2e-2);
    expect(res.checked).toBeGreaterThan(20);
  });
});

describe('memory', () => {
  it('frees every intermediate when grad returns', () => {
    const w = K.randn(8, 8), x = K.randn(8, 4);
    const before = K.memory().cpu!.live;
    const g = K.grad((w: Tensor) => K.sum(K.tanh(K.matmul(w, x))))(w);
    expect(K.memory().cpu!.live - before).toBe(256 + 0); // only the gradient (8x8 floats, one size class)
    g.dispose();
    expect(K.memory().cpu!.live).toBe(before);
  });

  it('keeps live bytes flat over 1000 MLP steps', () => {
    K.setSeed(2);
    let w = [K.mul(K.randn(16, 10), 0.1), K.zeros(16, 1), K.mul(K.randn(3, 16), 0.1), K.zeros(3, 1)];
    const x = K.randn(10, 32);
    const y = K.tensor(Int32Array.from({ length: 32 }, (_, i) => i % 3), [32]);
    const loss = (w: Tensor[]) => K.nll(K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]), y);
    const lossgrad = K.gradloss(loss);
    const step = () => {
      const [g, l] = lossgrad(w);
      const next = w.map((p, i) => K.keep(K.tidy(() => K.sub(p, K.mul(g[i], 0.1)))));
      [...w, ...g].forEach((t) => t.dispose());
      w = next;
      return l;
    };
    const first = step().item();
    for (let i = 0; i < 10; i++) step().dispose();
    const start = K.memory().cpu!;
    let last = 0;
    for (let i = 0; i < 1000; i++) { const l = step(); last = l.item(); l.dispose(); }
    const end = K.memory().cpu!;
    expect(last).toBeLessThan(first);
    expect(end.live).toBe(start.live);
    expect(end.live + end.pooled).toBe(start.live + start.pooled); // nothing new allocated
  });

  it('tidy disposes what it made and keeps its result; dispose and using free early', () => {
    const before = K.memory().cpu!.live;
    const kept = K.tidy(() => K.add(K.mul(K.ones(100), 2), 1));
    expect(kept.dataSync()[0]).toBe(3);
    kept.dispose();
    {
      using z = K.zeros(1000);
      expect(K.memory().cpu!.live).toBeGreaterThan(before);
      void z;
    }
    expect(K.memory().cpu!.live).toBe(before);
    expect(K.memory().cpu!.pooled).toBeGreaterThan(0);
  });

  it('views share storage: the storage lives until its last view is disposed', () => {
    const before = K.memory().cpu!.live;
    const a = K.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = K.reshape(a, [3, 2]);
    a.dispose();
    expect(b.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    b.dispose();
    expect(K.memory().cpu!.live).toBe(before);
  });
});

describe('the seed ports line by line', () => {
  it('linear regression loss and the softmax loss', () => {
    K.setSeed(3);
    const w = [K.mul(K.randn(1, 13), 0.1), K.zeros(1, 1)];
    const x = K.randn(13, 20), y = K.randn(1, 20);
    const predict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[0], x), w[1]);
    const loss = (w: Tensor[], x: Tensor, y: Tensor) => K.div(K.sumabs2(K.sub(y, predict(w, x))), y.shape[1]);
    expect(K.gradcheck(loss, w, x, y).maxError).toBeLessThan(2e-2);
    // the seed: ynorm = ypred .- log(sum(exp(ypred),1)); -sum(ygold .* ynorm) / size(ygold,2)
    const ygold = K.tensor(Float32Array.from({ length: 60 }, (_, i) => (i % 3 === Math.floor(i / 20) ? 1 : 0)), [3, 20]);
    const wsm = [K.mul(K.randn(3, 13), 0.1), K.zeros(3, 1)];
    const smloss = (w: Tensor[], x: Tensor, ygold: Tensor) => {
      const ypred = predict(w, x);
      const ynorm = K.sub(ypred, K.logsumexp(ypred, 0, true));
      return K.div(K.neg(K.sum(K.mul(ygold, ynorm))), ygold.shape[1]);
    };
    expect(K.gradcheck(smloss, wsm, x, ygold).maxError).toBeLessThan(2e-2);
    expect(smloss(wsm, x, ygold).item()).toBeCloseTo(K.nll(predict(wsm, x), ygold).item(), 5);
  });
  it('methods on Tensor are the same ops', () => {
    const a = K.tensor([[1, 2], [3, 4]]);
    expect(a.add(1).mul(a).sum(0).toArray()).toEqual([2 + 12, 6 + 20]);
    expect(a.matmul(a, false, true).toArray()).toEqual([[5, 11], [11, 25]]);
  });
});

describe('copy', () => {
  it('copies int32 bit-exactly, including values that are NaN patterns as float32', () => {
    const v = Int32Array.of(0, -1, 2147483647, -2147483648, 0x7fa00000, 0x7f800001, 5, 6, 7);
    const x = K.tensor(v, [9]);
    const y = K.copy(x);
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual(Array.from(v));
  });
});
