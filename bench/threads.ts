// `npm run bench -- threads [--quick] [--only handoff,crossovers,gemm,training] [--batches N]
// [--windows N] [--rounds R] [--host-epochs E] [--duel D] [--no-torch]`: the cpu device's thread pool. Prints
// Markdown tables:
//   1. the hand-off: one task to one worker and back, with the worker spinning (ops back
//      to back) and asleep (after an idle millisecond), beside a plain kernel call;
//   2. crossovers: kernels of growing size on 1 thread and split over 2 (thresholds
//      lowered so that every size splits), the data behind split.ts's MIN_WORK;
//   3. gemm 512³ and 1024³, NN/NT/TN, 1 and 2 threads, each row beside what two threads
//      gave in the same minutes to two whole products at once and to the f32x4 peak loop;
//   4. training: the MNIST MLP epoch, LeNet (N batches scaled to the 600 of an epoch) and
//      a CharLM window, on 1 and 2 threads, and PyTorch on 1 and 2 threads on the same work
//      where `python3 -c 'import torch'` works; R rounds (default 3) of knet then PyTorch,
//      each cell the median over the rounds; with --host-epochs E, then E MLP epochs on 2
//      threads, each beside the peak loop's two-thread speedup and the hand-off's latency
//      just before and after it; with --duel D, then D quartets of each workload by turns:
//      knet on 1 and on 2 threads, PyTorch on 1 and on 2, seconds apart, with PyTorch's
//      time over knet's on the same thread count in each quartet (a paired comparison the
//      host's phases cannot tilt).
// Samples of 1 and 2 threads alternate, so a load that comes and goes (this machine is
// shared) falls on both; the load average before and after is printed with the tables.
// Times are wall-clock (CPU time would add the threads up).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '../ts/index.js';
import { argValue } from './harness/args.js';
import { PY_BLAS, torchEnv } from './harness/torch-blas.js';
import { parallelPeak } from './peak.js';

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const f1 = (x: number) => x.toFixed(1), f2 = (x: number) => x.toFixed(2);
/** Seconds: three decimals below one second (the MLP epoch and CharLM window are close calls), two above. */
const secs = (x: number) => x.toFixed(x < 1 ? 3 : 2);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const only = new Set((argValue(args, '--only') ?? 'handoff,crossovers,gemm,training').split(','));
  const K = await import('../ts/index.js');
  const { cpuDevice } = await import('../ts/device/cpu.js');
  const { MIN_WORK } = await import('../ts/device/wasm/split.js');
  const { UnaryOp, BinaryOp, ReduceOp, SoftmaxOp, OptimKind } = await import('../ts/device/device.js');
  const maybe = cpuDevice.workers;
  if (!maybe || (await K.setThreads(2)) !== 2) throw new Error('threads: the cpu device has no thread pool here');
  const pool = maybe;
  const dev = cpuDevice;
  const defaults = { ...MIN_WORK };
  const force = () => { for (const k of Object.keys(MIN_WORK) as (keyof typeof MIN_WORK)[]) MIN_WORK[k] = 1; };
  const restore = () => Object.assign(MIN_WORK, defaults);
  const loadBefore = load();
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores; Node ${process.version}; ` +
    `knet ${K.simdLevel()} build; load average before: ${loadBefore}`);

  /** µs per call of f over one sample of `reps` calls. */
  const sampleUs = (f: () => void, reps: number) => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    return ((performance.now() - t0) * 1000) / reps;
  };
  const calibrate = (f: () => void, ms: number) => {
    f(); f();
    let reps = 1;
    while (sampleUs(f, reps) * reps < ms * 1000 && reps < 1 << 20) reps *= 2;
    return reps;
  };
  /** Alternating samples of f on 1 thread and on 2 (forced splits when `forced`): medians in µs. */
  async function oneVsTwo(f: () => void, forced: boolean, samples = quick ? 5 : 9, ms = quick ? 10 : 30,
                         between?: () => void): Promise<[number, number]> {
    await K.setThreads(2); if (forced) force();
    const reps = calibrate(f, ms);
    restore();
    const t1: number[] = [], t2: number[] = [];
    for (let s = 0; s < samples; s++) {
      await K.setThreads(1); t1.push(sampleUs(f, reps));
      await K.setThreads(2); if (forced) force(); t2.push(sampleUs(f, reps)); restore();
      between?.();
    }
    return [median(t1), median(t2)];
  }

  const scratch = K.zeros(64);
  const k = (dev as any).k;
  /** One tiny task to one worker and back (a fill of 4 floats each side). */
  const handoffParts = () => {
    const p = dev.ptr(scratch);
    return [{ fn: 'fill' as const, args: [p, 4, 1] }, { fn: 'fill' as const, args: [p + 16, 4, 2] }];
  };
  /** µs per hand-off to a spinning worker (ops back to back): the median of `samples` samples of `reps`. */
  const hotHandoffUs = (samples: number, reps: number) => {
    const parts = handoffParts();
    return median(Array.from({ length: samples }, () => sampleUs(() => pool.run(parts, k), reps)));
  };
  /**
   * Two independent whole n³ products, one per thread through the pool's hand-off (no
   * split, each with its own operands and packing), and one of them alone: 2 x one / pair
   * is the host's two-core ceiling for this kernel with its memory traffic (2.00 on two
   * free cores). The first product's operands are also the gemm table's.
   */
  const wholeProducts = (n: number) => {
    const ops = [0, 1].map(() => ({ a: K.randn(n, n), b: K.randn(n, n), c: K.zeros(n, n), s: K.zeros(k.gemmScratchBytes(n, n, n) / 4) }));
    const part = (t: number, ta: boolean, tb: boolean) => {
      const o = ops[t];
      return { fn: 'gemmBlock' as const, args: [+ta, +tb, 0, n, 0, n, n, 1, dev.ptr(o.a), n, dev.ptr(o.b), n, 0, dev.ptr(o.c), n, dev.ptr(o.s)] };
    };
    return {
      ...ops[0],
      one: (ta = false, tb = false) => k.gemmBlock(...part(0, ta, tb).args),
      pair: (ta = false, tb = false) => pool.run([part(0, ta, tb), part(1, ta, tb)], k),
      dispose: () => { for (const o of ops) for (const t of [o.a, o.b, o.c, o.s]) t.dispose(); },
    };
  };

  if (only.has('handoff')) await handoff();
  async function handoff() {
  // ---- 1. the hand-off ----------------------------------------------------------------
  await K.setThreads(2);
  const p = dev.ptr(scratch), parts = handoffParts();
  const hot = hotHandoffUs(7, 5000);
  const cold: number[] = [];
  for (let i = 0; i < (quick ? 100 : 400); i++) {
    const until = performance.now() + 1; // the worker goes to sleep after ~0.1 ms of spinning
    while (performance.now() < until) { /* idle */ }
    const t0 = performance.now();
    pool.run(parts, k);
    cold.push((performance.now() - t0) * 1000);
  }
  const direct = median(Array.from({ length: 7 }, () => sampleUs(() => k.fill(p, 4, 1), 100000)));
  console.log('\n### hand-off\n');
  console.log('| one task to one worker and back | µs |\n|---|---:|');
  console.log(`| worker spinning (ops back to back) | ${f2(hot)} |`);
  console.log(`| worker asleep (1 ms idle before) | ${f1(median(cold))} |`);
  console.log(`| a kernel call on the calling thread, for scale | ${direct.toFixed(3)} |`);
  }

  if (only.has('crossovers')) await crossovers();
  async function crossovers() {
  // ---- 2. crossovers -------------------------------------------------------------------
  console.log('\n### crossovers (1 thread vs. split over 2, thresholds lowered)\n');
  console.log('| kernel | size | 1 thread µs | 2 threads µs | speedup |\n|---|---:|---:|---:|---:|');
  const row = async (name: string, size: string, f: () => void) => {
    const [a, b] = await oneVsTwo(f, true);
    console.log(`| ${name} | ${size} | ${f1(a)} | ${f1(b)} | ${f2(a / b)} |`);
  };
  const flat = (n: number) => ({ shape: [n], astrides: [1], bstrides: [1] });
  for (const n of quick ? [16384, 65536, 262144] : [4096, 16384, 65536, 262144, 1048576]) {
    const a = K.randn(n), b = K.randn(n), y = K.zeros(n);
    await row('add (elementwise)', `${n}`, () => dev.binary(BinaryOp.add, a, b, y, flat(n)));
    await row('relu', `${n}`, () => dev.unary(UnaryOp.relu, a, y));
    await row('exp', `${n}`, () => dev.unary(UnaryOp.exp, a, y));
    const w = K.randn(n), g = K.randn(n), s1 = K.zeros(n), s2 = K.zeros(n);
    await row('Adam step', `${n}`, () => dev.optimStep(OptimKind.adam, w, g, s1, s2, [1e-3, 0, 0.9, 0.999, 1e-8, 1, 1]));
    await row('sum over rows of [n/256, 256]', `${n}`, () => dev.reduce(ReduceOp.sum, a, y, n / 256, 256, 1));
    await row('softmax over rows of [n/64, 64]', `${n}`, () => dev.softmax(SoftmaxOp.softmax, a, y, n / 64, 64, 1));
    for (const t of [a, b, y, w, g, s1, s2]) t.dispose();
  }
  for (const n of quick ? [48, 96] : [32, 48, 64, 96, 128]) {
    const a = K.randn(n, n), b = K.randn(n, n), c = K.zeros(n, n);
    await row('gemm n³', `${n} (${f2(2 * n ** 3 / 1e6)} MFLOP)`, () => dev.matmul(false, false, a, b, c, n, n, n, 1, 0));
    for (const t of [a, b, c]) t.dispose();
  }

  }
  if (only.has('gemm')) await gemm();
  async function gemm() {
  // ---- 3. gemm -------------------------------------------------------------------------
  console.log('\n### gemm\n');
  console.log('| problem | form | 1 thread GFLOP/s | 2 threads GFLOP/s | speedup | two whole gemms at once | peak loop |\n|---|---|---:|---:|---:|---:|---:|');
  // The host's own ceilings beside each row, sampled between the gemm's samples: the same
  // product computed twice at once, whole, on the two threads (the pool's hand-off, no
  // split: what two cores give this kernel with its memory traffic), and the f32x4 peak
  // loop (no memory traffic; bench/peak.ts parallelPeak) on one thread and on two.
  const loop = await parallelPeak(quick ? 200_000 : 1_000_000);
  const loopSpeedups: number[] = [];
  for (const n of [512, 1024]) {
    const w = wholeProducts(n), { a, b, c } = w;
    for (const [form, ta, tb] of [['NN', false, false], ['NT', false, true], ['TN', true, false]] as const) {
      const one = () => w.one(ta, tb), pair = () => w.pair(ta, tb);
      const reps = calibrate(one, quick ? 50 : 200);
      const pairs: Array<[number, number]> = [], loops: Array<[number, number]> = [];
      const [t1, t2] = await oneVsTwo(() => dev.matmul(ta, tb, a, b, c, n, n, n, 1, 0), false, quick ? 5 : 9, quick ? 50 : 200, () => {
        pairs.push([sampleUs(one, reps), sampleUs(pair, reps)]);
        loops.push(loop.sample());
      });
      const gf = (us: number) => (2 * n ** 3) / us / 1e3;
      const ceiling = (x: Array<[number, number]>) => (2 * median(x.map((l) => l[0]))) / median(x.map((l) => l[1]));
      loopSpeedups.push(ceiling(loops));
      console.log(`| ${n}³ | ${form} | ${f1(gf(t1))} | ${f1(gf(t2))} | ${f2(t1 / t2)} | ${f2(ceiling(pairs))} | ${f2(ceiling(loops))} |`);
    }
    w.dispose();
  }
  await loop.close();
  console.log('\nThe last two columns, the host\'s ceilings in the same minutes (2.00 on two free cores): two whole ' +
    'products at once on the two threads (2 x one alone / the pair), and the f32x4 peak loop, which touches no memory ' +
    `(${f2(Math.min(...loopSpeedups))}-${f2(Math.max(...loopSpeedups))} here).`);

  }
  if (only.has('training')) await training();
  async function training() {
  // ---- 4. training ---------------------------------------------------------------------
  const lenetBatches = Number(argValue(args, '--batches') ?? (quick ? 30 : 100));
  const windows = Number(argValue(args, '--windows') ?? (quick ? 2 : 4));
  const mlpEpochs = quick ? 1 : 3;
  const rounds = Number(argValue(args, '--rounds') ?? (quick ? 1 : 3));
  const data = await K.mnist();
  const text = await K.text('tinyshakespeare');
  // Rounds of knet then PyTorch, so that a slow phase of a shared host falls on both; each
  // cell is the median over rounds (within a round, 1 and 2 threads alternate).
  const knetRound = await setupKnet(K, data, text, { lenetBatches, windows, mlpEpochs });
  const noTorch = args.includes('--no-torch');
  const knets: Awaited<ReturnType<typeof knetRound>>[] = [];
  const torches: Exclude<ReturnType<typeof runTorch>, string>[] = [];
  let torchSkip = noTorch ? 'skipped (--no-torch)' : '';
  for (let r = 0; r < rounds; r++) {
    console.log(`training round ${r + 1} of ${rounds}: knet${noTorch || torchSkip ? '' : ', then PyTorch'}`);
    knets.push(await knetRound());
    if (noTorch || torchSkip) continue;
    const t = runTorch(data, text, { lenetBatches, windows, mlpEpochs });
    if (typeof t === 'string') torchSkip = t; else torches.push(t);
  }
  const keys = ['mlp', 'lenet', 'charlm'] as const;
  const mid = <T extends Record<(typeof keys)[number], [number, number]>>(rs: T[]) =>
    Object.fromEntries(keys.map((k) => [k, [median(rs.map((x) => x[k][0])), median(rs.map((x) => x[k][1]))]])) as Record<(typeof keys)[number], [number, number]>;
  const knet = { ...mid(knets), same: knets.every((x) => x.same) && keys.every((k) => knets.every((x) => Object.is(x.last[k], knets[0].last[k]))) };
  const torch = torches.length ? { ...mid(torches), info: torches[0].info } : torchSkip || 'skipped';
  const loadAfter = load();
  console.log(`\n### training (wall-clock seconds; 1 / 2 threads; median of ${rounds} round${rounds > 1 ? 's' : ''})\n`);
  const th = typeof torch === 'string' ? '' : ' PyTorch 1 thread | PyTorch 2 threads | PyTorch speedup |';
  console.log(`| work | knet 1 thread | knet 2 threads | knet speedup |${th}\n|---|---:|---:|---:|${typeof torch === 'string' ? '' : '---:|---:|---:|'}`);
  for (const [key, label] of [['mlp', 'MLP epoch (784-64-10, 600 batches of 100, SGD)'],
    ['lenet', `LeNet epoch (${lenetBatches} batches of 100 scaled to 600, SGD)`],
    ['charlm', 'CharLM window (128x100, embedding/LSTM 256, Adam + gclip)']] as const) {
    const [a, b] = knet[key];
    let cells = `| ${label} | ${secs(a)} | ${secs(b)} | ${f2(a / b)} |`;
    if (typeof torch !== 'string') { const [c, d] = torch[key]; cells += ` ${secs(c)} | ${secs(d)} | ${f2(c / d)} |`; }
    console.log(cells);
  }
  if (rounds > 1) {
    const each = (rs: Record<(typeof keys)[number], [number, number]>[], k: (typeof keys)[number]) =>
      rs.map((x) => `${secs(x[k][0])}/${secs(x[k][1])}`).join(', ');
    console.log('\nEach round (1 thread / 2 threads, s):');
    for (const k of keys) console.log(`- ${k}: knet ${each(knets, k)}${torches.length ? `; PyTorch ${each(torches, k)}` : ''}`);
  }
  if (typeof torch === 'string') console.log(`\nPyTorch: ${torch}`);
  else console.log(`\nPyTorch: ${torch.info}`);
  console.log(`knet: losses agree across thread counts: ${knet.same}`);
  console.log(`load average before: ${loadBefore}; after: ${loadAfter}`);

  // The host beside the 2-thread MLP epoch: the peak loop's two-thread speedup (no memory
  // traffic, not our pool) just before and just after each epoch. On this shared VM the
  // epoch's time follows what the host gives two threads at that moment.
  const hostEpochs = Number(argValue(args, '--host-epochs') ?? 0);
  if (hostEpochs > 0) {
    const loop = await parallelPeak(300_000);
    const speedup = () => median([0, 1, 2].map(() => { const [a, b] = loop.sample(); return (2 * a) / b; }));
    await K.setThreads(2);
    // and the hand-off between the two cores (a task to a spinning worker and back): what
    // the epoch's ~16,000 threaded ops each pay once, and a measure of how far apart the
    // host has put the two threads (the same core complex or not)
    const handoffUs = () => hotHandoffUs(5, 2000);
    console.log('\n### the MLP epoch on 2 threads beside the host\'s two-core ceiling\n');
    console.log('| epoch | knet 2 threads, s | peak loop speedup just before | just after | hand-off µs before | after |\n|---:|---:|---:|---:|---:|---:|');
    const rows: Array<[number, number, number]> = [];
    for (let i = 0; i < hostEpochs; i++) {
      const h0 = handoffUs(), before = speedup(), t = knetRound.mlpEpoch(2), after = speedup(), h1 = handoffUs();
      rows.push([t, before, after]);
      console.log(`| ${i + 1} | ${secs(t)} | ${f2(before)} | ${f2(after)} | ${f2(h0)} | ${f2(h1)} |`);
    }
    await loop.close();
    const free = rows.filter((r) => Math.min(r[1], r[2]) >= 1.8).map((r) => r[0]);
    const shared = rows.filter((r) => Math.min(r[1], r[2]) < 1.8).map((r) => r[0]);
    console.log(`\nEpochs with the loop at 1.8 or more both before and after: ${free.length}, median ${free.length ? secs(median(free)) : '-'} s; ` +
      `the others: ${shared.length}, median ${shared.length ? secs(median(shared)) : '-'} s.`);
  }
  // The duel: knet and PyTorch, each on 1 and on 2 threads, by turns seconds apart (one
  // PyTorch process kept waiting for each request), so that each quartet falls in one phase
  // of the shared host; the order rotates from quartet to quartet so that no side always
  // follows the same one. Each quartet gives PyTorch's time over knet's on the same thread
  // count (and PyTorch's best over knet on 2); the table has their medians.
  const duels = Number(argValue(args, '--duel') ?? 0);
  if (duels > 0 && !noTorch) await duel(duels);
  async function duel(n: number) {
    const server = await torchServer(data, text, { lenetBatches, windows, mlpEpochs });
    if (typeof server === 'string') { console.log(`\nduel: PyTorch ${server}`); return; }
    // The host's phase around each quartet: two whole 384³ products at once on the two threads
    // against one alone (2.00 on two free cores), as the gemm table's ceiling column; a quartet
    // counts as calm where this got 1.8 or more both before and after it.
    const w = wholeProducts(384);
    const probe = () => median([0, 1, 2].map(() => (2 * sampleUs(() => w.one(), 3)) / sampleUs(() => w.pair(), 3)));
    console.log(`\n### duel: knet and PyTorch on 1 and on 2 threads, by turns (${n} quartets each; seconds)\n`);
    console.log('| work | knet 1 thread | knet 2 threads | PyTorch 1 thread | PyTorch 2 threads | PyTorch 1 / knet 1 | PyTorch 2 / knet 2 | ' +
      'PyTorch 1 / knet 2 | knet ahead, 1 thread | knet ahead, 2 threads | calm quartets | host pair (median) |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const works = [['mlp', 'MLP epoch', knetRound.mlpEpoch], ['charlm', 'CharLM window', knetRound.charRun],
      ['lenet', `LeNet epoch (${lenetBatches} batches scaled to 600)`, knetRound.lenetRun]] as const;
    const quartets: string[] = [];
    for (const [key, label, f] of works) {
      await K.setThreads(2); f(2); // warm-up
      const k1: number[] = [], k2: number[] = [], t1: number[] = [], t2: number[] = [], host: number[] = [];
      const turns = [async () => { await K.setThreads(1); k1.push(f(1)); }, async () => { await K.setThreads(2); k2.push(f(2)); },
        async () => { t1.push(await server.run(key, 1)); }, async () => { t2.push(await server.run(key, 2)); }];
      for (let i = 0; i < n; i++) {
        await K.setThreads(2);
        const before = probe();
        for (let j = 0; j < turns.length; j++) await turns[(i + j) % turns.length]();
        await K.setThreads(2);
        host.push(Math.min(before, probe()));
      }
      const r1 = k1.map((x, i) => t1[i] / x), r2 = k2.map((x, i) => t2[i] / x), r12 = k2.map((x, i) => t1[i] / x);
      const calm = host.map((h) => h >= 1.8), nCalm = calm.filter(Boolean).length;
      const ahead = (r: number[]) => { const a = r.map((x) => x > 1); return `${a.filter(Boolean).length} of ${n} (${a.filter((x, i) => x && calm[i]).length} of ${nCalm} calm)`; };
      console.log(`| ${label} | ${secs(median(k1))} | ${secs(median(k2))} | ${secs(median(t1))} | ${secs(median(t2))} | ` +
        `${f2(median(r1))} | ${f2(median(r2))} | ${f2(median(r12))} | ${ahead(r1)} | ${ahead(r2)} | ${nCalm} of ${n} | ${f2(median(host))} |`);
      quartets.push(`- ${key}: ${k1.map((x, i) => `${secs(x)}/${secs(k2[i])}/${secs(t1[i])}/${secs(t2[i])} (${f2(host[i])})`).join(', ')}`);
    }
    console.log('\n"calm": quartets in which two whole products at once got 1.8x or more both before and after.');
    console.log(`\nEach quartet (knet 1 thread / knet 2 / PyTorch 1 / PyTorch 2, s; the host pair's lower value):\n${quartets.join('\n')}\n\nPyTorch: ${server.info}`);
    w.dispose();
    await server.close();
  }
  }

  console.log(`\nthread pool: ${JSON.stringify(pool.stats)} (ops run threaded, parts handed to the worker, ` +
    `parts the caller took back); threads now: ${K.threads()}`);
  scratch.dispose();
}

