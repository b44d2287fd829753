// `train` and `table` benchmark child: jax-js, written the JAX way: params as a pytree,
// the loss as log_softmax · one_hot, and the whole training step (valueAndGrad and the
// update) under one jit, so it is traced once and runs as compiled, fused kernels.
// jax-js arrays are reference-counted and every call consumes its array arguments, so
// the batches (kept for every epoch) are passed as `.ref`, and the step consumes the old
// params and returns new ones. --backend wasm (default) or webgpu (the `webgpu`
// package's Dawn in Node, where it finds an adapter).
import { blockUntilReady, defaultDevice, init, jit, lax, nn, numpy as np, random, tree, valueAndGrad } from '@jax-js/jax';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  BATCH, CHARLM, CLASSES, LINREG, LR, NTEST, PIXELS, type Training, charWindows, childArgs, drive, housingData, rowBatches, sizes,
} from './train-common.js';

const args = childArgs();
const backend = (args.backend || 'wasm') as 'wasm' | 'webgpu';
if (backend !== 'wasm' && backend !== 'webgpu') throw new Error(`jax-js: --backend must be wasm or webgpu, got ${backend}`);
if (backend === 'webgpu') {
  // Node has no navigator.gpu: the `webgpu` package (Dawn) provides one.
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  (globalThis as any).navigator ??= { userAgent: 'Node.js' };
  (globalThis as any).navigator.gpu ??= create([]);
}
const available = await init(backend);
if (!available.includes(backend)) throw new Error(`jax-js: the ${backend} backend did not start (no adapter?; available: ${available.join(', ')})`);
defaultDevice(backend);
const entry = createRequire(import.meta.url).resolve('@jax-js/jax'); // <pkg>/dist/index.cjs
const version = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')).version as string;
// In Node 20 there is no global Worker, so jax-js's wasm backend runs on this one thread.
const info = backend === 'wasm'
  ? `jax-js ${version} wasm backend, jit(valueAndGrad + update), ${typeof Worker === 'undefined' ? '1 thread' : 'worker threads'}`
  : `jax-js ${version} webgpu backend, jit(valueAndGrad + update)`;

type Tree = any;

/** Runs f; the error's first line if it throws, else null. */
function probe(f: () => void): string | null {
  try { f(); return null; } catch (e) { return (e instanceof Error ? e.message : String(e)).split('\n')[0]; }
}
/** A note on how a model was written, added to the child's info. */
let modelNote = '';

/**
 * A jit'd `update(params, x, y) -> [params, loss]` made into a Training. On wasm each step
 * reads its loss back (a scalar), so the work is done step by step; on webgpu `queue`
 * leaves the work queued and `sync` waits for the params and the last loss.
 */
function training(params: Tree, update: (p: Tree, x: np.Array, y: np.Array) => [Tree, np.Array],
                  batch: (b: number) => [np.Array, np.Array], rest: Pick<Training, 'nbatch' | 'evaluate'>,
                  before?: (b: number, p: Tree) => Tree): Training & { params: () => Tree } {
  let last: np.Array | null = null;
  const queue = (b: number) => {
    const [x, y] = batch(b);
    if (before) params = before(b, params);
    let l: np.Array;
    [params, l] = update(params, x.ref, y.ref);
    last?.dispose();
    last = l;
  };
  const sync = async () => {
    await blockUntilReady(params);
    const v = last ? (await last.data())[0] : NaN; // consumes last
    last = null;
    return v;
  };
  const step = (b: number) => {
    const [x, y] = batch(b);
    if (before) params = before(b, params);
    let l: np.Array;
    [params, l] = update(params, x.ref, y.ref);
    return l.dataSync()[0]; // consumes l
  };
  // The loss read above realises each step; this makes sure the last update is done too.
  const finish = () => { for (const a of tree.leaves(params) as np.Array[]) a.ref.dataSync(); };
  return {
    ...rest, params: () => params, framework: `jax-js-${backend}`, info: modelNote ? `${info}; ${modelNote}` : info,
    ...(backend === 'wasm' ? { step, finish } : { queue, sync }),
  };
}

/** SGD under jit: [params, loss] from params, x, y. */
const sgd = (loss: (p: Tree, x: np.Array, y: np.Array) => np.Array, lr: number) =>
  jit((p: Tree, x: np.Array, y: np.Array): [Tree, np.Array] => {
    const [l, g] = valueAndGrad(loss)(tree.ref(p), x, y);
    return [tree.map((w: np.Array, dw: np.Array) => w.sub(dw.mul(lr)), p, g), l];
  });

/** The seed's linear regression: pred = x·w + b on [506, 13] rows, loss sum((y - pred)²) / N. */
async function linreg(): Promise<Training> {
  const h = await housingData();
  const x = np.array(h.x).reshape([LINREG.rows, LINREG.cols]), y = np.array(h.y).reshape([LINREG.rows, 1]);
  const params = { w: random.normal(random.key(1), [LINREG.cols, 1]).mul(0.1), b: np.zeros([1]) };
  const loss = (p: Tree, x: np.Array, y: np.Array) => {
    const r = y.sub(np.dot(x, p.w).add(p.b));
    return r.ref.mul(r).sum().mul(1 / LINREG.rows);
  };
  return training(params, sgd(loss, LINREG.lr), () => [x, y], { nbatch: 1, evaluate: () => NaN });
}

