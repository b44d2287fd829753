// The examples with --device gpu, run as users run them (a child process): the same
// numbers as on the cpu for housing, the MLP and the character model, the seed's accuracy
// for MNIST. Also LeNet on Fashion-MNIST on the cpu for a few batches (kept here with the
// other short example runs). LeNet with --device gpu runs on a few batches with --train and
// --test (all 10,000 test images take ~100 s per evaluation on lavapipe);
// test/gpu-lenet.test.ts also trains its model on the gpu in-process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpuOk } from './helpers/gpu.js';

function run(file: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'ignore'] });
}
const losses = (out: string) => [...out.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
const epochs = (out: string) => [...out.matchAll(/epoch (\d+): (?:loss (\d+\.\d+) )?trn (\d\.\d+) tst (\d\.\d+)/g)]
  .map((m) => ({ epoch: Number(m[1]), loss: m[2] === undefined ? NaN : Number(m[2]), trn: Number(m[3]), tst: Number(m[4]) }));

describe.skipIf(!gpuOk)('examples on the gpu', () => {
  it('housing --device gpu prints the cpu\'s losses', () => {
    const gpu = losses(run('examples/housing.ts', '--device', 'gpu'));
    const cpu = losses(run('examples/housing.ts'));
    expect(gpu.length).toBe(10);
    gpu.forEach((l, i) => expect(l).toBeCloseTo(cpu[i], 2));
  });
  it('mnist --device gpu: softmax reaches 90% test accuracy in one epoch', () => {
    const out = run('examples/mnist.ts', '--model', 'softmax', '--epochs', '1', '--device', 'gpu');
    expect(out).toMatch(/gpu \(/);
    expect(Number([...out.matchAll(/tst (\d\.\d+)/g)].at(-1)![1])).toBeGreaterThanOrEqual(0.9);
  });
  it('mnist --model mlp --device gpu: one epoch reaches 95% test accuracy, as on the cpu', () => {
    const args = ['examples/mnist.ts', '--model', 'mlp', '--epochs', '1'] as const;
    const gpu = run(...args, '--device', 'gpu'), cpu = run(...args);
    expect(gpu).toMatch(/mlp on mnist: 784-64-10, .*gpu \(/);
    const [g, c] = [epochs(gpu), epochs(cpu)];
    expect(g.map((e) => e.epoch)).toEqual([0, 1]);
    expect(g[1].tst).toBeGreaterThanOrEqual(0.95);
    expect(g[1].loss).toBeLessThan(0.5);
    expect(g[1].loss).toBeCloseTo(c[1].loss, 2);
    expect(Math.abs(g[1].tst - c[1].tst)).toBeLessThanOrEqual(0.005);
  }, 300_000);
  it('lenet --device gpu: a few batches train, with the cpu\'s loss', () => {
    const args = ['examples/lenet.ts', '--train', '300', '--test', '200', '--epochs', '2'] as const;
    const gpu = run(...args, '--device', 'gpu'), cpu = run(...args);
    expect(gpu).toMatch(/lenet on mnist: sgd lr=0.1, batch 100, 300 training examples \(200 test\), gpu \(/);
    const [g, c] = [epochs(gpu), epochs(cpu)];
    expect(g.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(g[2].loss).toBeLessThan(g[1].loss);
    expect(g[2].trn).toBeGreaterThan(g[0].trn);
    for (const i of [1, 2]) expect(g[i].loss, `epoch ${i}`).toBeCloseTo(c[i].loss, 2);
  }, 300_000);
  it('charlm --device gpu: a short run learns, with the cpu\'s losses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knet-gpu-charlm-'));
    const text = join(dir, 'short.txt');
    writeFileSync(text, 'the quick brown fox jumps over the lazy dog. '.repeat(30));
    const args = ['examples/charlm.ts', '--text', text, '--epochs', '4', '--batch', '4', '--seqlen', '20', '--embed', '16', '--hidden', '32', '--lr', '0.02'] as const;
    const per = (out: string) => [...out.matchAll(/epoch \d: loss (\d+\.\d+) per char/g)].map((m) => Number(m[1]));
    const gpu = run(...args, '--device', 'gpu'), cpu = run(...args);
    expect(gpu).toMatch(/; gpu\n/);
    const [g, c] = [per(gpu), per(cpu)];
    expect(g).toHaveLength(4);
    expect(g[3]).toBeLessThan(g[0] / 3);
    g.forEach((l, i) => expect(l, `epoch ${i + 1}`).toBeCloseTo(c[i], 2));
  }, 300_000);
});

describe('examples/lenet.ts --data fashion on the cpu, a few batches', () => {
  it('runs on Fashion-MNIST and learns: the loss falls, accuracy rises well above chance', () => {
    const out = run('examples/lenet.ts', '--data', 'fashion', '--train', '1000', '--epochs', '2');
    expect(out).toMatch(/lenet on fashion: sgd lr=0.1, batch 100, 1000 training examples, cpu/);
    const e = epochs(out);
    expect(e.map((x) => x.epoch)).toEqual([0, 1, 2]);
    expect(e[1].loss).toBeLessThan(Math.log(10));
    expect(e[2].loss).toBeLessThan(e[1].loss);
    expect(e[2].tst).toBeGreaterThan(0.4);
    expect(e[2].tst).toBeGreaterThan(e[0].tst + 0.2);
  }, 300_000);
});
