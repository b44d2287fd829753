// `npm pack` gives a tarball that installs in a fresh directory and works there,
// imported by its package name (Node) and by a path into node_modules (Deno).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = (spec: string) => `
import * as K from '${spec}';
const w = [K.zeros(2, 3), K.zeros(2, 1)];
const x = K.randn(3, 8), y = K.tensor(Int32Array.from([0,1,0,1,0,1,0,1]), [8]);
const lg = K.gradloss((w, x, y) => K.nll(K.add(K.matmul(w[0], x), w[1]), y));
const o = K.optimizers(w, K.Adam, { lr: 0.1 });
const first = lg(w, x, y)[1].item();
for (let i = 0; i < 30; i++) K.update(w, lg(w, x, y)[0], o);
console.log(JSON.stringify({ first, last: lg(w, x, y)[1].item(), simd: K.simdLevel() }));
`;

describe('npm pack', () => {
  it('installs from the tarball and trains, in Node and Deno', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knet-pack-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { encoding: 'utf8' });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, tgz)], { cwd: dir, encoding: 'utf8' });
    writeFileSync(join(dir, 'node.mjs'), script('knet'));
    const r = JSON.parse(execFileSync(process.execPath, ['node.mjs'], { cwd: dir, encoding: 'utf8' }));
    expect(r.last).toBeLessThan(r.first);
    const deno = resolve('node_modules/.bin/deno');
    if (existsSync(deno)) {
      writeFileSync(join(dir, 'deno.mjs'), script('./node_modules/knet/dist/index.js'));
      const d = JSON.parse(execFileSync(deno, ['run', '--allow-read', '--allow-env', 'deno.mjs'], { cwd: dir, encoding: 'utf8' }));
      expect(d.last).toBeLessThan(d.first);
    }
  });
});