type KModule = typeof import('../ts/index.js');
type Mnist = Awaited<ReturnType<KModule['mnist']>>;
interface Work { lenetBatches: number; windows: number; mlpEpochs: number }

/**
 * Sets up knet's three workloads; the function it returns runs one round of them on 1 and
 * 2 threads, alternating: [1 thread, 2 threads] seconds each, and the last losses.
 */
async function setupKnet(K: KModule, data: Mnist, text: string, o: Work) {
  const { disposeState, encode, initModel, loss: charLoss, vocabulary, windows } = await import('../examples/charlm.js');
  type State = import('../examples/charlm.js').State;
  const losses: Record<string, number[][]> = { mlp: [[], []], lenet: [[], []], charlm: [[], []] };
  const u = (...s: number[]) => K.tidy(() => K.sub(K.mul(K.rand(s), 0.2), 0.1));

  // MLP: examples/mnist.ts's model and layout (x [784, 100] columns), SGD lr 0.1
  const xcols = K.tidy(() => K.transpose(K.tensor(data.xtrn, [60000, 784])));
  const mlpData = K.minibatch(xcols, { data: data.ytrn, shape: [60000] }, 100);
  xcols.dispose();
  const mlpPredict = (w: Tensor[], x: Tensor) => K.add(K.matmul(w[2], K.relu(K.add(K.matmul(w[0], x), w[1]))), w[3]);
  const mlpGrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(mlpPredict(w, x), y));
  const mlpEpoch = (t: number) => {
    K.setSeed(1);
    const w = [u(64, 784), K.zeros(64, 1), u(10, 64), K.zeros(10, 1)];
    const opts = K.optimizers(w, K.Sgd, { lr: 0.1 });
    const t0 = performance.now();
    let last = 0;
    for (const [x, y] of mlpData) { const [g, l] = mlpGrad(w, x, y); K.update(w, g, opts); last = l.item(); l.dispose(); }
    const s = (performance.now() - t0) / 1000;
    losses.mlp[t - 1].push(last);
    w.forEach((x) => x.dispose());
    return s;
  };

  // LeNet: bench/lenet.ts's (examples/lenet.ts's) model, SGD lr 0.1
  const n = o.lenetBatches * 100;
  const lenetData = K.minibatch({ data: data.xtrn.subarray(0, n * 784), shape: [n, 1, 28, 28] }, { data: data.ytrn.subarray(0, n), shape: [n] }, 100, { axis: 0 });
  const lenetPredict = (w: Tensor[], x0: Tensor) => {
    const x1 = K.pool(K.relu(K.add(K.conv4(w[0], x0), w[1])));
    const x2 = K.pool(K.relu(K.add(K.conv4(w[2], x1), w[3])));
    const x3 = K.relu(K.add(K.matmul(w[4], K.mat(x2), false, true), w[5]));
    return K.add(K.matmul(w[6], x3), w[7]);
  };
  const lenetGrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(lenetPredict(w, x), y));
  const lenetRun = (t: number) => {
    K.setSeed(1);
    const w = [u(20, 1, 5, 5), K.zeros(1, 20, 1, 1), u(50, 20, 5, 5), K.zeros(1, 50, 1, 1), u(500, 800), K.zeros(500, 1), u(10, 500), K.zeros(10, 1)];
    const opts = K.optimizers(w, K.Sgd, { lr: 0.1 });
    const t0 = performance.now();
    let last = 0;
    for (const [x, y] of lenetData) { const [g, l] = lenetGrad(w, x, y); K.update(w, g, opts); last = l.item(); l.dispose(); }
    const s = ((performance.now() - t0) / 1000) * (600 / o.lenetBatches);
    losses.lenet[t - 1].push(last);
    w.forEach((x) => x.dispose());
    return s;
  };

  // CharLM: examples/charlm.ts's model and loss (the folded embedding), Adam lr 0.002, gclip 5
  const vocab = vocabulary(text);
  const ws = windows(encode(text, vocab), 128, 100).slice(0, 1 + o.windows);
  const lossgrad = K.gradloss(charLoss);
  const charRun = (t: number) => {
    K.setSeed(1);
    const model = initModel(vocab.length, 256, 256, 1);
    const opts = K.optimizers(model, K.Adam, { lr: 0.002, gclip: 5 });
    let state: State | null = null;
    const times: number[] = [];
    let last = 0;
    ws.forEach((win, i) => {
      const x = K.tensor(win.x, [100, 128], { dtype: 'int32' }), y = K.tensor(win.y, [100 * 128], { dtype: 'int32' });
      const out: { state?: State } = {};
      const t0 = performance.now();
      const [g, l] = lossgrad(model, x, y, state, out);
      K.update(model, g, opts);
      last = l.item();
      if (i > 0) times.push((performance.now() - t0) / 1000); // window 0 warms up
      l.dispose(); x.dispose(); y.dispose();
      disposeState(state);
      state = { h: out.state!.h.map((h) => K.copy(h)), c: out.state!.c.map((c) => K.copy(c)) };
      disposeState(out.state);
    });
    disposeState(state);
    losses.charlm[t - 1].push(last);
    return median(times);
  };

  let warm = false;
  const round = async () => {
    for (const k of Object.keys(losses)) losses[k] = [[], []];
    const result: Record<'mlp' | 'lenet' | 'charlm', [number, number]> = { mlp: [0, 0], lenet: [0, 0], charlm: [0, 0] };
    for (const [key, f, reps] of [['mlp', mlpEpoch, o.mlpEpochs], ['lenet', lenetRun, 1], ['charlm', charRun, 1]] as const) {
      if (!warm) { await K.setThreads(1); f(1); } // warm-up (JIT, pools)
      const t1: number[] = [], t2: number[] = [];
      for (let r = 0; r < reps; r++) {
        await K.setThreads(1); t1.push(f(1));
        await K.setThreads(2); t2.push(f(2));
      }
      result[key] = [median(t1), median(t2)];
    }
    warm = true;
    await K.setThreads(2);
    const same = Object.values(losses).every(([a, b]) => [...a, ...b].every((v) => Object.is(v, a[0])));
    if (!same) console.log('losses (1 thread, 2 threads):', JSON.stringify(losses));
    const last = { mlp: losses.mlp[0][0], lenet: losses.lenet[0][0], charlm: losses.charlm[0][0] };
    return { ...result, same, last };
  };
  return Object.assign(round, { mlpEpoch, lenetRun, charRun });
}