/** The seed's softmax and MLP: x [100, 784], int labels, loss -mean(log_softmax · one_hot). */
async function classifier(): Promise<Training> {
  const data = await rowBatches();
  const xs = data.x.map((x) => np.array(x).reshape([BATCH, PIXELS]));
  const ys = data.y.map((y) => np.array(y, { dtype: np.int32 }));
  const sz = sizes(args.model);
  const keys = random.split(random.key(1), sz.length - 1);
  const params: { w: np.Array; b: np.Array }[] = [];
  for (let i = 1; i < sz.length; i++) {
    const key = keys.ref.slice(i - 1);
    params.push({ w: random.uniform(key, [sz[i - 1], sz[i]], { minval: -0.1, maxval: 0.1 }), b: np.zeros([sz[i]]) });
  }
  keys.dispose();
  const predict = (p: Tree, x: np.Array): np.Array => {
    let h = x;
    p.forEach(({ w, b }: { w: np.Array; b: np.Array }, i: number) => {
      h = np.dot(h, w).add(b);
      if (i < p.length - 1) h = nn.relu(h);
    });
    return h;
  };
  const loss = (p: Tree, x: np.Array, y: np.Array) => nn.logSoftmax(predict(p, x)).mul(nn.oneHot(y, CLASSES)).sum().mul(-1 / BATCH);
  let t: Training & { params: () => Tree };
  const evaluate = () => {
    const logits = jit(predict)(tree.ref(t.params()), np.array(data.xtst).reshape([NTEST, PIXELS]));
    const hits = np.argmax(logits, 1).equal(np.array(data.ytst, { dtype: np.int32 })).astype(np.int32).sum().item();
    return hits / NTEST;
  };
  t = training(params, sgd(loss, LR), (b) => [xs[b], ys[b]], { nbatch: xs.length, evaluate });
  return t;
}

/** The seed's LeNet, NCHW: lax.conv, max pooling by lax.reduceWindow, dense 800-500-10. */
async function lenet(): Promise<Training> {
  const data = await rowBatches();
  const xs = data.x.map((x) => np.array(x).reshape([BATCH, 1, 28, 28]));
  const ys = data.y.map((y) => np.array(y, { dtype: np.int32 }));
  const keys = random.split(random.key(1), 4);
  const u = (k: number, shape: number[]) => random.uniform(keys.ref.slice(k), shape, { minval: -0.1, maxval: 0.1 });
  const params = {
    c1: u(0, [20, 1, 5, 5]), b1: np.zeros([1, 20, 1, 1]), c2: u(1, [50, 20, 5, 5]), b2: np.zeros([1, 50, 1, 1]),
    w3: u(2, [800, 500]), b3: np.zeros([500]), w4: u(3, [500, 10]), b4: np.zeros([10]),
  };
  keys.dispose();
  const pool = (x: np.Array) => lax.reduceWindow(x, (w: np.Array) => np.max(w), [2, 2], [2, 2]);
  const predict = (p: Tree, x: np.Array): np.Array => {
    const x1 = pool(nn.relu(lax.conv(x, p.c1, [1, 1], 'VALID').add(p.b1)));
    const x2 = pool(nn.relu(lax.conv(x1, p.c2, [1, 1], 'VALID').add(p.b2)));
    const x3 = nn.relu(np.dot(x2.reshape([BATCH, 800]), p.w3).add(p.b3));
    return np.dot(x3, p.w4).add(p.b4);
  };
  const loss = (p: Tree, x: np.Array, y: np.Array) => nn.logSoftmax(predict(p, x)).mul(nn.oneHot(y, CLASSES)).sum().mul(-1 / BATCH);
  return training(params, sgd(loss, LR), (b) => [xs[b], ys[b]], { nbatch: xs.length, evaluate: () => NaN });
}

/**
 * The seed's CharLM: embedding rows taken for the ids, the input projection for all T·B
 * positions at once, the LSTM recurrence as a loop of T steps (traced once by jit), the
 * output layer on all positions; Adam (lr 0.002) with each gradient clipped to norm 5,
 * all in one jit'd step. The state is carried between windows (outside the gradient).
 */
