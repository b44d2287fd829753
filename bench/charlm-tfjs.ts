// The CharLM benchmark model in TensorFlow.js, written the way its guides write a custom
// model: tf.variable parameters; the embedding as one-hot rows times an [V, E] matrix
// (tf.gather has no gradient kernel in the wasm backend); an LSTM step as one matMul of [x_t, h] with a [E+H, 4H]
// weight plus a bias, split into input/forget/change/output gates (sigmoid, tanh),
// unrolled over the window's steps inside tf.variableGrads; the output projection of all
// steps at once; softmax cross-entropy (mean over positions); each gradient clipped to norm
// `gclip` (as knet's and PyTorch's runs do); tf.train.adam. The LSTM state is carried from
// one window to the next (gradients stop there), as examples/charlm.ts trains.
//
// CLI (the shared options of bench/charlm.ts):
//   npx tsx bench/charlm-tfjs.ts [--backend wasm|cpu] [--text tinyshakespeare|PATH]
//     [--embed 256] [--hidden 256] [--batch 128] [--seqlen 100] [--windows 2] [--warmup 1]
//     [--lr 0.002] [--gclip 5] [--serve]
// prints one line of JSON (CharlmResult in bench/charlm.ts): per-window ms of the forward
// pass (up to the loss), backward (the rest of variableGrads), update (clipping + Adam),
// their medians, and the process's CPU and wall-clock time per window. --serve: READY, one
// window per `window` line on stdin (answered `WINDOW {json}`), the result after `done`.
// The wasm backend runs on one thread (as knet's cpu device), SIMD on.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { charlmData, cpuMs, parseCharlmArgs, serveWindows } from './charlm.js';

const o = parseCharlmArgs(process.argv.slice(2), { windows: 2, warmup: 1 });

let info: string;
if (o.backend === 'wasm') {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(join(dist, '/'));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // one thread
  setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js wasm backend failed to start');
  await tf.ready();
  info = `tfjs ${tf.version.tfjs} wasm backend, SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, ${getThreadsCount()} thread`;
} else {
  if (!(await tf.setBackend(o.backend))) throw new Error(`TensorFlow.js ${o.backend} backend failed to start`);
  await tf.ready();
  info = `tfjs ${tf.version.tfjs} ${o.backend} backend`;
}

const data = charlmData(o);
const V = data.vocab, E = o.embed, H = o.hidden, B = o.batch, T = o.seqlen;

// Initialisation as knet's (Xavier-uniform, forget-gate bias 1): it does not change the speed.
const xavier = (rows: number, cols: number, seed: number) => {
  const bound = Math.sqrt(6 / (rows + cols));
  return tf.randomUniform([rows, cols], -bound, bound, 'float32', seed);
};
const params = {
  embed: tf.variable(xavier(V, E, 1), true, 'embed'),
  w: tf.variable(xavier(E + H, 4 * H, 2), true, 'lstm_w'),          // [x; h] -> gates i, f, g, o
  b: tf.variable(tf.concat([tf.zeros([H]), tf.ones([H]), tf.zeros([2 * H])]), true, 'lstm_b'),
  wo: tf.variable(xavier(H, V, 3), true, 'out_w'),
  bo: tf.variable(tf.zeros([V]), true, 'out_b'),
};
const optimizer = tf.train.adam(o.lr);

interface State { h: tf.Tensor2D; c: tf.Tensor2D }

/** Mean cross-entropy of the window; the final state goes to `out` (kept past the tidy). */
function loss(ids: tf.Tensor2D, targets: tf.Tensor1D, state: State, out: { state?: State }): tf.Scalar {
  // The embedding as a product with one-hot rows (the seed's x * w[end-2]): tf.gather's
  // gradient needs the UnsortedSegmentSum kernel, which the wasm backend lacks (tfjs 4.22).
  const x = tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), V), params.embed); // [T*B, E], time first
  const xs = tf.split(x, T, 0) as tf.Tensor2D[]; // T x [B, E]
  let { h, c } = state;
  const hs: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const z = tf.add(tf.matMul(tf.concat([xs[t], h], 1), params.w), params.b);
    const [i, f, g, og] = tf.split(z, 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(og), tf.tanh(c));
    hs.push(h);
  }
  out.state = { h: tf.keep(h), c: tf.keep(c) };
  const logits = tf.add(tf.matMul(tf.concat(hs, 0), params.wo), params.bo); // [T*B, V], time first
  return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, V), logits) as tf.Scalar;
}

const zeros = (): State => ({ h: tf.zeros([B, H]), c: tf.zeros([B, H]) });
let state = zeros();
let tensorsAfterFirst = 0;

await serveWindows(o, { name: `TF.js ${o.backend}, 1 thread`, framework: 'tfjs', device: o.backend, mode: 'rows', basis: 'cpu', info,
  vocab: V, embed: E, hidden: H, batch: B, seqlen: T }, (k) => {
  if (k > 0 && k % data.windows.length === 0) { tf.dispose([state.h, state.c]); state = zeros(); }
  const w = data.windows[k % data.windows.length];
  const ids = tf.tensor2d(w.x, [T, B], 'int32'), targets = tf.tensor1d(w.y, 'int32');
  const out: { state?: State } = {};
  let returned = 0;
  const w0 = performance.now(), t0 = cpuMs();
  const { value, grads } = tf.variableGrads(() => {
    const l = loss(ids, targets, state, out);
    returned = cpuMs();
    return l;
  });
  const t1 = cpuMs();
  tf.tidy(() => {
    const clipped = Object.entries(grads).map(([name, g]) => {
      const norm = tf.norm(g).dataSync()[0];
      return { name, tensor: norm > o.gclip ? tf.mul(g, o.gclip / norm) : g };
    });
    optimizer.applyGradients(clipped);
  });
  const lossValue = value.dataSync()[0];
  const t2 = cpuMs(), w2 = performance.now();
  tf.dispose([value, ...Object.values(grads), ids, targets, state.h, state.c]);
  state = out.state!;
  // the first window creates Adam's moments; after it, the count of live tensors stays put
  if (k === 0) tensorsAfterFirst = tf.memory().numTensors;
  else if (tf.memory().numTensors !== tensorsAfterFirst) throw new Error(`charlm-tfjs: ${tf.memory().numTensors - tensorsAfterFirst} tensors leaked`);
  return { forward: returned - t0, backward: t1 - returned, update: t2 - t1, cpu: t2 - t0, wall: w2 - w0, loss: lossValue };
});
