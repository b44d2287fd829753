// The seed's LeNet on MNIST (or Fashion-MNIST): conv 5x5x20, relu, max pool 2; conv
// 5x5x50, relu, max pool 2; dense 800->500, relu; dense 500->10. SGD, batch 100.
// Run: npx tsx examples/lenet.ts [--epochs 1] [--batch 100] [--lr 0.1] [--data mnist|fashion]
//      [--device cpu|gpu] [--train 60000] [--test 10000] [--seed 1]
// --train and --test use only the first N training and test examples (quick runs, the tests).
// --device gpu runs on WebGPU (initGpu()); parameters and batches live there, and the loss
// and hit counts are added up on the device and read back once per epoch.
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { parseArgs, progress } from './args.js';
import { accumulate, accuracy } from './eval.js';

const args = parseArgs({ epochs: 1, batch: 100, lr: 0.1, data: 'mnist', device: 'cpu', seed: 1, train: 60000, test: 10000 });
if (args.data !== 'mnist' && args.data !== 'fashion') throw new Error('--data must be mnist or fashion');
if (args.device !== 'cpu' && args.device !== 'gpu') throw new Error('--device must be cpu or gpu');
if (!(Number.isInteger(args.train) && args.train >= args.batch && args.train <= 60000)) {
  throw new Error(`--train must be an integer in [${args.batch}, 60000]`);
}
if (!(Number.isInteger(args.test) && args.test >= args.batch && args.test <= 10000)) {
  throw new Error(`--test must be an integer in [${args.batch}, 10000]`);
}
const device = args.device as K.DeviceName;
const where = device === 'gpu' ? `gpu (${(await K.initGpu()).description || 'WebGPU'})` : `cpu (${K.simdLevel()})`;
K.setSeed(args.seed);

const data = args.data === 'fashion' ? await K.fashionMnist() : await K.mnist();
// NCHW: x is [N, 1, 28, 28]; batches along axis 0.
const ntrn = args.train;
const dtrn = K.minibatch({ data: data.xtrn.subarray(0, ntrn * 784), shape: [ntrn, 1, 28, 28] },
  { data: data.ytrn.subarray(0, ntrn), shape: [ntrn] }, args.batch, { shuffle: true, axis: 0, device });
const ntst = args.test;
const dtst = K.minibatch({ data: data.xtst.subarray(0, ntst * 784), shape: [ntst, 1, 28, 28] },
  { data: data.ytst.subarray(0, ntst), shape: [ntst] }, args.batch, { axis: 0, device });

// The seed:
//   x1 = pool(max(0, conv4(w[1],x0) .+ w[2]))
//   x2 = pool(max(0, conv4(w[3],x1) .+ w[4]))
//   x3 = max(0, w[5]*mat(x2) .+ w[6])
//   return w[7]*x3 .+ w[8]
// Orientation: x0 is [N,1,28,28] and mat(x2) is [N,800], batch first (row-major), so the
// dense layer multiplies by its transpose, w[5]*mat(x2)ᵀ, which keeps the seed's
// [classes, batch] scores: nll and accuracy take the classes on axis 0, as in mnist.ts.
function predict(w: Tensor[], x0: Tensor): Tensor {
  const x1 = K.pool(K.relu(K.add(K.conv4(w[0], x0), w[1])));
  const x2 = K.pool(K.relu(K.add(K.conv4(w[2], x1), w[3])));
  const x3 = K.relu(K.add(K.matmul(w[4], K.mat(x2), false, true), w[5]));
  return K.add(K.matmul(w[6], x3), w[7]);
}
const loss = (w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y);
const lossgrad = K.gradloss(loss);

// The seed's initialisation: -0.1+0.2*rand for weights, zeros for biases; the conv biases
// are [1, C, 1, 1] so they broadcast over N, H and W.
const uniform = (...shape: number[]) => K.tidy(() => K.sub(K.mul(K.rand(shape, { device }), 0.2), 0.1));
const zeros = (...shape: number[]) => K.zeros(shape, { device });
const w: Tensor[] = [
  uniform(20, 1, 5, 5), zeros(1, 20, 1, 1),
  uniform(50, 20, 5, 5), zeros(1, 50, 1, 1),
  uniform(500, 800), zeros(500, 1),
  uniform(10, 500), zeros(10, 1),
];
const opts = K.optimizers(w, K.Sgd, { lr: args.lr });

console.log(`lenet on ${args.data}: sgd lr=${args.lr}, batch ${args.batch}, ${ntrn} training examples` +
  `${ntst < 10000 ? ` (${ntst} test)` : ''}, ${where}`);
console.log(`epoch 0: trn ${(await accuracy(predict, w, dtrn, device)).toFixed(4)} tst ${(await accuracy(predict, w, dtst, device)).toFixed(4)}`);
for (let epoch = 1; epoch <= args.epochs; epoch++) {
  const t0 = performance.now();
  let total = K.zeros([], { device }), i = 0;
  for (const [x, y] of dtrn) {
    const [g, l] = lossgrad(w, x, y);
    K.update(w, g, opts);
    total = accumulate(total, l);
    if (++i % 10 === 0 || i === dtrn.length) progress(`epoch ${epoch}`, i, dtrn.length);
  }
  const loss = (await total.itemAsync()) / i;
  total.dispose();
  const secs = (performance.now() - t0) / 1000;
  console.log(`epoch ${epoch}: loss ${loss.toFixed(4)} trn ${(await accuracy(predict, w, dtrn, device)).toFixed(4)} ` +
    `tst ${(await accuracy(predict, w, dtst, device)).toFixed(4)} (${secs.toFixed(2)} s)`);
}
