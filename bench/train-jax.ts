// `train` benchmark child: jax-js on its wasm backend, written the JAX way: params as a
// pytree, the loss as log_softmax · one_hot, and the whole SGD step (valueAndGrad and the
// update) under one jit, so it is traced once and runs as compiled, fused kernels.
// jax-js arrays are reference-counted and every call consumes its array arguments, so
// the batches (kept for every epoch) are passed as `.ref`, and the step consumes the old
// params and returns new ones.
import { defaultDevice, init, jit, nn, numpy as np, random, tree, valueAndGrad } from '@jax-js/jax';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BATCH, CLASSES, LR, NTEST, PIXELS, childArgs, drive, rowBatches, sizes } from './train-common.js';

const args = childArgs();
const available = await init('wasm');
if (!available.includes('wasm')) throw new Error(`jax-js: the wasm backend did not start (available: ${available.join(', ')})`);
defaultDevice('wasm');
const entry = createRequire(import.meta.url).resolve('@jax-js/jax'); // <pkg>/dist/index.cjs
const version = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')).version as string;
// In Node 20 there is no global Worker, so jax-js's wasm backend runs on this one thread.
const info = `jax-js ${version} wasm backend, jit(valueAndGrad + SGD), ${typeof Worker === 'undefined' ? '1 thread' : 'worker threads'}`;

type Layer = { w: np.Array; b: np.Array };
type Params = Layer[];

const data = await rowBatches();
const xs = data.x.map((x) => np.array(x).reshape([BATCH, PIXELS]));
const ys = data.y.map((y) => np.array(y, { dtype: np.int32 }));

const sz = sizes(args.model);
const keys = random.split(random.key(1), sz.length - 1);
let params: Params = [];
for (let i = 1; i < sz.length; i++) {
  const key = keys.ref.slice(i - 1);
  params.push({ w: random.uniform(key, [sz[i - 1], sz[i]], { minval: -0.1, maxval: 0.1 }), b: np.zeros([sz[i]]) });
}
keys.dispose();

function predict(p: Params, x: np.Array): np.Array {
  let h = x;
  p.forEach(({ w, b }, i) => {
    h = np.dot(h, w).add(b);
    if (i < p.length - 1) h = nn.relu(h);
  });
  return h;
}

function loss(p: Params, x: np.Array, y: np.Array): np.Array {
  return nn.logSoftmax(predict(p, x)).mul(nn.oneHot(y, CLASSES)).sum().mul(-1 / BATCH);
}

const sgdStep = jit((p: Params, x: np.Array, y: np.Array): [Params, np.Array] => {
  const [l, g] = valueAndGrad(loss)(tree.ref(p), x, y);
  return [tree.map((w: np.Array, dw: np.Array) => w.sub(dw.mul(LR)), p, g) as Params, l];
});

function step(b: number): number {
  let l: np.Array;
  [params, l] = sgdStep(params, xs[b].ref, ys[b].ref);
  return l.dataSync()[0]; // consumes l
}

// The loss read above realises each step; this makes sure the last update is done too.
const finish = () => { for (const { w, b } of params) { w.ref.dataSync(); b.ref.dataSync(); } };

function evaluate(): number {
  const logits = jit(predict)(tree.ref(params), np.array(data.xtst).reshape([NTEST, PIXELS]));
  const hits = np.argmax(logits, 1).equal(np.array(data.ytst, { dtype: np.int32 })).astype(np.int32).sum().item();
  return hits / NTEST;
}

await drive({ step, nbatch: xs.length, finish, evaluate, framework: 'jax-js-wasm', info }, args, `jax-js wasm ${args.model}`);
