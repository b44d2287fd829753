// A training loop over minibatches keeps memory flat across epochs.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';

describe('training loop', () => {
  it('a 3-epoch loop with minibatch, gradloss and update leaves live bytes flat', async () => {
    K.setSeed(4);
    const data = await K.mnist();
    const n = 2000;
    const x = K.tidy(() => K.transpose(K.tensor(data.xtrn.subarray(0, n * 784), [n, 784])));
    const batches = K.minibatch(x, { data: data.ytrn.subarray(0, n), shape: [n] }, 100, { shuffle: true });
    x.dispose();
    const w = [K.mul(K.randn(32, 784), 0.05), K.zeros(32, 1), K.mul(K.randn(10, 32), 0.05), K.zeros(10, 1)];
    const predict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]);
    const lossgrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y));
    const opts = K.optimizers(w, K.Adam, { lr: 1e-3 });
    const live: number[] = [], losses: number[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      let total = 0;
      for (const [xb, yb] of batches) {
        const [g, l] = lossgrad(w, xb, yb);
        K.update(w, g, opts);
        total += l.item();
        l.dispose();
      }
      losses.push(total / batches.length);
      live.push(K.memory().cpu!.live);
    }
    expect(live[2]).toBe(live[0]);
    expect(live[1]).toBe(live[0]);
    expect(losses[2]).toBeLessThan(losses[0]);
    batches.dispose();
  });
  it('minibatch: sizes, partial batches and bad input', () => {
    const x = K.tensor(Float32Array.from({ length: 30 }, (_, i) => i), [3, 10]);
    const y = K.tensor(Int32Array.from({ length: 10 }, (_, i) => i), [10]);
    const b = K.minibatch(x, y, 4);
    expect(b.length).toBe(2);
    const [[x0, y0]] = b;
    expect(x0.shape).toEqual([3, 4]);
    expect(x0.toArray()[1]).toEqual([10, 11, 12, 13]);
    expect(Array.from(y0.dataSync())).toEqual([0, 1, 2, 3]);
    expect(K.minibatch(x, y, 4, { partial: true }).length).toBe(3);
    const s = K.minibatch(x, y, 5, { shuffle: true, seed: 1 });
    for (const [xb, yb] of s) expect(Array.from(xb.toArray()[0] as number[])).toEqual(Array.from(yb.dataSync()));
    expect(() => K.minibatch(x, y, 11)).toThrow(/knet minibatch: batch size 11 is larger than the data \(10 examples/);
    expect(() => K.minibatch(x, K.zeros(9), 2)).toThrow(/has 10 examples along axis 1 but y \[9\] has 9/);
    expect(() => K.minibatch(x, y, 2, { shufle: true } as any)).toThrow(/unknown option 'shufle'/);
  });
});
