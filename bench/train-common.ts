// What the `train` and `table` benchmarks' child processes share: the tasks (MNIST,
// batch 100, SGD lr 0.1, the seed's softmax and 784-64-10 MLP; for the table also the
// seed's linear regression on Housing, LeNet and the Hiawatha CharLM), the data split
// into batches before any timing, the timing protocol, and the one line of JSON each
// child prints.
//
// Every framework trains on the same batches (one seeded permutation of the 60,000
// examples, cut into 600 batches of 100) in the same per-epoch batch order; each keeps
// its own idiomatic layout and initialisation (uniform in ±0.1, zero biases).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { housing, mnist } from '../ts/data/datasets.js';
import { normalize } from '../ts/data/normalize.js';

export const BATCH = 100;
export const LR = 0.1;
export const NTRAIN = 60000;
export const NTEST = 10000;
export const PIXELS = 784;
export const CLASSES = 10;
export const HIDDEN = 64;
/** The seed's benchmark models; `train` runs the first two, `table` all five. */
export const MODELS = ['linreg', 'softmax', 'mlp', 'lenet', 'charlm'] as const;
export type Model = (typeof MODELS)[number];

/** Layer sizes of a dense model (softmax, mlp), input first. */
export function sizes(model: Model): number[] {
  return model === 'mlp' ? [PIXELS, HIDDEN, CLASSES] : [PIXELS, CLASSES];
}

/** Matmul flops of one training epoch: forward, plus the backward products that are needed. */
export function epochFlops(model: Model): { flops: number; formula: string } {
  const B = BATCH, batches = NTRAIN / BATCH;
  if (model === 'softmax') {
    // forward W·x; backward dW = dy·xᵀ (no gradient for the input).
    const fwd = 2 * B * PIXELS * CLASSES, bwd = 2 * B * PIXELS * CLASSES;
    return { flops: (fwd + bwd) * batches, formula: `600 × (fwd 2·100·784·10 + bwd dW 2·100·784·10)` };
  }
  // forward W1·x, W2·h; backward dW2 = dy·hᵀ, dh = W2ᵀ·dy, dW1 = dz·xᵀ (no dx for the input).
  const fwd = 2 * B * (PIXELS * HIDDEN + HIDDEN * CLASSES);
  const bwd = 2 * B * (PIXELS * HIDDEN + 2 * HIDDEN * CLASSES);
  return {
    flops: (fwd + bwd) * batches,
    formula: `600 × (fwd 2·100·(784·64 + 64·10) + bwd 2·100·(784·64 + 2·64·10))`,
  };
}