async function charlm(): Promise<Training> {
  const { batch: B, seqlen: T, embed: E, hidden: H, lr, gclip } = CHARLM;
  const wins = await charWindows();
  const V = wins.vocab;
  const xs = wins.x.map((x) => np.array(x, { dtype: np.int32 }));
  const ys = wins.y.map((y) => np.array(y, { dtype: np.int32 }));
  const keys = random.split(random.key(1), 4);
  const xavier = (k: number, r: number, c: number) =>
    random.uniform(keys.ref.slice(k), [r, c], { minval: -Math.sqrt(6 / (r + c)), maxval: Math.sqrt(6 / (r + c)) });
  const weights = {
    embed: xavier(0, V, E), wx: xavier(1, E, 4 * H), wh: xavier(2, H, 4 * H), b: np.zeros([4 * H]), wout: xavier(3, H, V), bout: np.zeros([V]),
  };
  keys.dispose();
  const zerosLike = (w: Tree) => tree.map((a: np.Array) => np.zerosLike(a), tree.ref(w));
  // params: weights, Adam's moments and step count, and the LSTM state [h, c]
  const state0 = () => [np.zeros([B, H]), np.zeros([B, H])];
  const params: Tree = { w: weights, m: zerosLike(weights), v: zerosLike(weights), t: np.array(0), s: state0() };

  // The embedding's rows are taken for the ids (np.take). Where the gradient of take (a
  // scatter) does not compile under jit on this backend, the rows come from a one-hot
  // product instead (the seed's own x·W with one-hot x), found by catching the error.
  const embedding = probe(() => {
    const f = jit((e: np.Array, i: np.Array) => valueAndGrad((e: np.Array) => np.take(e, i, 0).sum())(e));
    const [v, g] = f(np.ones([4, 3]), np.array([1, 2, 1], { dtype: np.int32 }));
    v.dataSync(); g.dataSync();
  });
  if (embedding) process.stderr.write(`  jax-js ${backend} charlm: embedding as a one-hot product (np.take's gradient fails under jit: ${embedding})\n`);
  modelNote = embedding ? `embedding rows by one-hot product (np.take's gradient fails under jit: ${embedding})` : 'embedding rows by np.take';
  const rows = (e: np.Array, x: np.Array) => (embedding ? np.dot(nn.oneHot(x, V), e) : np.take(e, x, 0));
  const forward = (w: Tree, s: np.Array[], x: np.Array, y: np.Array): [np.Array, np.Array[]] => {
    const xw = np.dot(rows(w.embed, x), w.wx).add(w.b).reshape([T, B, 4 * H]);
    let [h, c] = s;
    const hs: np.Array[] = [];
    for (let t = 0; t < T; t++) {
      const z = xw.ref.slice(t).add(np.dot(h, w.wh.ref));
      const i = nn.sigmoid(z.ref.slice([], [0, H])), f = nn.sigmoid(z.ref.slice([], [H, 2 * H]));
      const g = np.tanh(z.ref.slice([], [2 * H, 3 * H])), o = nn.sigmoid(z.slice([], [3 * H, 4 * H]));
      c = f.mul(c).add(i.mul(g));
      h = o.mul(np.tanh(c.ref));
      hs.push(h.ref);
    }
    xw.dispose(); w.wh.dispose();
    const scores = np.dot(np.concatenate(hs, 0), w.wout).add(w.bout);
    const l = nn.logSoftmax(scores).mul(nn.oneHot(y, V)).sum().mul(-1 / (T * B));
    return [l, [lax.stopGradient(h), lax.stopGradient(c)]];
  };
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  // gradient clipping per parameter: d · min(1, gclip / ‖d‖)
  const clip = (d: np.Array) => d.ref.div(np.maximum(np.sqrt(d.ref.mul(d).sum()).mul(1 / gclip), 1));
  const update = jit((p: Tree, x: np.Array, y: np.Array): [Tree, np.Array] => {
    const [[l, s], g] = valueAndGrad((w: Tree) => forward(w, p.s, x, y), { hasAux: true })(tree.ref(p.w)) as any;
    const t = p.t.add(1);
    // bias corrections 1 - β^t
    const c1 = np.exp(t.ref.mul(Math.log(b1))).mul(-1).add(1), c2 = np.exp(t.ref.mul(Math.log(b2))).mul(-1).add(1);
    const gc = tree.map(clip, g);
    const m = tree.map((m: np.Array, d: np.Array) => m.mul(b1).add(d.mul(1 - b1)), p.m, tree.ref(gc));
    const v = tree.map((v: np.Array, d: np.Array) => v.mul(b2).add(d.ref.mul(d).mul(1 - b2)), p.v, gc);
    const w = tree.map((w: np.Array, m: np.Array, v: np.Array) =>
      w.sub(m.div(c1.ref).mul(lr).div(np.sqrt(v.div(c2.ref)).add(eps))), p.w, tree.ref(m), tree.ref(v));
    c1.dispose(); c2.dispose();
    return [{ w, m, v, t, s }, l];
  });
  // an epoch starts from a zero state
  const reset = (b: number, p: Tree) => (b === 0 ? (tree.dispose(p.s), { ...p, s: state0() }) : p);
  return training(params, (p, x, y) => update(p, x, y), (b) => [xs[b], ys[b]], { nbatch: xs.length, evaluate: () => NaN }, reset);
}

const t = args.model === 'linreg' ? await linreg() : args.model === 'lenet' ? await lenet()
  : args.model === 'charlm' ? await charlm() : await classifier();
await drive(t, args, `jax-js ${backend} ${args.model}`);
if (backend === 'webgpu') process.exit(0);
