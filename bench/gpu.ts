// `npm run bench -- gpu [--quick] [--batches N]`: knet's gpu device next to TensorFlow.js's
// webgpu backend, both on the same WebGPU adapter (in Node: the `webgpu` package, Dawn;
// each framework opens its own device on it). Rows: gemm 128..1024 in the NN, NT and TN
// forms, softmax, and MNIST MLP training epochs (60,000 examples, batch 100, SGD).
//
// Timing: a sample records `reps` calls and waits for the last result's readback, so
// queued work is included and each framework batches submits its own way; the time per
// call is the median over samples. The MLP epoch runs a fixed number of batches (all 600
// unless --batches says fewer) with one loss readback at the end, and scales to 600.
import { create, globals } from 'webgpu';
import * as tf from '@tensorflow/tfjs';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';

interface Row { problem: string; form: string; unit: string; knet: number; tfjs: number; higherIsBetter: boolean }

function argValue(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

/** Calls per sample so that a sample of `run` lasts about `target` seconds. */
async function calibrate(run: (reps: number) => Promise<void>, target: number): Promise<number> {
  await run(1); // warm up: pipelines compiled, buffers pooled
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    await run(reps);
    if ((performance.now() - t0) / 1000 > target || reps >= 1 << 14) return reps;
    reps *= 2;
  }
}

/**
 * Median seconds per call of knet's and TensorFlow.js's `run(reps)` (which records reps
 * calls and resolves after the last result's readback). Samples alternate between the
 * two, so load from elsewhere on a shared machine falls on both alike.
 */
async function timePair(knet: (reps: number) => Promise<void>, tfjs: (reps: number) => Promise<void>,
                        quick: boolean): Promise<[number, number]> {
  const target = quick ? 0.05 : 0.2;
  const runs = [knet, tfjs];
  const reps = [await calibrate(knet, target), await calibrate(tfjs, target)];
  const samples: number[][] = [[], []];
  for (let s = 0; s < (quick ? 3 : 9); s++) {
    for (const i of [0, 1]) {
      const t0 = performance.now();
      await runs[i](reps[i]);
      samples[i].push((performance.now() - t0) / 1000 / reps[i]);
    }
  }
  const median = (v: number[]) => v.sort((a, b) => a - b)[v.length >> 1];
  return [median(samples[0]), median(samples[1])];
}

const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

async function gemmRows(quick: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of quick ? [128, 512] : [128, 256, 512, 1024]) {
    for (const form of ['NN', 'NT', 'TN'] as const) {
      const ta = form === 'TN', tb = form === 'NT';
      const a0 = rand(n * n), b0 = rand(n * n);
      const a = K.tensor(a0, [n, n], { device: 'gpu' }), b = K.tensor(b0, [n, n], { device: 'gpu' });
      const ta2 = tf.tensor2d(a0, [n, n]), tb2 = tf.tensor2d(b0, [n, n]);
      const [knet, tfjs] = await timePair(async (reps) => {
        let c: Tensor | null = null;
        for (let i = 0; i < reps; i++) { c?.dispose(); c = K.matmul(a, b, ta, tb); }
        await c!.data();
        c!.dispose();
      }, async (reps) => {
        let c: tf.Tensor | null = null;
        for (let i = 0; i < reps; i++) { c?.dispose(); c = tf.matMul(ta2, tb2, ta, tb); }
        await c!.data();
        c!.dispose();
      }, quick);
      a.dispose(); b.dispose(); ta2.dispose(); tb2.dispose();
      const gf = (s: number) => (2 * n ** 3) / s / 1e9;
      rows.push({ problem: `gemm ${n}³`, form, unit: 'GFLOP/s', knet: gf(knet), tfjs: gf(tfjs), higherIsBetter: true });
      console.error(`gemm ${n} ${form}: knet ${gf(knet).toFixed(2)} tfjs ${gf(tfjs).toFixed(2)} GFLOP/s`);
    }
  }
  return rows;
}

async function softmaxRows(quick: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [r, c] of [[100, 10], [1000, 1000], [256, 4096]]) {
    const x0 = rand(r * c).map((v) => v * 5);
    const x = K.tensor(x0, [r, c], { device: 'gpu' }), xt = tf.tensor2d(x0, [r, c]);
    const [knet, tfjs] = await timePair(async (reps) => {
      let y: Tensor | null = null;
      for (let i = 0; i < reps; i++) { y?.dispose(); y = K.softmax(x, 1); }
      await y!.data();
      y!.dispose();
    }, async (reps) => {
      let y: tf.Tensor | null = null;
      for (let i = 0; i < reps; i++) { y?.dispose(); y = tf.softmax(xt, -1); }
      await y!.data();
      y!.dispose();
    }, quick);
    x.dispose(); xt.dispose();
    rows.push({ problem: `softmax [${r},${c}] (last axis)`, form: '', unit: 'ms', knet: knet * 1e3, tfjs: tfjs * 1e3, higherIsBetter: false });
    console.error(`softmax ${r}x${c}: knet ${(knet * 1e3).toFixed(3)} tfjs ${(tfjs * 1e3).toFixed(3)} ms`);
  }
  return rows;
}