export interface ChildArgs {
  model: Model;
  warmup: number;
  repeats: number;
  /** Give up (and report 'skipped') when the warm-up epoch projects past this many seconds. */
  maxEpochS: number;
  /** Framework-specific choice (the TensorFlow.js or jax-js backend, knet's device). */
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
    if (k === '--model' && (MODELS as readonly string[]).includes(v)) out.model = v as Model;
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

/** The seed's linear regression: full-batch SGD (lr 0.1) on the 506 towns of Housing. */
export const LINREG = { rows: 506, cols: 13, lr: 0.1 } as const;

/**
 * Housing as the seed prepares it: the 13 features standardised per column (population
 * standard deviation), row-major [506, 13] (one town per row), and the target [506].
 */
export async function housingData(): Promise<{ x: Float32Array; y: Float32Array }> {
  const h = await housing();
  const [rows, cols] = h.shape.x;
  return { x: Float32Array.from(normalize(h.x, rows, cols)), y: Float32Array.from(h.y) };
}

/**
 * The seed's CharLM benchmark: one LSTM layer, embedding and hidden 256, BPTT windows of
 * 100 steps with batch 128, trained as examples/charlm.ts trains it (Adam lr 0.002,
 * gradients clipped to norm 5 per parameter), the state carried from window to window.
 */
export const CHARLM = { batch: 128, seqlen: 100, embed: 256, hidden: 256, lr: 0.002, gclip: 5, text: 'hiawatha' } as const;

/**
 * Hiawatha cut into BPTT windows as examples/charlm.ts cuts it: the vocabulary is the
 * sorted distinct characters; the text is split into `batch` streams, and window k holds
 * characters [k*seqlen, (k+1)*seqlen) of every stream, time first (x[t*batch + b]), with
 * the next characters as targets.
 */
export async function charWindows(): Promise<{ vocab: number; x: Int32Array[]; y: Int32Array[] }> {
  const file = fileURLToPath(new URL(`../data/text/${CHARLM.text}.txt`, import.meta.url));
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const chars = [...text];
  const vocab = [...new Set(chars)].sort();
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids = Int32Array.from(chars, (c) => index.get(c)!);
  const { batch: B, seqlen: T } = CHARLM;
  const stream = Math.floor(ids.length / B);
  const x: Int32Array[] = [], y: Int32Array[] = [];
  for (let s = 0; s + T < stream; s += T) {
    const xw = new Int32Array(T * B), yw = new Int32Array(T * B);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) { xw[t * B + b] = ids[b * stream + s + t]; yw[t * B + b] = ids[b * stream + s + t + 1]; }
    }
    x.push(xw); y.push(yw);
  }
  return { vocab: vocab.length, x, y };
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
  step?: (b: number) => number;
  /**
   * `queue(b)` trains on batch b without reading anything back (a gpu framework keeps its
   * queue full); `sync()` waits for everything queued and returns the last step's loss.
   * The table's protocol uses these where a child has them, `step` otherwise.
   */
  queue?: (b: number) => void;
  sync?: () => number | Promise<number>;
  /** Batches in an epoch (1 for the full-batch linear regression, windows for CharLM). */
  nbatch: number;
  /** Forces anything a lazy framework still has pending (its last update). */
  finish?: () => void;
  /** Test accuracy of the current parameters. */
  evaluate: () => number | Promise<number>;
  framework: string;
  info: string;
}

/** What a `table` child answers to `warm` and `steps` (see `drive`). */
export interface StepsReply {
  /** Steps run. */
  n: number;
  /** Seconds, wall clock, for all of them, from the first step to the end of `sync`. */
  seconds: number;
  /** Warm-up only: seconds per step of the last (timed) part of the warm-up. */
  perStep?: number;
  /** The loss of the last step. */
  loss: number;
  /** The step threw: the framework cannot train this model (message of the error). */
  error?: string;
}

/** Steps a `queue`ing child runs before it waits for its queue (`sync`), in the table's runs. */
export const SYNC_EVERY = 100;

const errorMessage = (e: unknown): string => (e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e))
  .split('\n')[0].slice(0, 300);

/**
 * Runs the epochs of one framework on one model: `warmup` untimed epochs, then `repeats`
 * timed ones, each over all batches in a fresh seeded order (the same sequence of orders
 * for every framework). Only the loop over batches (and `finish`) is timed. Standalone,
 * the epochs run back to back; with --serve, one epoch runs per 'epoch' line on stdin
 * (answered by an EPOCH line), so the parent can interleave the frameworks epoch by
 * epoch and a machine whose load drifts weighs on all of them alike. Ends with the
 * RESULT line, after 'done' (or the last epoch, standalone).
 *
 * The `table` benchmark drives the same children by steps instead of epochs, the batches
 * in their fixed order (batch b of step k is k mod nbatch, a cursor kept across calls):
 *  - `warm S L`: untimed warm-up: one step (compiles, tiers up), then, unless that step
 *    alone took over L seconds, runs of 1, 2, 4, ... steps until S/2 seconds have gone;
 *    the least seconds per step of those runs is the estimate (`perStep`; the first
 *    step's time where there are none); answers `WARM {StepsReply}`.
 *  - `steps N`: N steps timed as one run, `sync` (or `finish`) included; `STEPS {...}`.
 *    A child with `queue` waits for its queue every SYNC_EVERY steps.
 *  - `quit`: the RESULT line without the test-set evaluation.
 * A step that throws answers with `error` set (the framework cannot train the model).
 */
