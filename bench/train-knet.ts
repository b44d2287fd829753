// `train` benchmark child: knet, written as examples/mnist.ts writes it (x as [784, batch]
// columns, gradloss + update with optimizers(w, Sgd, {lr}), nll loss). The kernel build is
// chosen at import time by KNET_WASM=simd|relaxed, so the parent runs one process per build.
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { BATCH, LR, NTEST, NTRAIN, PIXELS, childArgs, drive, sizes } from './train-common.js';

const args = childArgs();
K.setSeed(1);

const data = await K.mnist();
// The seed's layout: one example per column, x is [784, N]; batched once, before timing.
const columns = (x: Float32Array, n: number) => K.tidy(() => K.transpose(K.tensor(x, [n, PIXELS])));
const xtrn = columns(data.xtrn, NTRAIN), xtst = columns(data.xtst, NTEST);
const dtrn = K.minibatch(xtrn, { data: data.ytrn, shape: [NTRAIN] }, BATCH, { shuffle: true });
const dtst = K.minibatch(xtst, { data: data.ytst, shape: [NTEST] }, BATCH);
xtrn.dispose(); xtst.dispose();

function predict(w: Tensor[], x: Tensor): Tensor {
  for (let i = 0; i < w.length - 2; i += 2) x = K.relu(K.add(K.matmul(w[i], x), w[i + 1]));
  return K.add(K.matmul(w[w.length - 2], x), w[w.length - 1]);
}
const loss = (w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y);
const lossgrad = K.gradloss(loss);

const uniform = (...shape: number[]) => K.tidy(() => K.sub(K.mul(K.rand(shape), 0.2), 0.1)); // -0.1+0.2*rand
const sz = sizes(args.model);
const w: Tensor[] = [];
for (let i = 1; i < sz.length; i++) w.push(uniform(sz[i], sz[i - 1]), K.zeros(sz[i], 1));
const opts = K.optimizers(w, K.Sgd, { lr: LR });

const batches = dtrn.batches;
function step(b: number): number {
  const [x, y] = batches[b];
  const [g, l] = lossgrad(w, x, y);
  K.update(w, g, opts);
  const v = l.item();
  l.dispose();
  return v;
}

function evaluate(): number {
  let hits = 0;
  for (const [x, y] of dtst) K.tidy(() => { hits += K.accuracy(predict(w, x), y) * y.size; });
  return hits / NTEST;
}

await drive({
  step, nbatch: batches.length, evaluate, framework: `knet-${K.simdLevel()}`, info: `knet cpu device, ${K.simdLevel()} build`,
}, args, `knet ${K.simdLevel()} ${args.model}`);
