// `npm run bench -- tape [--quick] [--devices cpu,gpu] [--out dir]`: the seed's "under the
// hood" table, on each device. The MLP with a quadratic loss on one MNIST epoch (600
// batches of 100, 784-64-10): cumulative seconds after each forward op, then the same
// forward recorded on a tape, then with backprop. It measures what the tape costs: the
// seed's recording added 15% to the forward.
//
// Protocol: the batches and the weights (the same for every device) are made, and moved
// to the device, before any timing. Per device: one untimed warm-up pass of every row
// (compiles, tiers up, fills the pools), then `repeats` rounds that run every row once, in
// order (interleaved, so load from elsewhere falls on every row alike); a figure is the
// median of its rounds, with their range. Every pass ends by reading back its last result:
// on the gpu, whose ops only queue work, that waits for the queue, so the pass's work is
// all counted. The devices run one after the other (cpu first).
//
// Output: the Markdown on stdout; bench/results/tape.{json,md,svg} (--out).
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { activeTapes, leaf, Tape } from '../ts/autograd/tape.js';
import { parseBenchArgs } from './harness/args.js';
import { machineInfo } from './harness/machine.js';
import { progress, progressDone } from './harness/progress.js';
import { writeResults } from './harness/report.js';
import { summarize } from './harness/stats.js';
import { TAPE_OPS, type TapeDevice, type TapeReport, tapeChart, tapeDevice, tapeMarkdown } from './tape-report.js';

const DEVICES = ['cpu', 'gpu'] as const;
type Dev = typeof DEVICES[number];

// a1=w1*x, a2=w2.+a1, a3=max(0,a2), a4=w3*a3, a5=w4.+a4, a6=a5-y, a7=sumabs2(a6)
function forward(w: Tensor[], x: Tensor, y: Tensor, upto: number): Tensor {
  const f = [
    (a: Tensor) => K.matmul(w[0], a), (a: Tensor) => K.add(w[1], a), (a: Tensor) => K.relu(a),
    (a: Tensor) => K.matmul(w[2], a), (a: Tensor) => K.add(w[3], a), (a: Tensor) => K.sub(a, y),
    (a: Tensor) => K.sumabs2(a),
  ];
  let a = x;
  for (let i = 0; i < upto; i++) a = f[i](a);
  return a;
}

/** One batch of a row: returns a tensor of its result, which the pass keeps until the next batch. */
type Step = (x: Tensor, y: Tensor) => Tensor;

/** The rows, in TAPE_ROWS order, for weights w. */
function rowSteps(w: Tensor[]): Step[] {
  const steps: Step[] = TAPE_OPS.map((_, i) => (x: Tensor, y: Tensor) => K.tidy(() => forward(w, x, y, i + 1)));
  // the forward with every op recorded on a tape, as grad runs it, without the backward
  steps.push((x, y) => K.tidy(() => {
    const tape = new Tape();
    const boxed = w.map((p) => { const v = K.reshape(p, p.shape); leaf(v, tape); return v; });
    activeTapes.push(tape);
    try { return forward(boxed, x, y, TAPE_OPS.length); } finally { activeTapes.pop(); }
  }));
  const lossgrad = K.grad((w: Tensor[], x: Tensor, y: Tensor) => forward(w, x, y, TAPE_OPS.length));
  steps.push((x, y) => {
    const g = lossgrad(w, x, y) as Tensor[];
    for (const t of g.slice(0, -1)) t.dispose();
    return g[g.length - 1];
  });
  return steps;
}

/** Seconds for one pass over the batches, ending with a readback of the last result. */
async function pass(batches: [Tensor, Tensor][], step: Step): Promise<number> {
  const t0 = performance.now();
  let last: Tensor | null = null;
  for (const [x, y] of batches) {
    const r = step(x, y);
    last?.dispose();
    last = r;
  }
  await last!.data();
  const seconds = (performance.now() - t0) / 1000;
  last!.dispose();
  return seconds;
}

