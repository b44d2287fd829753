// `train` and `table` benchmark child: knet, each model written as its example writes it
// (examples/housing.ts, mnist.ts, lenet.ts, charlm.ts): x as [784, batch] columns for the
// dense models, gradloss + update with optimizers(w, Sgd, {lr}), nll loss. The kernel
// build is chosen at import time by KNET_WASM=simd|relaxed, so the parent runs one process
// per build; `--backend gpu` trains on the gpu device (WebGPU, `initGpu()`), with the
// data moved there before any timing.
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { disposeState, initModel, loss as charLoss, type State } from '../examples/charlm.js';
import {
  BATCH, CHARLM, LINREG, LR, NTEST, NTRAIN, PIXELS, type Training, charWindows, childArgs, drive, housingData, sizes,
} from './train-common.js';

const args = childArgs();
const device: K.DeviceName = args.backend === 'gpu' ? 'gpu' : 'cpu';
if (args.backend && args.backend !== 'cpu' && args.backend !== 'gpu') throw new Error(`knet: --backend must be cpu or gpu, got ${args.backend}`);
// the cpu device's threads (KNET_THREADS; 1 where this knet has no worker threads)
const threads = (K as any).threads?.() ?? 1;
let where = `cpu device, ${K.simdLevel()} build, ${threads} thread${threads === 1 ? '' : 's'}`;
if (device === 'gpu') {
  const info = await K.initGpu();
  where = `gpu device, adapter: ${[info.vendor, info.architecture, info.description].filter(Boolean).join(' / ')}`;
}
K.setSeed(1);
/** A note on how a model is written, added to the child's info. */
let note = '';

/**
 * The parts every model shares: `lossgrad(w, x, y)` and the update, the loss of the last
 * step kept (undisposed) for `sync`, which reads it back: that waits for the update
 * recorded before the read, too.
 */
function training(w: any, lossgrad: (w: any, x: Tensor, y: Tensor) => [any, Tensor], opts: any,
                  batch: (b: number) => [Tensor, Tensor], rest: Pick<Training, 'nbatch' | 'evaluate'>): Training {
  let last: Tensor | null = null;
  const queue = (b: number) => {
    const [x, y] = batch(b);
    const [g, l] = lossgrad(w, x, y);
    K.update(w, g, opts);
    last?.dispose();
    last = l;
  };
  const sync = async () => {
    const v = last ? await last.itemAsync() : NaN;
    last?.dispose();
    last = null;
    return v;
  };
  const step = (b: number) => {
    queue(b);
    const v = last!.item();
    last!.dispose();
    last = null;
    return v;
  };
  return { ...rest, queue, sync, step: device === 'cpu' ? step : undefined, framework: `knet-${device === 'cpu' ? K.simdLevel() : 'gpu'}`,
    info: `knet ${where}${note ? `; ${note}` : ''}` };
}

const uniform = (...shape: number[]) => K.tidy(() => K.sub(K.mul(K.rand(shape, { device }), 0.2), 0.1)); // -0.1+0.2*rand
const zeros = (...shape: number[]) => K.zeros(shape, { device });

/** examples/housing.ts: w = [0.1*randn(1,13), 0], loss sumabs2(y - (w1*x .+ w2)) / N, full batch. */
async function linreg(): Promise<Training> {
  const h = await housingData();
  const x = K.tidy(() => K.transpose(K.tensor(h.x, [LINREG.rows, LINREG.cols], { device }))); // [13, 506]
  const y = K.tensor(h.y, [1, LINREG.rows], { device });
  const predict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[0], x), w[1]);
  const loss = (w: Tensor[], x: Tensor, y: Tensor) => K.div(K.sumabs2(K.sub(y, predict(w, x))), y.shape[1]);
  const w = [K.tidy(() => K.mul(K.randn(1, LINREG.cols, { device }), 0.1)), zeros(1, 1)];
  const opts = K.optimizers(w, K.Sgd, { lr: LINREG.lr });
  return training(w, K.gradloss(loss), opts, () => [x, y], { nbatch: 1, evaluate: () => NaN });
}

