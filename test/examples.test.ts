// The examples reach the seed's figures on the real bundled data (fewer epochs where the
// threshold still holds). They run as users run them, in a child process.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function run(file: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', timeout: 300_000 });
}
const lastTestAccuracy = (out: string) => Number([...out.matchAll(/tst (\d\.\d+)/g)].at(-1)![1]);

describe('examples', () => {
  it('housing: the loss falls from the hundreds to below 40 in 10 steps', () => {
    const losses = [...run('examples/housing.ts').matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(10);
    expect(losses[0]).toBeGreaterThan(100);
    expect(losses[9]).toBeLessThan(40);
    for (let i = 1; i < 10; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
  });
  it('mnist softmax: at least 90% test accuracy', () => {
    expect(lastTestAccuracy(run('examples/mnist.ts', '--model', 'softmax', '--epochs', '2'))).toBeGreaterThanOrEqual(0.9);
  });
  it('mnist mlp: at least 96% test accuracy', () => {
    expect(lastTestAccuracy(run('examples/mnist.ts', '--model', 'mlp', '--epochs', '3'))).toBeGreaterThanOrEqual(0.96);
  });
  it('mnist mlp with adam', () => {
    expect(lastTestAccuracy(run('examples/mnist.ts', '--model', 'mlp', '--epochs', '1', '--optimizer', 'adam', '--lr', '0.001'))).toBeGreaterThanOrEqual(0.9);
  });
  it('fashion-mnist (Debian\'s dataset-fashion-mnist, which .ci/run installs)', () => {
    const out = run('examples/mnist.ts', '--model', 'mlp', '--epochs', '1', '--data', 'fashion');
    expect(out).toMatch(/mlp on fashion/);
    expect(lastTestAccuracy(out)).toBeGreaterThanOrEqual(0.8);
  });
});