/** Opens the gpu device (in Node: Dawn from the `webgpu` package); its description, or throws. */
async function openGpu(): Promise<string> {
  const info = await K.initGpu();
  return `WebGPU, adapter: ${[info.vendor, info.architecture, info.description].filter(Boolean).join(' / ')}`;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseBenchArgs(argv, { devices: DEVICES });
  if (args.rest.length) throw new Error(`tape: unknown option ${args.rest.join(' ')} (known: --quick, --devices, --out)`);
  if (args.only) throw new Error('tape: --only does not apply (one model)');
  const devices = (args.devices ?? [...DEVICES]) as Dev[];
  const repeats = args.quick ? 3 : 9;
  const t0 = performance.now();
  const say = (s: string) => progress(`tape [${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}`);
  const machine = machineInfo();

  say('loading MNIST and making the batches');
  const data = await K.mnist();
  K.setSeed(1);
  const xs = K.tidy(() => K.transpose(K.tensor(data.xtrn, [60000, 784], { device: 'cpu' })));
  const onehot = new Float32Array(10 * 60000);
  data.ytrn.forEach((c, j) => { onehot[c * 60000 + j] = 1; });
  const cpuBatches = K.minibatch(xs, { data: onehot, shape: [10, 60000] }, 100).batches as [Tensor, Tensor][];
  xs.dispose();
  const w0 = K.tidy(() => [K.mul(K.randn([64, 784], { device: 'cpu' }), 0.1), K.zeros([64, 1], { device: 'cpu' }),
    K.mul(K.randn([10, 64], { device: 'cpu' }), 0.1), K.zeros([10, 1], { device: 'cpu' })]);

  const results: TapeDevice[] = [];
  let adapter: string | null = null;
  for (const device of devices) {
    let where: string;
    if (device === 'gpu') {
      try { where = await openGpu(); } catch (e) {
        results.push({ device, error: (e as Error).message.split('\n')[0] });
        continue;
      }
      adapter = where.replace(/^.*adapter: /, '');
    } else {
      const threads = K.threads();
      where = `WebAssembly, ${K.simdLevel()} build, ${threads} thread${threads === 1 ? '' : 's'}`;
    }
    say(`${device}: moving the batches and weights there`);
    const batches: [Tensor, Tensor][] = device === 'cpu' ? cpuBatches : cpuBatches.map(([x, y]) => [x.to(device), y.to(device)]);
    const w = device === 'cpu' ? w0 : w0.map((p) => p.to(device));
    const steps = rowSteps(w);
    say(`${device}: warm-up (a pass of every row)`);
    for (const s of steps) await pass(batches, s);
    const times = steps.map(() => [] as number[]);
    for (let k = 0; k < repeats; k++) {
      say(`${device}: round ${k + 1}/${repeats} (a pass of every row)`);
      for (const [i, s] of steps.entries()) times[i].push(await pass(batches, s));
    }
    results.push(tapeDevice(device, where, times.map((t) => summarize(t))));
    if (device !== 'cpu') {
      for (const [x, y] of batches) { x.dispose(); y.dispose(); }
      for (const p of w) p.dispose();
    }
  }
  progressDone();

  const report: TapeReport = {
    suite: 'tape', date: new Date().toISOString(), mode: args.quick ? 'quick' : 'full', repeats,
    task: 'MLP 784-64-10, quadratic loss, one MNIST epoch (600 batches of 100)',
    protocol: 'Batches and weights made and moved to each device before timing; one untimed warm-up pass per row, then ' +
      `${repeats} interleaved rounds; median (min–max); every pass ends by reading its last result back (on the gpu: waiting for the queue).`,
    machine: { ...machine, adapter }, devices: results, seconds: (performance.now() - t0) / 1000,
  };
  const markdown = tapeMarkdown(report);
  console.log(markdown);
  const paths = writeResults(args.out, 'tape', report, markdown, tapeChart(report));
  console.log(`\nwrote ${paths.join(', ')} (total ${report.seconds.toFixed(0)} s)`);
  for (const [x, y] of cpuBatches) { x.dispose(); y.dispose(); }
  // Dawn keeps Node alive while a GPU object is referenced.
  if (devices.includes('gpu')) process.exit(0);
}
