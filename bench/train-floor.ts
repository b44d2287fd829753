// `train` benchmark child: the floor as an epoch. Each step runs the f32x4 FMA peak loop
// (bench/peak.ts; mul+add where the runtime lacks relaxed SIMD) for as many flops as one
// training step of the model has matmul flops, so an "epoch" is the time this machine
// needs, right now, for the epoch's arithmetic at its peak. The parent runs it in the
// same rotation as the frameworks: on a shared machine whose speed drifts, the floor is
// then measured under the same load as the epochs it is compared with, not only once
// at the start and end of the run.
import { enableRelaxedSimd, peakLoop } from './peak.js';
import { BATCH, NTRAIN, childArgs, drive, epochFlops } from './train-common.js';

const args = childArgs();
if (args.model !== 'softmax' && args.model !== 'mlp') throw new Error(`train-floor: no floor for --model ${args.model} (softmax or mlp)`);
const fma = await enableRelaxedSimd();
const loop = await peakLoop(fma ? 'fma' : 'muladd');
const nbatch = NTRAIN / BATCH;
const trips = Math.round(epochFlops(args.model).flops / nbatch / loop.flopsPerTrip);
loop.run(1 << 16); // compile and tier up before the warm-up epochs

await drive({
  nbatch,
  step: () => loop.run(trips),
  evaluate: () => NaN,
  framework: 'floor',
  info: `floor: the f32x4 ${fma ? 'FMA' : 'mul+add'} peak loop, ${trips} trips of ${loop.flopsPerTrip} flops per step`,
}, args, `floor ${args.model}`);