/** examples/mnist.ts: the seed's softmax and MLP on [784, 100] columns. */
async function classifier(): Promise<Training> {
  const data = await K.mnist();
  // The seed's layout: one example per column, x is [784, N]; batched once, before timing.
  const columns = (x: Float32Array, n: number) => K.tidy(() => K.transpose(K.tensor(x, [n, PIXELS])));
  const xtrn = columns(data.xtrn, NTRAIN), xtst = columns(data.xtst, NTEST);
  const dtrn = K.minibatch(xtrn, { data: data.ytrn, shape: [NTRAIN] }, BATCH, { shuffle: true, device });
  const dtst = K.minibatch(xtst, { data: data.ytst, shape: [NTEST] }, BATCH, { device });
  xtrn.dispose(); xtst.dispose();

  const predict = (w: Tensor[], x: Tensor): Tensor => {
    for (let i = 0; i < w.length - 2; i += 2) x = K.relu(K.add(K.matmul(w[i], x), w[i + 1]));
    return K.add(K.matmul(w[w.length - 2], x), w[w.length - 1]);
  };
  const loss = (w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y);
  const sz = sizes(args.model);
  const w: Tensor[] = [];
  for (let i = 1; i < sz.length; i++) w.push(uniform(sz[i], sz[i - 1]), zeros(sz[i], 1));
  const opts = K.optimizers(w, K.Sgd, { lr: LR });
  const evaluate = async () => {
    let hits = 0;
    for (const [x, y] of dtst) {
      const h = K.tidy(() => K.hits(predict(w, x), y));
      hits += await h.itemAsync();
      h.dispose();
    }
    return hits / NTEST;
  };
  return training(w, K.gradloss(loss), opts, (b) => dtrn.batches[b], { nbatch: dtrn.length, evaluate });
}

/** examples/lenet.ts: conv 5x5x20, pool, conv 5x5x50, pool, dense 500, dense 10, on [N,1,28,28]. */
async function lenet(): Promise<Training> {
  const data = await K.mnist();
  const dtrn = K.minibatch({ data: data.xtrn, shape: [NTRAIN, 1, 28, 28] }, { data: data.ytrn, shape: [NTRAIN] }, BATCH, { axis: 0, device });
  const predict = (w: Tensor[], x0: Tensor): Tensor => {
    const x1 = K.pool(K.relu(K.add(K.conv4(w[0], x0), w[1])));
    const x2 = K.pool(K.relu(K.add(K.conv4(w[2], x1), w[3])));
    const x3 = K.relu(K.add(K.matmul(w[4], K.mat(x2), false, true), w[5]));
    return K.add(K.matmul(w[6], x3), w[7]);
  };
  const loss = (w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y);
  const w = [uniform(20, 1, 5, 5), zeros(1, 20, 1, 1), uniform(50, 20, 5, 5), zeros(1, 50, 1, 1),
    uniform(500, 800), zeros(500, 1), uniform(10, 500), zeros(10, 1)];
  const opts = K.optimizers(w, K.Sgd, { lr: LR });
  return training(w, K.gradloss(loss), opts, (b) => dtrn.batches[b], { nbatch: dtrn.length, evaluate: () => NaN });
}

/** examples/charlm.ts: its initModel and loss, Adam with gclip, the state carried between windows. */
async function charlm(): Promise<Training> {
  const { batch: B, seqlen: T } = CHARLM;
  const wins = await charWindows();
  const xs = wins.x.map((x) => K.tensor(x, [T, B], { dtype: 'int32', device }));
  const ys = wins.y.map((y) => K.tensor(y, [T * B], { dtype: 'int32', device }));
  const model = initModel(wins.vocab, CHARLM.embed, CHARLM.hidden, 1, device);
  const opts = K.optimizers(model, K.Adam, { lr: CHARLM.lr, gclip: CHARLM.gclip });
  const lossgrad = K.gradloss(charLoss);
  note = 'the example\'s rnnForward(w, ids, h, c, { embed }) multiplies the embedding into the input weights once per ' +
    'vocabulary entry instead of once per position: 21.5 of the 41.5 GFLOP a window costs the other columns';
  let state: State | null = null;
  // the example's step, with the state as the extra arguments of the loss
  const lg = (m: any, x: Tensor, y: Tensor): [any, Tensor] => {
    const out: { state?: State } = {};
    const r = lossgrad(m, x, y, state, out);
    disposeState(state);
    state = { h: out.state!.h.map((t) => K.copy(t)), c: out.state!.c.map((t) => K.copy(t)) };
    disposeState(out.state);
    return r;
  };
  const batch = (b: number): [Tensor, Tensor] => {
    if (b === 0) { disposeState(state); state = null; } // an epoch starts from zeros
    return [xs[b], ys[b]];
  };
  return training(model, lg, opts, batch, { nbatch: xs.length, evaluate: () => NaN });
}

const t = args.model === 'linreg' ? await linreg() : args.model === 'lenet' ? await lenet()
  : args.model === 'charlm' ? await charlm() : await classifier();
await drive(t, args, `knet ${device === 'cpu' ? K.simdLevel() : 'gpu'} ${args.model}`);
// Dawn keeps Node alive while a GPU object is referenced.
if (device === 'gpu') process.exit(0);
