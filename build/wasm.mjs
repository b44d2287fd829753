// Builds the AssemblyScript kernels once per target of asconfig.json: plain SIMD128
// (knet-simd) and SIMD128 + relaxed SIMD (knet-relaxed), each over an ordinary memory and
// over a shared one (the `-mt` twins: sharedMemory, maximumMemory 65536 pages = 4 GiB, the
// wasm32 limit and MAX_PAGES in module.ts, and the threads feature) for the thread pool. The
// loader picks one at run time by feature detection (see ts/device/wasm/module.ts).
//
// The flags live in asconfig.json only. What they do: -O3 (optimizeLevel 3, shrinkLevel
// 0); the stub runtime; importMemory with noExportMemory, because kernels never allocate:
// tensor storage lives in ranges of the imported memory that TypeScript manages, so threads
// can share it. The kernels are the same source in all four; the shared builds only declare
// their imported memory `shared` with a maximum, which a shared memory must have, and which
// a runtime without shared memory cannot instantiate.
//
// `node build/wasm.mjs` builds every target; `node build/wasm.mjs knet-simd ...` only those
// named. By hand: `npx asc --config asconfig.json --target knet-simd`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const { targets } = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
mkdirSync(join(root, 'build'), { recursive: true });

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in targets)) throw new Error(`build/wasm.mjs: no target '${name}' in asconfig.json (targets: ${Object.keys(targets).join(', ')})`);
}
for (const [name, target] of Object.entries(targets)) {
  if (wanted.length && !wanted.includes(name)) continue;
  execFileSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', name], { cwd: root, stdio: 'inherit' });
  console.log('built', target.outFile);
}
