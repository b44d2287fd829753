// `train` and `table` benchmark child: TensorFlow.js, written the way its guides write a
// custom model: tf.variable parameters, tf.train.sgd (Adam for CharLM),
// optimizer.minimize(() => loss, returnCost), the batches made into tensors before timing.
// --backend wasm (single thread, SIMD), cpu (pure JS) or webgpu (the `webgpu` package's
// Dawn in Node, where it finds an adapter).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  BATCH, CHARLM, CLASSES, LINREG, LR, NTEST, PIXELS, type Training, charWindows, childArgs, drive, housingData, rowBatches, sizes,
} from './train-common.js';

const args = childArgs();
const backend = args.backend || 'wasm';

let info: string;
if (backend === 'wasm') {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(join(dist, '/'));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // one thread, as knet
  setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js wasm backend failed to start');
  await tf.ready();
  info = `tfjs ${tf.version.tfjs} wasm backend, SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, ${getThreadsCount()} thread`;
} else if (backend === 'webgpu') {
  // Node has no navigator.gpu: the `webgpu` package (Dawn) provides one; the backend
  // registers itself at import only where navigator.gpu exists.
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  (globalThis as any).navigator ??= { userAgent: 'Node.js' };
  (globalThis as any).navigator.gpu ??= create([]);
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js webgpu backend failed to start (no WebGPU adapter?)');
  await tf.ready();
  const adapter: any = (tf.backend() as any).adapterInfo ?? {};
  info = `tfjs ${tf.version.tfjs} webgpu backend${adapter.vendor ? ` (${adapter.vendor} ${adapter.architecture ?? ''})` : ''}`;
} else {
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js ${backend} backend failed to start`);
  await tf.ready();
  info = `tfjs ${tf.version.tfjs} ${backend} backend`;
}

const label = `tfjs-${backend} ${args.model}`;
/** A note on how a model was written, added to the child's info. */
let note = '';

/**
 * `queue` runs one step, keeping its cost tensor undisposed; `sync` reads the last one
 * back (on webgpu that waits for everything queued before it); `step` reads every step's.
 */
function training(runStep: (b: number) => tf.Tensor, rest: Pick<Training, 'nbatch' | 'evaluate'>): Training {
  let last: tf.Tensor | null = null;
  const queue = (b: number) => {
    const cost = runStep(b);
    last?.dispose();
    last = cost;
  };
  const sync = async () => {
    const v = last ? (await last.data())[0] : NaN;
    last?.dispose();
    last = null;
    return v;
  };
  const step = (b: number) => {
    const cost = runStep(b);
    const v = cost.dataSync()[0];
    cost.dispose();
    return v;
  };
  return { ...rest, queue, sync, step: backend === 'webgpu' ? undefined : step, framework: `tfjs-${backend}`, info: note ? `${info}; ${note}` : info };
}

/** The seed's linear regression: pred = x·w + b on [506, 13] rows, loss sum((y - pred)²) / N. */
async function linreg(): Promise<Training> {
  const h = await housingData();
  const x = tf.tensor2d(h.x, [LINREG.rows, LINREG.cols]), y = tf.tensor2d(h.y, [LINREG.rows, 1]);
  const w = tf.variable(tf.randomNormal([LINREG.cols, 1], 0, 0.1, 'float32', 1)), b = tf.variable(tf.zeros([1]));
  const optimizer = tf.train.sgd(LINREG.lr);
  const loss = () => tf.div(tf.sum(tf.square(tf.sub(y, tf.add(tf.matMul(x, w), b)))), LINREG.rows) as tf.Scalar;
  return training(() => optimizer.minimize(loss, true)!, { nbatch: 1, evaluate: () => NaN });
}

/** The seed's softmax and MLP: x [100, 784], one-hot y [100, 10]. */
async function classifier(): Promise<Training> {
  // The same batches as every framework, as tensors: x [100, 784], one-hot y [100, 10].
  const data = await rowBatches();
  const xs = data.x.map((x) => tf.tensor2d(x, [BATCH, PIXELS]));
  const ys = data.y.map((y) => tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), CLASSES).toFloat()));

  const sz = sizes(args.model);
  const params: { w: tf.Variable; b: tf.Variable }[] = [];
  for (let i = 1; i < sz.length; i++) {
    params.push({ w: tf.variable(tf.randomUniform([sz[i - 1], sz[i]], -0.1, 0.1, 'float32', 1)), b: tf.variable(tf.zeros([sz[i]])) });
  }
  const predict = (x: tf.Tensor2D): tf.Tensor2D => {
    let h = x;
    params.forEach(({ w, b }, i) => {
      h = tf.add(tf.matMul(h, w), b);
      if (i < params.length - 1) h = tf.relu(h);
    });
    return h;
  };
  const optimizer = tf.train.sgd(LR);
  const tensorsBefore = tf.memory().numTensors;
  const evaluate = () => {
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked !== 0) throw new Error(`${label}: ${leaked} tensors leaked during training`);
    return tf.tidy(() => {
      const x = tf.tensor2d(data.xtst, [NTEST, PIXELS]);
      const y = tf.tensor1d(data.ytst, 'int32');
      return tf.equal(tf.argMax(predict(x), 1), y).sum().dataSync()[0] / NTEST;
    });
  };
  const run = (b: number) => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys[b], predict(xs[b])), true)!;
  return training(run, { nbatch: xs.length, evaluate });
}

/** The seed's LeNet in TensorFlow.js's NHWC layout: x [100, 28, 28, 1], filters [5, 5, in, out]. */
async function lenet(): Promise<Training> {
  const data = await rowBatches();
  const xs = data.x.map((x) => tf.tensor4d(x, [BATCH, 28, 28, 1]));
  const ys = data.y.map((y) => tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), CLASSES).toFloat()));
  const u = (shape: number[]) => tf.variable(tf.randomUniform(shape, -0.1, 0.1, 'float32', 1));
  const w = [u([5, 5, 1, 20]), tf.variable(tf.zeros([20])), u([5, 5, 20, 50]), tf.variable(tf.zeros([50])),
    u([800, 500]), tf.variable(tf.zeros([500])), u([500, 10]), tf.variable(tf.zeros([10]))];
  const predict = (x: tf.Tensor4D): tf.Tensor2D => {
    const x1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w[0] as tf.Tensor4D, 1, 'valid'), w[1])) as tf.Tensor4D, 2, 2, 'valid');
    const x2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x1, w[2] as tf.Tensor4D, 1, 'valid'), w[3])) as tf.Tensor4D, 2, 2, 'valid');
    const x3 = tf.relu(tf.add(tf.matMul(tf.reshape(x2, [x.shape[0], 800]), w[4]), w[5]));
    return tf.add(tf.matMul(x3, w[6]), w[7]);
  };
  const optimizer = tf.train.sgd(LR);
  const run = (b: number) => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys[b], predict(xs[b])), true)!;
  return training(run, { nbatch: xs.length, evaluate: () => NaN });
}

/**
 * The seed's CharLM: embedding rows gathered for the ids, the input projection for all
 * T·B positions at once, then the LSTM recurrence step by step (gates i, f, g, o), the
 * output layer on all positions; Adam with each gradient clipped to norm 5
 * (tf.variableGrads + applyGradients, since minimize cannot clip).
 */
async function charlm(): Promise<Training> {
  const { batch: B, seqlen: T, embed: E, hidden: H } = CHARLM;
  const wins = await charWindows();
  const V = wins.vocab;
  const ids = wins.x.map((x) => tf.tensor1d(x, 'int32'));
  const targets = wins.y.map((y) => tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), V).toFloat()));
  const xavier = (r: number, c: number) => tf.variable(tf.randomUniform([r, c], -Math.sqrt(6 / (r + c)), Math.sqrt(6 / (r + c)), 'float32', 1));
  const p = { embed: xavier(V, E), wx: xavier(E, 4 * H), wh: xavier(H, 4 * H), b: tf.variable(tf.zeros([4 * H])), wout: xavier(H, V), bout: tf.variable(tf.zeros([V])) };
  const vars = Object.values(p);
  const optimizer = tf.train.adam(CHARLM.lr);
  let state: { h: tf.Tensor2D; c: tf.Tensor2D } | null = null;
  // The embedding's rows are gathered for the ids (tf.gather). Where its gradient (an
  // UnsortedSegmentSum) has no kernel on this backend, the rows come from a one-hot
  // product instead (the seed's own x·W with one-hot x), found by catching the error.
  let embedding: string | null = null;
  try {
    const g = tf.tidy(() => tf.grad((e: tf.Tensor) => tf.sum(tf.gather(e, tf.tensor1d([1, 2, 1], 'int32'))))(tf.ones([4, 3])));
    await g.data();
    g.dispose();
  } catch (e) {
    embedding = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    process.stderr.write(`  ${label}: embedding as a one-hot product (tf.gather's gradient fails: ${embedding})\n`);
  }
  note = embedding ? `embedding rows by one-hot product (tf.gather's gradient fails: ${embedding})` : 'embedding rows by tf.gather';
  const onehots = embedding ? wins.x.map((x) => tf.tidy(() => tf.oneHot(tf.tensor1d(x, 'int32'), V).toFloat())) : [];
  const rows = (k: number) => (embedding ? tf.matMul(onehots[k], p.embed) : tf.gather(p.embed, ids[k]));
  const loss = (k: number) => {
    const xw = tf.add(tf.matMul(rows(k), p.wx), p.b); // [T*B, 4H]
    const steps = tf.unstack(tf.reshape(xw, [T, B, 4 * H])) as tf.Tensor2D[];
    let h = state?.h ?? tf.zeros([B, H]) as tf.Tensor2D, c = state?.c ?? tf.zeros([B, H]) as tf.Tensor2D;
    const hs: tf.Tensor2D[] = [];
    for (let t = 0; t < T; t++) {
      const [i, f, g, o] = tf.split(tf.add(steps[t], tf.matMul(h, p.wh)), 4, 1);
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      hs.push(h);
    }
    const next = { h: tf.keep(h), c: tf.keep(c) };
    const scores = tf.add(tf.matMul(tf.concat(hs, 0), p.wout), p.bout);
    return { loss: tf.losses.softmaxCrossEntropy(targets[k], scores) as tf.Scalar, next };
  };
  const run = (k: number) => {
    if (k === 0 && state) { state.h.dispose(); state.c.dispose(); state = null; } // an epoch starts from zeros
    let next: { h: tf.Tensor2D; c: tf.Tensor2D } | null = null;
    const { value, grads } = tf.variableGrads(() => { const r = loss(k); next = r.next; return r.loss; }, vars);
    const clipped = tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {};
      for (const [name, g] of Object.entries(grads)) {
        const norm = tf.sqrt(tf.sum(tf.square(g)));
        out[name] = tf.mul(g, tf.minimum(1, tf.div(CHARLM.gclip, tf.maximum(norm, 1e-12))));
      }
      return out;
    });
    optimizer.applyGradients(clipped as Record<string, tf.Variable>);
    tf.dispose([grads, clipped] as any);
    if (state) { state.h.dispose(); state.c.dispose(); }
    state = next;
    return value;
  };
  return training(run, { nbatch: ids.length, evaluate: () => NaN });
}

const t = args.model === 'linreg' ? await linreg() : args.model === 'lenet' ? await lenet()
  : args.model === 'charlm' ? await charlm() : await classifier();
await drive(t, args, label);
// Dawn keeps Node alive while a GPU object is referenced.
if (backend === 'webgpu') process.exit(0);