export async function drive(t: Training, args: ChildArgs, label: string): Promise<void> {
  const random = rng(2);
  const r: Result = { framework: t.framework, model: args.model, times: [], warmupTimes: [], losses: [], testAcc: NaN, info: t.info };
  const step = (b: number): number => {
    if (!t.step) throw new Error(`${label}: this child runs only under the table's step protocol (no synchronous step)`);
    return t.step(b);
  };
  let e = 0;
  const epoch = (): void => {
    const order = permutation(t.nbatch, random);
    const warm = e < args.warmup;
    let total = 0;
    const t0 = performance.now();
    for (let j = 0; j < t.nbatch; j++) {
      total += step(order[j]);
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

  // the table's step protocol
  let cursor = 0, failed: string | null = null;
  const run = async (n: number): Promise<StepsReply> => {
    const t0 = performance.now();
    let last = NaN;
    for (let i = 0; i < n; i++) {
      const b = cursor++ % t.nbatch;
      if (t.queue) {
        t.queue(b);
        // a gpu framework's queue is waited for every SYNC_EVERY steps, as a training loop
        // that reports its progress would (TF.js webgpu crashes Dawn with thousands queued)
        if ((i + 1) % SYNC_EVERY === 0 && i + 1 < n) await t.sync?.();
      } else last = step(b);
    }
    if (t.sync) last = await t.sync();
    else t.finish?.();
    return { n, seconds: (performance.now() - t0) / 1000, loss: last };
  };
  const warmUp = async (s: number, limit: number): Promise<StepsReply> => {
    const first = await run(1);
    let n = 1, seconds = first.seconds, perStep = first.seconds, last = first;
    if (first.seconds <= limit) {
      perStep = Infinity;
      let elapsed = 0;
      for (let k = 1; k === 1 || elapsed < s / 2; k *= 2) {
        last = await run(k);
        n += k; seconds += last.seconds; elapsed += last.seconds;
        perStep = Math.min(perStep, last.seconds / k);
      }
    }
    return { n, seconds, perStep, loss: last.loss };
  };
  const answer = async (tag: string, f: () => Promise<StepsReply>): Promise<void> => {
    let reply: StepsReply;
    if (failed) reply = { n: 0, seconds: 0, loss: NaN, error: failed };
    else {
      try {
        reply = await f();
        process.stderr.write(`  ${label}: ${tag.toLowerCase()} ${reply.n} step${reply.n === 1 ? '' : 's'} ${reply.seconds.toFixed(3)} s, loss ${reply.loss.toFixed(4)}\n`);
      } catch (err) {
        failed = errorMessage(err);
        reply = { n: 0, seconds: 0, loss: NaN, error: failed };
        process.stderr.write(`  ${label}: cannot train: ${failed}\n`);
      }
    }
    process.stdout.write(`${tag} ${JSON.stringify(reply)}\n`);
  };

  const finish = async (evaluate: boolean): Promise<void> => {
    if (evaluate && !r.skipped && !failed) r.testAcc = await t.evaluate();
    if (failed) r.skipped = `cannot train: ${failed}`;
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
  };
  if (!args.serve) {
    while (e < args.warmup + args.repeats && !r.skipped) epoch();
    return finish(true);
  }
  process.stdout.write('READY\n');
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg, limit] = line.trim().split(/\s+/);
    if (cmd === 'epoch') {
      if (!r.skipped) epoch();
      process.stdout.write(`EPOCH ${JSON.stringify({ skipped: r.skipped ?? null })}\n`);
    } else if (cmd === 'warm') {
      await answer('WARM', () => warmUp(Number(arg), Number(limit ?? Infinity)));
    } else if (cmd === 'steps') {
      await answer('STEPS', () => run(Number(arg)));
    } else if (cmd === 'done' || cmd === 'quit') {
      await finish(cmd === 'done');
      break;
    }
  }
}
