// Run by Deno (test/platform.test.ts): a cpu pool worker is terminated 20 ms into its part
// of a big product while the calling thread waits for it. The thread must really stop (in
// Deno 2.9 a worker busy in a kernel ran on after terminate() unless it held a Web Lock,
// and went on writing the product after the op had thrown): the op throws at once, naming
// the op, nothing writes the output after that, and the device goes on with the threads
// left and with a replacement. Then a worker stopped at the busy timeout: Deno gives no
// sign that its thread has stopped, so the pool counts it ended 500 ms after terminate()
// (threads.ts, DENO_STOP_MS; a loaded machine ran one on for up to 19 ms), and it writes
// no more after that. Prints one JSON line.
import * as K from '../../dist/index.js';
import { cpuDevice } from '../../dist/device/cpu.js';

const bits = (t) => new Uint32Array(new Float32Array(t.dataSync()).buffer);
const same = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
const pool = cpuDevice.workers;
const warnings = [], warn = console.warn;
const r = { locks: typeof navigator !== 'undefined' && !!navigator.locks };
try {
  K.setSeed(3);
  const n = 1536, a = K.randn([n, n]), b = K.randn([n, n]), out = K.zeros(n, n);
  const sa = K.randn([300, 200]), sb = K.randn([200, 250]);
  await K.setThreads(1);
  const small = bits(K.matmul(sa, sb));
  r.started = await K.setThreads(3);
  pool.stealing = false; // the worker, not the caller, must run its part
  pool.timeouts.busyMs = 30_000; // what would end the wait if the death went unseen
  console.warn = (m) => warnings.push(String(m));
  r.message = null;
  pool.onHandOff = () => { pool.onHandOff = null; pool.crash(1, 20); };
  const t0 = performance.now();
  try { cpuDevice.matmul(false, false, a, b, out, n, n, n, 1, 0); } catch (e) { r.message = e.message; }
  r.took = performance.now() - t0;
  const atReturn = bits(out);
  await new Promise((res) => setTimeout(res, 500));
  r.quiet = same(bits(out), atReturn); // no thread wrote the output after the op returned
  r.left = K.threads();
  pool.stealing = true;
  r.afterSame = same(bits(K.matmul(sa, sb)), small);
  r.replaced = await K.setThreads(3);
  r.replacedSame = same(bits(K.matmul(sa, sb)), small);

  // A part that runs past the busy timeout (the debug spin kernel, writing y for 10 s): the
  // op throws and the worker is terminated; the pool holds back freed blocks until
  // DENO_STOP_MS after that (threads.ts, "Hung workers"), by when its thread has stopped.
  pool.stealing = false;
  pool.timeouts.busyMs = 50;
  const y = K.zeros(4096), p = cpuDevice.ptr(y), h = (r.hung = {});
  try {
    pool.run([{ fn: 'fill', args: [p, 16, 7] }, { fn: '__spin', args: [p + 64, 1024, 10_000] }, { fn: 'fill', args: [p + 8192, 16, 7] }], cpuDevice.k);
  } catch (e) { h.message = e.message; }
  h.settledAtThrow = pool.settled();
  const t1 = performance.now();
  while (!pool.settled() && performance.now() - t1 < 10_000) await new Promise((res) => setTimeout(res, 10));
  h.settledAfter = performance.now() - t1;
  const atSettled = bits(y);
  await new Promise((res) => setTimeout(res, 200));
  h.quiet = same(bits(y), atSettled);
  h.left = K.threads();
} catch (e) {
  r.error = String(e?.stack ?? e);
} finally {
  console.warn = warn;
  pool.onHandOff = null;
  pool.stealing = true;
  pool.timeouts.busyMs = 300_000;
}
r.warnings = warnings;
console.log(JSON.stringify(r));
