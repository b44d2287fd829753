// Memory on the gpu device stays flat over a training loop: every intermediate of grad()
// and every consumed gradient returns to the pool, and the pool serves the next step.
// Its own file (its own process), so that no other test's forgotten tensors are
// finalised into the pool while it measures.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import * as R from './helpers/ref.js';
import { gpuOk } from './helpers/gpu.js';

describe.skipIf(!gpuOk)('gpu memory', () => {
  it('500 MLP steps leave live and pooled gpu bytes flat', async () => {
    K.setSeed(3);
    const r = R.rng(9);
    const x = K.tensor(Float32Array.from(r.uniform([784, 100]).data), [784, 100], { device: 'gpu' });
    const y = K.tensor(Int32Array.from({ length: 100 }, () => r.int(10)), [100], { device: 'gpu' });
    const w = K.tidy(() => K.gpu([K.mul(K.randn(64, 784), 0.1), K.zeros(64, 1), K.mul(K.randn(10, 64), 0.1), K.zeros(10, 1)]));
    const predict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]);
    const lossgrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y));
    const opts = K.optimizers(w, K.Adam, { lr: 1e-3, gclip: 5 });
    let total = K.zeros([], { device: 'gpu' });
    const step = () => {
      const [g, l] = lossgrad(w, x, y);
      K.update(w, g, opts);
      const t = K.add(total, l);
      total.dispose(); l.dispose();
      total = t;
    };
    for (let i = 0; i < 20; i++) step();
    const first = await total.itemAsync();
    const before = K.memory();
    for (let i = 0; i < 500; i++) step();
    const loss = await total.itemAsync();
    const after = K.memory();
    expect(after.gpu).toEqual(before.gpu);
    expect(after.cpu).toEqual(before.cpu);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss / 520).toBeLessThan(first / 20); // it learns
  });
});
