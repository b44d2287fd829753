// `npm run bench -- conv [--quick] [--threads 1,2]`: the cpu device's conv4 paths side by
// side, for padded stride-1 convolutions (the 3x3, padding 1 layers of small CNNs; one
// dilated): each
// kernel (forward, filter gradient, data gradient) with the padded copy of x
// (CONV_DIRECT.padded, docs/kernels.md "convdirect.ts") on and off by turns in one
// process, so that a slow minute of a shared host falls on both. A pair is 5 calls of each
// (after one untimed call); a cell is the median of the pairs' ratios (off / on: above 1,
// the copy is faster), with the copy's own time included, then the time per call with it.
import * as K from '../ts/index.js';
import { cpuDevice as dev } from '../ts/device/cpu.js';
import { CONV_DIRECT, convDirect } from '../ts/device/wasm/device.js';
import { convGeometry } from '../ts/nn/conv.js';
import { argValue } from './harness/args.js';
import { machineInfo } from './harness/machine.js';

const SHAPES: Array<[number[], number[], { padding: number; dilation?: number }]> = [
  [[64, 3, 32, 32], [16, 3, 3, 3], { padding: 1 }],
  [[64, 1, 28, 28], [8, 1, 3, 3], { padding: 1 }],
  [[64, 16, 16, 16], [16, 16, 3, 3], { padding: 1 }],
  [[64, 3, 32, 32], [32, 3, 5, 5], { padding: 2 }],
  [[64, 32, 16, 16], [32, 32, 3, 3], { padding: 1 }],
  [[64, 16, 16, 16], [16, 16, 3, 3], { padding: 2, dilation: 2 }],
];

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

export async function run(args: string[]): Promise<void> {
  const pairs = args.includes('--quick') ? 5 : 15;
  const threads = (argValue(args, '--threads') ?? '1,2').split(',').map(Number);
  const m = machineInfo();
  console.log(`machine: ${m.cpu} (family ${m.family} model ${m.model}), ${m.cores} cores; Node ${process.version}; ${pairs} pairs per cell\n`);
  console.log('| threads | x | w | padding | dilation | direct forward / filter | forward | filter gradient | data gradient |');
  console.log('|---:|---|---|---:|---:|---|---:|---:|---:|');
  for (const t of threads) {
    await K.setThreads(t);
    for (const [xs, ws, opts] of SHAPES) {
      const x = K.rand(xs), w = K.rand(ws), g = convGeometry(w, x, opts);
      const y = K.zeros(g.N, g.O, g.Ho, g.Wo), dy = K.rand([g.N, g.O, g.Ho, g.Wo]), dw = K.zeros(...ws), dx = K.zeros(...xs);
      const d = convDirect(g);
      const kernels = [() => dev.conv4(w, x, y, g), () => dev.conv4Filter(x, dy, dw, g), () => dev.conv4Data(w, dy, dx, g)];
      const ms = (f: () => void, padded: boolean) => {
        CONV_DIRECT.padded = padded;
        try {
          f();
          const t0 = performance.now();
          for (let i = 0; i < 5; i++) f();
          return (performance.now() - t0) / 5;
        } finally { CONV_DIRECT.padded = true; }
      };
      const cells = kernels.map((f) => {
        const ratios: number[] = [], on: number[] = [];
        for (let s = 0; s < pairs; s++) {
          let with_ = 0, without = 0; // which side goes first alternates
          if (s & 1) { with_ = ms(f, true); without = ms(f, false); } else { without = ms(f, false); with_ = ms(f, true); }
          ratios.push(without / with_); on.push(with_);
        }
        return `${median(ratios).toFixed(2)}x (${median(on).toFixed(2)} ms)`;
      });
      console.log(`| ${t} | [${xs.join(', ')}] | [${ws.join(', ')}] | ${opts.padding} | ${opts.dilation ?? 1} | ${d.forward ? 'yes' : 'no'} / ${d.filter ? 'yes' : 'no'} | ${cells.join(' | ')} |`);
      for (const a of [x, w, y, dy, dw, dx]) a.dispose();
    }
  }
}
