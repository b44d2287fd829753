// The examples with --device gpu, run as users run them (a child process): the same
// numbers as on the cpu for housing, the seed's accuracy for MNIST.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gpuOk } from './helpers/gpu.js';

function run(file: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'ignore'] });
}
const losses = (out: string) => [...out.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));

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
});
