// The examples reach the seed's figures on the real bundled data (fewer epochs where the
// threshold still holds). They run as users run them, in a child process.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Fashion-MNIST is not bundled: the example finds Debian's dataset-fashion-mnist (which .ci/run
// installs) or a copy under $KNET_DATA/fashion-mnist. Without either it would try a download,
// so the test skips, saying why, as test/data.test.ts's loader test does.
const FASHION_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
const fashionDirs = ['/usr/share/datasets/fashion-mnist', ...(process.env.KNET_DATA ? [join(process.env.KNET_DATA, 'fashion-mnist')] : [])];
const fashionHere = fashionDirs.some((d) => FASHION_FILES.every((f) => existsSync(join(d, f))));
if (!fashionHere) {
  console.log(`[fashion-mnist example skipped] Debian's dataset-fashion-mnist is not installed (no ${fashionDirs.join(' or ')} ` +
    `with the four IDX files); \`apt install dataset-fashion-mnist\` or set KNET_DATA to a root holding fashion-mnist/ to run it.`);
}

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
  it.skipIf(!fashionHere)('fashion-mnist (Debian\'s dataset-fashion-mnist, which .ci/run installs)', () => {
    const out = run('examples/mnist.ts', '--model', 'mlp', '--epochs', '1', '--data', 'fashion');
    expect(out).toMatch(/mlp on fashion/);
    expect(lastTestAccuracy(out)).toBeGreaterThanOrEqual(0.8);
  });
});
