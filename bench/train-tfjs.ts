// `train` benchmark child: TensorFlow.js, written the way its guides write a custom model:
// tf.variable parameters, tf.train.sgd, optimizer.minimize(() => loss, returnCost), the
// batches made into tensors before timing. --backend wasm (single thread, SIMD) or cpu.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BATCH, CLASSES, LR, NTEST, PIXELS, childArgs, drive, rowBatches, sizes } from './train-common.js';

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
} else {
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js ${backend} backend failed to start`);
  await tf.ready();
  info = `tfjs ${tf.version.tfjs} ${backend} backend`;
}

// The same batches as every framework, as tensors: x [100, 784], one-hot y [100, 10].
const data = await rowBatches();
const xs = data.x.map((x) => tf.tensor2d(x, [BATCH, PIXELS]));
const ys = data.y.map((y) => tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), CLASSES).toFloat()));

const sz = sizes(args.model);
const params: { w: tf.Variable; b: tf.Variable }[] = [];
for (let i = 1; i < sz.length; i++) {
  params.push({ w: tf.variable(tf.randomUniform([sz[i - 1], sz[i]], -0.1, 0.1, 'float32', 1)), b: tf.variable(tf.zeros([sz[i]])) });
}

function predict(x: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  params.forEach(({ w, b }, i) => {
    h = tf.add(tf.matMul(h, w), b);
    if (i < params.length - 1) h = tf.relu(h);
  });
  return h;
}

const optimizer = tf.train.sgd(LR);

const label = `tfjs-${backend} ${args.model}`;
const tensorsBefore = tf.memory().numTensors;
function step(b: number): number {
  const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys[b], predict(xs[b])), true)!;
  const v = cost.dataSync()[0];
  cost.dispose();
  return v;
}

function evaluate(): number {
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked !== 0) throw new Error(`${label}: ${leaked} tensors leaked during training`);
  return tf.tidy(() => {
    const x = tf.tensor2d(data.xtst, [NTEST, PIXELS]);
    const y = tf.tensor1d(data.ytst, 'int32');
    return tf.equal(tf.argMax(predict(x), 1), y).sum().dataSync()[0] / NTEST;
  });
}

await drive({ step, nbatch: xs.length, evaluate, framework: `tfjs-${backend}`, info }, args, label);
