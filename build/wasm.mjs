// Builds the AssemblyScript kernels four times: plain SIMD128 and SIMD128 + relaxed SIMD,
// each over an ordinary memory and over a shared one (`-mt`: `--sharedMemory --enable
// threads`) for the thread pool. The loader picks one at run time by feature detection
// (see ts/device/wasm/module.ts). The kernels are the same source in all four; the
// shared builds only declare their imported memory `shared` with a maximum (4 GiB), which
// a shared memory must have, and which a runtime without shared memory cannot instantiate.
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
  // that TypeScript manages, so threads can share it.
  '--noExportMemory', '--enable', 'simd',
];
// 65536 pages = 4 GiB, the wasm32 limit (MAX_PAGES in module.ts).
const shared = ['--sharedMemory', '--maximumMemory', '65536', '--enable', 'threads'];
for (const [out, extra] of [
  ['build/knet-simd.wasm', []],
  ['build/knet-relaxed.wasm', ['--enable', 'relaxed-simd']],
  ['build/knet-simd-mt.wasm', shared],
  ['build/knet-relaxed-mt.wasm', ['--enable', 'relaxed-simd', ...shared]],
]) {
  execFileSync(process.execPath, [asc, ...common, ...extra, '-o', out], { cwd: root, stdio: 'inherit' });
  console.log('built', out);
}