// PyTorch: the same three workloads, alternating 1 and 2 threads in one process.
const TORCH = String.raw`
import json, sys, time
import numpy as np, torch, torch.nn.functional as F
${PY_BLAS}
xfile, yfile, textfile, lenet_batches, windows, mlp_epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
X = torch.from_numpy(np.fromfile(xfile, dtype=np.float32).reshape(-1, 784))
Y = torch.from_numpy(np.fromfile(yfile, dtype=np.int32).astype(np.int64))
B = 100
mlp_data = [(X[i*B:(i+1)*B].contiguous(), Y[i*B:(i+1)*B].contiguous()) for i in range(600)]
img = X.view(-1, 1, 28, 28)
lenet_data = [(img[i*B:(i+1)*B].contiguous(), Y[i*B:(i+1)*B].contiguous()) for i in range(lenet_batches)]

def u(g, *s): return (torch.rand(*s, generator=g) * 0.2 - 0.1).requires_grad_()
def z(*s): return torch.zeros(*s, requires_grad=True)
def sgd(w, lr):
    with torch.no_grad():
        for p in w:
            p -= lr * p.grad
            p.grad = None

def mlp():
    g = torch.Generator().manual_seed(1)
    w = [u(g, 64, 784), z(64), u(g, 10, 64), z(10)]
    t0 = time.perf_counter()
    for x, y in mlp_data:
        loss = F.cross_entropy(F.linear(F.relu(F.linear(x, w[0], w[1])), w[2], w[3]), y)
        loss.backward(); sgd(w, 0.1); loss.item()
    return time.perf_counter() - t0

def lenet():
    g = torch.Generator().manual_seed(1)
    w = [u(g, 20, 1, 5, 5), z(20), u(g, 50, 20, 5, 5), z(50), u(g, 500, 800), z(500), u(g, 10, 500), z(10)]
    t0 = time.perf_counter()
    for x, y in lenet_data:
        x1 = F.max_pool2d(F.relu(F.conv2d(x, w[0], w[1])), 2)
        x2 = F.max_pool2d(F.relu(F.conv2d(x1, w[2], w[3])), 2)
        loss = F.cross_entropy(F.linear(F.relu(F.linear(x2.flatten(1), w[4], w[5])), w[6], w[7]), y)
        loss.backward(); sgd(w, 0.1); loss.item()
    return (time.perf_counter() - t0) * 600 / lenet_batches

text = open(textfile, encoding='utf-8').read()
vocab = sorted(set(text)); index = {c: i for i, c in enumerate(vocab)}
ids = torch.tensor([index[c] for c in text], dtype=torch.long)
stream = len(ids) // 128
seq = ids[:stream * 128].view(128, stream).t().contiguous()
V = len(vocab)
def charlm():
    torch.manual_seed(1)
    emb, lstm, out = torch.nn.Embedding(V, 256), torch.nn.LSTM(256, 256), torch.nn.Linear(256, V)
    params = list(emb.parameters()) + list(lstm.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=0.002)
    state, times = None, []
    for k in range(1 + windows):
        x, y = seq[k * 100:(k + 1) * 100], seq[k * 100 + 1:(k + 1) * 100 + 1]
        t0 = time.perf_counter()
        ys, (h, c) = lstm(emb(x), state)
        loss = F.cross_entropy(out(ys).view(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True); loss.backward()
        for p in params: torch.nn.utils.clip_grad_norm_([p], 5.0)
        opt.step(); loss.item()
        if k > 0: times.append(time.perf_counter() - t0)
        state = (h.detach(), c.detach())
    return sorted(times)[len(times) // 2]

import re
blas = re.search(r'BLAS_INFO=([^,\s]+)', torch.__config__.show())
info = 'PyTorch %s, BLAS_INFO=%s, BLAS: %s, %s' % (torch.__version__, blas.group(1) if blas else '?', BLAS, torch.__config__.parallel_info().splitlines()[-1].strip())
work = {'mlp': mlp, 'lenet': lenet, 'charlm': charlm}
if len(sys.argv) > 7 and sys.argv[7] == 'serve':
    # one run per request line "<work> <threads>", answered "T <seconds>"; each work warmed up once
    print('READY ' + json.dumps(info), flush=True)
    warm = set()
    for line in sys.stdin:
        name, n = line.split()
        set_threads(int(n))
        if name not in warm: work[name](); warm.add(name)
        print('T %.6f' % work[name](), flush=True)
    sys.exit(0)
res = {}
for name, f, reps in [('mlp', mlp, mlp_epochs), ('lenet', lenet, 1), ('charlm', charlm, 1)]:
    set_threads(1); f()
    t = {1: [], 2: []}
    for _ in range(reps):
        for n in (1, 2):
            set_threads(n); t[n].append(f())
    res[name] = [sorted(t[1])[len(t[1]) // 2], sorted(t[2])[len(t[2]) // 2]]
res['info'] = info
print('RESULT ' + json.dumps(res))
`;

