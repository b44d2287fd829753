// Builds the AssemblyScript kernels twice: plain SIMD128 and SIMD128 + relaxed SIMD.
// The loader picks one at run time by feature detection (see ts/device/wasm/module.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
mkdirSync(join(root, 'build'), { recursive: true });

const common = [
  'assembly/index.ts', '-O3', '--runtime', 'stub', '--importMemory',
  // Kernels never allocate: tensor storage lives in ranges of the imported memory
  // that TypeScript manages, so threads can later share it.
  '--noExportMemory', '--enable', 'simd',
];
for (const [out, extra] of [
  ['build/knet-simd.wasm', []],
  ['build/knet-relaxed.wasm', ['--enable', 'relaxed-simd']],
]) {
  execFileSync(process.execPath, [asc, ...common, ...extra, '-o', out], { cwd: root, stdio: 'inherit' });
  console.log('built', out);
}
