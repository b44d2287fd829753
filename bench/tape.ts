// `npm run bench -- tape [--quick]`: the seed's "under the hood" table. The MLP with a
// quadratic loss on one MNIST epoch (600 batches of 100, 784-64-10): cumulative seconds
// after each forward op, then the same forward recorded on a tape, then with backprop.
// It measures what the tape costs: the seed's recording added 15% to the forward.
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { activeTapes, leaf, Tape } from '../ts/autograd/tape.js';
import { parseBenchArgs } from './harness/args.js';
import { markdownTable } from './harness/markdown.js';
import { summarize } from './harness/stats.js';

type Step = (w: Tensor[], x: Tensor, y: Tensor, upto: number) => Tensor;

// a1=w1*x, a2=w2.+a1, a3=max(0,a2), a4=w3*a3, a5=w4.+a4, a6=a5-y, a7=sumabs2(a6)
const OPS = ['a1=w1*x', 'a2=w2.+a1', 'a3=max(0,a2)', 'a4=w3*a3', 'a5=w4.+a4', 'a6=a5-y', 'a7=sumabs2(a6)'];
const forward: Step = (w, x, y, upto) => {
  const f = [
    (a: Tensor) => K.matmul(w[0], a), (a: Tensor) => K.add(w[1], a), (a: Tensor) => K.relu(a),
    (a: Tensor) => K.matmul(w[2], a), (a: Tensor) => K.add(w[3], a), (a: Tensor) => K.sub(a, y),
    (a: Tensor) => K.sumabs2(a),
  ];
  let a = x;
  for (let i = 0; i < upto; i++) a = f[i](a);
  return a;
};

function epoch(batches: [Tensor, Tensor][], body: (x: Tensor, y: Tensor) => void): number {
  const t0 = performance.now();
  for (const [x, y] of batches) body(x, y);
  return (performance.now() - t0) / 1000;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseBenchArgs(argv);
  const repeats = args.quick ? 3 : 9;
  const data = await K.mnist();
  K.setSeed(1);
  const xs = K.tidy(() => K.transpose(K.tensor(data.xtrn, [60000, 784])));
  const onehot = new Float32Array(10 * 60000);
  data.ytrn.forEach((c, j) => { onehot[c * 60000 + j] = 1; });
  const batches = K.minibatch(xs, { data: onehot, shape: [10, 60000] }, 100).batches;
  xs.dispose();
  const w = [K.mul(K.randn(64, 784), 0.1), K.zeros(64, 1), K.mul(K.randn(10, 64), 0.1), K.zeros(10, 1)];

  const rows: { name: string; run: () => number }[] = OPS.map((name, i) => ({
    name, run: () => epoch(batches, (x, y) => K.tidy(() => { forward(w, x, y, i + 1); })),
  }));
  rows.push({
    name: '+recording',
    run: () => epoch(batches, (x, y) => K.tidy(() => {
      // the forward with every op recorded on a tape, as grad runs it, without the backward
      const tape = new Tape();
      const boxed = w.map((p) => { const v = K.reshape(p, p.shape); leaf(v, tape); return v; });
      activeTapes.push(tape);
      try { forward(boxed, x, y, OPS.length); } finally { activeTapes.pop(); }
    })),
  });
  const lossgrad = K.grad((w: Tensor[], x: Tensor, y: Tensor) => forward(w, x, y, OPS.length));
  rows.push({ name: '+backprop', run: () => epoch(batches, (x, y) => { for (const g of lossgrad(w, x, y)) g.dispose(); }) });

  for (const r of rows) r.run(); // warm-up
  const times = rows.map(() => [] as number[]);
  for (let k = 0; k < repeats; k++) rows.forEach((r, i) => times[i].push(r.run())); // interleaved
  const med = times.map((t) => summarize(t));
  const fwd = med[OPS.length - 1].median;
  console.log(`tape: MLP 784-64-10, quadratic loss, one epoch (600 batches of 100), cpu (${K.simdLevel()}), median of ${repeats}\n`);
  console.log(markdownTable(['op', 'secs', 'spread', 'vs forward'], rows.map((r, i) => [
    r.name, med[i].median.toFixed(3), `${med[i].min.toFixed(3)}–${med[i].max.toFixed(3)}`, `${((med[i].median / fwd) * 100).toFixed(0)}%`,
  ]), ['l', 'r', 'r', 'r']));
  const rec = med[OPS.length].median / fwd - 1;
  console.log(`\nrecording adds ${(rec * 100).toFixed(1)}% to the forward (target: at most 10%; the seed: 15%); ` +
    `backprop brings the total to ${(med[OPS.length + 1].median / fwd).toFixed(2)}x the forward.`);
  for (const [x, y] of batches) { x.dispose(); y.dispose(); }
}