/** Seconds for one MNIST MLP epoch (784-64-10, batch 100, SGD lr 0.1), from `batches` batches. */
async function mlpRows(batches: number): Promise<Row[]> {
  const data = await K.mnist();
  const B = 100, H = 64, n = batches;
  const xs = Array.from({ length: n }, (_, b) => data.xtrn.subarray(b * B * 784, (b + 1) * B * 784));
  const ys = Array.from({ length: n }, (_, b) => Int32Array.from(data.ytrn.subarray(b * B, (b + 1) * B)));

  // knet, in the seed's layout: x [784, 100], w1 [64, 784]; labels int32; loss summed on the device.
  const kx = xs.map((x) => K.tidy(() => K.transpose(K.tensor(x, [B, 784], { device: 'gpu' }))));
  const ky = ys.map((y) => K.tensor(y, [B], { device: 'gpu' }));
  K.setSeed(1);
  const w = K.gpu([K.mul(K.randn(H, 784), 0.1), K.zeros(H, 1), K.mul(K.randn(10, H), 0.1), K.zeros(10, 1)]);
  const predict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]);
  const lossgrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y));
  const opts = K.optimizers(w, K.Sgd, { lr: 0.1 });
  const knetEpoch = async () => {
    let total = K.zeros([], { device: 'gpu' });
    for (let b = 0; b < n; b++) {
      const [g, l] = lossgrad(w, kx[b], ky[b]);
      K.update(w, g, opts);
      const t = K.add(total, l);
      total.dispose(); l.dispose();
      total = t;
    }
    const loss = (await total.itemAsync()) / n;
    total.dispose();
    return loss;
  };

  // TensorFlow.js, as its guides write it: x [100, 784], w1 [784, 64], one-hot labels,
  // optimizer.minimize with the cost kept on the device.
  const tx = xs.map((x) => tf.tensor2d(x, [B, 784]));
  const ty = ys.map((y) => tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), 10).toFloat()));
  const params = [tf.variable(tf.randomNormal([784, H], 0, 0.1)), tf.variable(tf.zeros([H])),
    tf.variable(tf.randomNormal([H, 10], 0, 0.1)), tf.variable(tf.zeros([10]))];
  const opt = tf.train.sgd(0.1);
  const tfPredict = (x: tf.Tensor2D) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, params[0]), params[1])), params[2]), params[3]);
  const tfEpoch = async () => {
    let total = tf.scalar(0);
    for (let b = 0; b < n; b++) {
      const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(ty[b], tfPredict(tx[b] as tf.Tensor2D)), true)!;
      const t = tf.add(total, cost);
      total.dispose(); cost.dispose();
      total = t as tf.Scalar;
    }
    const loss = (await total.data())[0] / n;
    total.dispose();
    return loss;
  };

  // a warm-up epoch each (pipelines, pools), then alternating timed epochs
  await knetEpoch();
  await tfEpoch();
  const times: number[][] = [[], []];
  for (let s = 0; s < 3; s++) {
    for (const [i, run] of [knetEpoch, tfEpoch].entries()) {
      const t0 = performance.now();
      await run();
      times[i].push(((performance.now() - t0) / 1000) * (600 / n));
    }
  }
  const [knet, tfjs] = times.map((v) => v.sort((a, b) => a - b)[1]);
  console.error(`mlp epoch: knet ${knet.toFixed(2)} s, tfjs ${tfjs.toFixed(2)} s`);
  return [{ problem: `MLP epoch 784-${H}-10, batch 100, SGD${n < 600 ? ` (${n} batches ×${600 / n})` : ''}`, form: '', unit: 's', knet, tfjs, higherIsBetter: false }];
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const batches = argValue(args, '--batches', quick ? 100 : 600);
  // One Dawn instance for both frameworks: knet's initGpu takes navigator.gpu when present.
  Object.assign(globalThis, globals);
  (globalThis as any).navigator ??= {};
  (globalThis as any).navigator.gpu ??= create([]);
  // the backend registers itself at import only where navigator.gpu exists
  await import('@tensorflow/tfjs-backend-webgpu');
  const info = await K.initGpu();
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js webgpu backend failed to start');
  await tf.ready();
  const rows = [...await gemmRows(quick), ...await softmaxRows(quick), ...await mlpRows(batches)];

  console.log(`adapter: ${[info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ')}`);
  console.log(`tfjs ${tf.version.tfjs} webgpu backend; knet gpu device; Node ${process.version}\n`);
  console.log('| problem | form | unit | knet gpu | tfjs webgpu | knet / tfjs |');
  console.log('|---|---|---|---:|---:|---:|');
  for (const r of rows) {
    const ratio = r.higherIsBetter ? r.knet / r.tfjs : r.tfjs / r.knet;
    const f = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
    console.log(`| ${r.problem} | ${r.form} | ${r.unit} | ${f(r.knet)} | ${f(r.tfjs)} | ${ratio.toFixed(2)}× |`);
  }
  // Dawn keeps Node alive while a GPU object is referenced.
  delete (globalThis as any).navigator.gpu;
  process.exit(0);
}
