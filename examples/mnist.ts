// The seed's softmax and MLP models on MNIST (or Fashion-MNIST), trained with minibatches.
// Run: npx tsx examples/mnist.ts --model mlp --epochs 10 [--batch 100] [--lr 0.5]
//      [--optimizer sgd|momentum|nesterov|adam|adagrad|adadelta|rmsprop] [--data mnist|fashion]
//      [--device cpu|gpu]
// On the gpu, parameters and batches live there; the loss and the hit counts are added up
// on the device and read back once per epoch, not once per batch.
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { parseArgs, progress } from './args.js';
import { accumulate, accuracy } from './eval.js';

const args = parseArgs({ model: 'mlp', epochs: 10, batch: 100, lr: 0.5, optimizer: 'sgd', data: 'mnist', seed: 1, hidden: 64, device: 'cpu' });
const optimizerKinds: Record<string, any> = {
  sgd: K.Sgd, momentum: K.Momentum, nesterov: K.Nesterov, adam: K.Adam, adagrad: K.Adagrad, adadelta: K.Adadelta, rmsprop: K.Rmsprop,
};
if (!optimizerKinds[args.optimizer]) throw new Error(`--optimizer must be one of ${Object.keys(optimizerKinds).join(', ')}`);
if (args.model !== 'softmax' && args.model !== 'mlp') throw new Error('--model must be softmax or mlp');
if (args.device !== 'cpu' && args.device !== 'gpu') throw new Error('--device must be cpu or gpu');
const device = args.device as K.DeviceName;
const where = device === 'gpu' ? `gpu (${(await K.initGpu()).description || 'WebGPU'})` : `cpu (${K.simdLevel()})`;
K.setSeed(args.seed);

const data = args.data === 'fashion' ? await K.fashionMnist() : await K.mnist();
// The seed's layout: one example per column, x is [784, N].
const columns = (x: Float32Array, n: number) => K.tidy(() => K.transpose(K.tensor(x, [n, 784])));
const xtrn = columns(data.xtrn, 60000), xtst = columns(data.xtst, 10000);
const dtrn = K.minibatch(xtrn, { data: data.ytrn, shape: [60000] }, args.batch, { shuffle: true, device });
const dtst = K.minibatch(xtst, { data: data.ytst, shape: [10000] }, args.batch, { device });
xtrn.dispose(); xtst.dispose();

// predict(w,x): for i=1:2:length(w)-2; x = max(0, w[i]*x .+ w[i+1]); end; w[end-1]*x .+ w[end]
function predict(w: Tensor[], x: Tensor): Tensor {
  for (let i = 0; i < w.length - 2; i += 2) x = K.relu(K.add(K.matmul(w[i], x), w[i + 1]));
  return K.add(K.matmul(w[w.length - 2], x), w[w.length - 1]);
}
const loss = (w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y);
const lossgrad = K.gradloss(loss);

const uniform = (...shape: number[]) => K.tidy(() => K.sub(K.mul(K.rand(shape, { device }), 0.2), 0.1)); // -0.1+0.2*rand
const sizes = args.model === 'mlp' ? [784, args.hidden, 10] : [784, 10];
const w: Tensor[] = [];
for (let i = 1; i < sizes.length; i++) w.push(uniform(sizes[i], sizes[i - 1]), K.zeros(sizes[i], 1, { device }));
const opts = K.optimizers(w, optimizerKinds[args.optimizer], { lr: args.lr });

console.log(`${args.model} on ${args.data}: ${sizes.join('-')}, ${args.optimizer} lr=${args.lr}, batch ${args.batch}, ` +
  where);
console.log(`epoch 0: trn ${(await accuracy(predict, w, dtrn, device)).toFixed(4)} tst ${(await accuracy(predict, w, dtst, device)).toFixed(4)}`);
for (let epoch = 1; epoch <= args.epochs; epoch++) {
  const t0 = performance.now();
  let total = K.zeros([], { device }), i = 0;
  for (const [x, y] of dtrn) {
    const [g, l] = lossgrad(w, x, y);
    K.update(w, g, opts);
    total = accumulate(total, l);
    if (++i % 20 === 0 || i === dtrn.length) progress(`epoch ${epoch}`, i, dtrn.length);
  }
  const loss = (await total.itemAsync()) / i;
  total.dispose();
  const secs = (performance.now() - t0) / 1000;
  console.log(`epoch ${epoch}: loss ${loss.toFixed(4)} trn ${(await accuracy(predict, w, dtrn, device)).toFixed(4)} tst ${(await accuracy(predict, w, dtst, device)).toFixed(4)} ` +
    `(${secs.toFixed(2)} s)`);
}