/** The python with torch, or null. */
function torchPython(): string | null {
  return ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
}
const NO_TORCH = 'skipped: no python3 with torch (Debian: apt-get install python3-torch)';

/** The PyTorch script's files in a fresh directory, its arguments, and its environment (an optimized BLAS where there is one). */
function torchFiles(data: Mnist, text: string, o: Work): { dir: string; argv: string[]; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'knet-threads-'));
  const file = (name: string, bytes: Uint8Array | string) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
  const raw = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { dir, env: { ...process.env, ...torchEnv() }, argv: [file('t.py', TORCH), file('x', raw(data.xtrn)), file('y', raw(data.ytrn)),
    file('text', text), String(o.lenetBatches), String(o.windows), String(o.mlpEpochs)] };
}

/** PyTorch's three workloads, or why they were skipped. */
function runTorch(data: Mnist, text: string, o: Work): Record<'mlp' | 'lenet' | 'charlm', [number, number]> & { info: string } | string {
  const py = torchPython();
  if (!py) return NO_TORCH;
  const { dir, argv, env } = torchFiles(data, text, o);
  try {
    const out = execFileSync(py, argv, { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'], env });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    return line ? JSON.parse(line.slice(7)) : `no result: ${out.slice(-300)}`;
  } catch (e) {
    return `failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A PyTorch process kept running for the duel: `run(work, threads)` has it run one epoch
 * (or window) and resolves to its seconds. Between requests it waits on its input.
 */
async function torchServer(data: Mnist, text: string, o: Work) {
  const py = torchPython();
  if (!py) return NO_TORCH;
  const { dir, argv, env } = torchFiles(data, text, o);
  const child = spawn(py, [...argv, 'serve'], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines: string[] = [];
  let waiting: ((l: string) => void) | null = null, buf = '';
  const ended = new Promise<void>((r) => child.on('close', () => r()));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0;) {
      const l = buf.slice(0, i); buf = buf.slice(i + 1);
      if (waiting) { const w = waiting; waiting = null; w(l); } else lines.push(l);
    }
  });
  child.on('close', () => waiting?.('EOF'));
  const next = () => lines.length ? Promise.resolve(lines.shift()!) : new Promise<string>((r) => { waiting = r; });
  const ready = await next();
  if (!ready.startsWith('READY ')) { child.kill(); rmSync(dir, { recursive: true, force: true }); return `failed: ${ready}`; }
  return {
    info: JSON.parse(ready.slice(6)) as string,
    async run(work: string, threads: number): Promise<number> {
      child.stdin.write(`${work} ${threads}\n`);
      const l = await next();
      if (!l.startsWith('T ')) throw new Error(`PyTorch: ${l}`);
      return Number(l.slice(2));
    },
    async close() { child.stdin.end(); await ended; rmSync(dir, { recursive: true, force: true }); },
  };
}
