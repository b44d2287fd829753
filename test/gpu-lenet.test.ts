// The seed's LeNet (the model of examples/lenet.ts, written out again here) trained on the
// gpu on real MNIST images, in-process: the first step's loss and every parameter's
// gradient equal the cpu's, and a few SGD steps make the loss fall. (Running the example
// itself with --device gpu takes minutes on lavapipe: each epoch evaluates all 10,000 test
// images; see test/gpu-examples.test.ts.)
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { gpuOk } from './helpers/gpu.js';
import { relErr } from './helpers/nnref.js';

// as examples/lenet.ts: conv 5x5x20, relu, pool; conv 5x5x50, relu, pool; dense 800->500, relu; 500->10
function predict(w: Tensor[], x0: Tensor): Tensor {
  const x1 = K.pool(K.relu(K.add(K.conv4(w[0], x0), w[1])));
  const x2 = K.pool(K.relu(K.add(K.conv4(w[2], x1), w[3])));
  const x3 = K.relu(K.add(K.matmul(w[4], K.mat(x2), false, true), w[5]));
  return K.add(K.matmul(w[6], x3), w[7]);
}
const loss = (w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y);

/** The seed's initialisation (-0.1 + 0.2 * rand, zero biases) from seed 1, on the cpu. */
function init(): Tensor[] {
  K.setSeed(1);
  const u = (...s: number[]) => K.tidy(() => K.sub(K.mul(K.rand(s), 0.2), 0.1));
  return [u(20, 1, 5, 5), K.zeros([1, 20, 1, 1]), u(50, 20, 5, 5), K.zeros([1, 50, 1, 1]), u(500, 800), K.zeros([500, 1]), u(10, 500), K.zeros([10, 1])];
}

describe.skipIf(!gpuOk)('LeNet on the gpu', () => {
  it('first step: loss and gradients equal the cpu\'s; five SGD steps on one batch of 50 lower the loss', async () => {
    const data = await K.mnist();
    const B = 50;
    const xs = data.xtrn.subarray(0, B * 784), ys = data.ytrn.subarray(0, B);
    const wc = init();
    const wg = K.gpu(wc.map((t) => K.copy(t)));
    const xc = K.tensor(xs, [B, 1, 28, 28]), yc = K.tensor(ys, [B]);
    const xg = K.gpu(xc), yg = K.gpu(yc);
    const lossgrad = K.gradloss(loss);
    const [gc, lc] = lossgrad(wc, xc, yc) as [Tensor[], Tensor];
    const [gg, lg] = lossgrad(wg, xg, yg) as [Tensor[], Tensor];
    const first = await lg.itemAsync();
    expect(first).toBeCloseTo(lc.item(), 4);
    expect(first).toBeGreaterThan(2); // about ln 10 from the seed's small weights
    for (let i = 0; i < gc.length; i++) expect(relErr(await gg[i].data(), gc[i].dataSync()), `gradient of w[${i}]`).toBeLessThan(1e-4);
    const opts = K.optimizers(wg, K.Sgd, { lr: 0.1 });
    K.update(wg, gg, opts);
    const ls = [first];
    for (let s = 0; s < 4; s++) {
      const [g, l] = lossgrad(wg, xg, yg) as [Tensor[], Tensor];
      K.update(wg, g, opts);
      ls.push(await l.itemAsync());
    }
    expect(ls.every(Number.isFinite)).toBe(true);
    for (let s = 1; s < 5; s++) expect(ls[s], `step ${s}: ${ls}`).toBeLessThan(ls[s - 1]);
    expect(ls[4]).toBeLessThan(ls[0] - 0.15); // 2.32 -> 2.04 on lavapipe
  }, 300_000);
});
