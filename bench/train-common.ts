// What the `train` benchmark's child processes share: the task (MNIST, batch 100, SGD
// lr 0.1, the seed's softmax and 784-64-10 MLP), the data split into batches before any
// timing, the epoch timing protocol, and the one line of JSON each child prints.
//
// Every framework trains on the same batches (one seeded permutation of the 60,000
// examples, cut into 600 batches of 100) in the same per-epoch batch order; each keeps
// its own idiomatic layout and initialisation (uniform in ±0.1, zero biases).

import { mnist } from '../ts/data/datasets.js';

export const BATCH = 100;
export const LR = 0.1;
export const NTRAIN = 60000;
export const NTEST = 10000;
export const PIXELS = 784;
export const CLASSES = 10;
export const HIDDEN = 64;
export type Model = 'softmax' | 'mlp';

/** Layer sizes of a model, input first. */
export function sizes(model: Model): number[] {
  return model === 'mlp' ? [PIXELS, HIDDEN, CLASSES] : [PIXELS, CLASSES];
}

export interface ChildArgs {
  model: Model;
  warmup: number;
  repeats: number;
  /** Give up (and report 'skipped') when the warm-up epoch projects past this many seconds. */
  maxEpochS: number;
  /** Framework-specific choice (the TensorFlow.js backend). */
  backend: string;
  /** Driven by the parent: run one epoch per 'epoch' line on stdin (see `drive`). */
  serve: boolean;
}

export function childArgs(argv = process.argv.slice(2)): ChildArgs {
  const out: ChildArgs = { model: 'mlp', warmup: 1, repeats: 5, maxEpochS: Infinity, backend: '', serve: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--serve') { out.serve = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--model' && (v === 'softmax' || v === 'mlp')) out.model = v;
    else if (k === '--warmup') out.warmup = Number(v);
    else if (k === '--repeats') out.repeats = Number(v);
    else if (k === '--max-epoch-s') out.maxEpochS = Number(v);
    else if (k === '--backend') out.backend = v;
    else throw new Error(`bad argument ${k} ${v}`);
  }
  return out;
}

/** A small seeded generator (mulberry32), so every framework sees the same orders. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function permutation(n: number, random: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export interface RowBatches {
  /** Batch b's images, [BATCH, 784] row-major (one example per row). */
  x: Float32Array[];
  /** Batch b's labels 0..9. */
  y: Int32Array[];
  xtst: Float32Array;
  ytst: Int32Array;
}

/** MNIST through knet's loader, cut into row-major batches by one seeded permutation. */
export async function rowBatches(): Promise<RowBatches> {
  const d = await mnist();
  const order = permutation(NTRAIN, rng(1));
  const x: Float32Array[] = [], y: Int32Array[] = [];
  for (let b = 0; b < NTRAIN / BATCH; b++) {
    const xb = new Float32Array(BATCH * PIXELS), yb = new Int32Array(BATCH);
    for (let i = 0; i < BATCH; i++) {
      const e = order[b * BATCH + i];
      xb.set(d.xtrn.subarray(e * PIXELS, (e + 1) * PIXELS), i * PIXELS);
      yb[i] = d.ytrn[e];
    }
    x.push(xb); y.push(yb);
  }
  return { x, y, xtst: d.xtst, ytst: d.ytst };
}

export interface Result {
  framework: string;
  model: Model;
  /** Seconds per timed epoch, in order. */
  times: number[];
  /** Seconds of each warm-up epoch (JIT compiles, caches fill). */
  warmupTimes: number[];
  /** Mean training loss of each timed epoch (as the batches reported it). */
  losses: number[];
  /** Test accuracy after the last epoch. */
  testAcc: number;
  /** Why there are no times, when there are none. */
  skipped?: string;
  info?: string;
}

export interface Training {
  /** `step(b)` trains on batch b and returns its loss as a number (so its work is done). */
  step: (b: number) => number;
  nbatch: number;
  /** Forces anything a lazy framework still has pending (its last update). */
  finish?: () => void;
  /** Test accuracy of the current parameters. */
  evaluate: () => number;
  framework: string;
  info: string;
}

/**
 * Runs the epochs of one framework on one model: `warmup` untimed epochs, then `repeats`
 * timed ones, each over all batches in a fresh seeded order (the same sequence of orders
 * for every framework). Only the loop over batches (and `finish`) is timed. Standalone,
 * the epochs run back to back; with --serve, one epoch runs per 'epoch' line on stdin
 * (answered by an EPOCH line), so the parent can interleave the frameworks epoch by
 * epoch and a machine whose load drifts weighs on all of them alike. Ends with the
 * RESULT line, after 'done' (or the last epoch, standalone).
 */
export async function drive(t: Training, args: ChildArgs, label: string): Promise<void> {
  const random = rng(2);
  const r: Result = { framework: t.framework, model: args.model, times: [], warmupTimes: [], losses: [], testAcc: NaN, info: t.info };
  let e = 0;
  const epoch = (): void => {
    const order = permutation(t.nbatch, random);
    const warm = e < args.warmup;
    let total = 0;
    const t0 = performance.now();
    for (let j = 0; j < t.nbatch; j++) {
      total += t.step(order[j]);
      // Probe the first epoch: an epoch far over the limit is not worth finishing.
      if (e === 0 && j === 19 && Number.isFinite(args.maxEpochS)) {
        const projected = ((performance.now() - t0) / 1000) * (t.nbatch / 20);
        if (projected > args.maxEpochS) {
          r.skipped = `too slow: ~${projected.toFixed(0)} s per epoch projected from 20 batches (limit ${args.maxEpochS} s)`;
          return;
        }
      }
    }
    t.finish?.();
    const s = (performance.now() - t0) / 1000;
    (warm ? r.warmupTimes : r.times).push(s);
    if (!warm) r.losses.push(total / t.nbatch);
    e++;
    process.stderr.write(`  ${label}: ${warm ? 'warm-up' : 'epoch'} ${e}/${args.warmup + args.repeats} ${s.toFixed(3)} s, loss ${(total / t.nbatch).toFixed(4)}\n`);
  };
  const finish = (): void => {
    if (!r.skipped) r.testAcc = t.evaluate();
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
  };
  if (!args.serve) {
    while (e < args.warmup + args.repeats && !r.skipped) epoch();
    return finish();
  }
  process.stdout.write('READY\n');
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'epoch') {
      if (!r.skipped) epoch();
      process.stdout.write(`EPOCH ${JSON.stringify({ skipped: r.skipped ?? null })}\n`);
    } else if (line === 'done') {
      finish();
      break;
    }
  }
}
