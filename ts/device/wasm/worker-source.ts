// The source of a thread-pool worker, as a string: Node and Deno run it with
// `new Worker(src, { eval: true })` (node:worker_threads), browsers as a module worker from
// a Blob URL. A string, not a file beside this one, so the same code runs from the
// TypeScript sources (vitest, tsx), from dist/ and from a bundle, with no path to resolve.
//
// The worker instantiates the kernel module it is given over the shared memory, says it
// is ready, then loops: wait for its slot's sequence number to change, claim the task,
// call the named kernel export with the task's numeric arguments, report. A task the
// calling thread claimed first (it takes back parts that no worker has started) is
// skipped. The protocol
// and the slot layout are threads.ts's (the constants below must match it). It never
// touches memory outside its slot except through the kernels it is told to run, and
// instantiating the module writes only the module's constant data segments (identical
// bytes on every instantiation; the module has no start function).

/** Byte offsets inside a worker's slot of the control block (threads.ts mirrors them). */
export const SLOT = {
  BYTES: 1024,
  /** int32 indices from the slot's start */
  SEQ: 0, CLAIM: 16, DONE: 17, STATUS: 18, FN: 19, ARGC: 20, READY: 21, MSGLEN: 22, SEEN: 23,
  /** byte offset of the float64 arguments, and how many fit */
  ARGS: 128, MAX_ARGS: 32,
  /** byte offset of the UTF-16 error message, and how many code units fit */
  MSG: 384, MAX_MSG: 320,
  /** SEQ value that tells a worker to leave its loop; CLAIM value of a retired slot */
  STOP: -1, RETIRED: -2,
} as const;

/** Kernel name a test uses to make a worker throw (it is not a module export). */
export const FAULT_KERNEL = '__fault';
/** What it throws, in a worker or on the calling thread. */
export const FAULT_MESSAGE = 'the debug fault kernel ran (a test of worker failures)';

/**
 * Kernel name a test uses for a part that runs long and writes memory the whole time, as
 * a hung kernel might: __spin(ptr, n, ms) fills the n floats at byte address ptr with
 * 1, 2, 3, ... over and over for ms milliseconds (not a module export).
 */
export const SPIN_KERNEL = '__spin';

const core = `
'use strict';
const S = ${JSON.stringify(SLOT)};
async function main(d, post) {
  const memory = d.memory;
  const text = (p) => {
    if (!p) return '';
    const n = new Uint32Array(memory.buffer, p - 4, 1)[0] >>> 1;
    return String.fromCharCode(...new Uint16Array(memory.buffer, p, n));
  };
  let fns;
  try {
    const env = {
      memory,
      abort(msg, file, line, col) { throw new Error('knet kernel abort: ' + text(msg) + ' at ' + text(file) + ':' + line + ':' + col); },
    };
    const instance = await WebAssembly.instantiate(d.module, { env });
    const spin = (ptr, n, ms) => {
      const f32 = new Float32Array(memory.buffer), end = performance.now() + ms;
      for (let v = 1; performance.now() < end; v++) f32.fill(v, ptr >> 2, (ptr >> 2) + n);
    };
    fns = d.names.map((name) => name === ${JSON.stringify(FAULT_KERNEL)}
      ? () => { throw new Error(${JSON.stringify(FAULT_MESSAGE)}); }
      : name === ${JSON.stringify(SPIN_KERNEL)} ? spin : instance.exports[name]);
  } catch (e) {
    post({ error: String((e && e.message) || e) });
    return;
  }
  // The slot lies below the heap, inside the memory's first pages, so views made now stay
  // valid when the memory grows (a shared buffer is never detached).
  const i32 = new Int32Array(memory.buffer), f64 = new Float64Array(memory.buffer);
  const u16 = new Uint16Array(memory.buffer);
  const at = d.slot >> 2, args = (d.slot + S.ARGS) >> 3, msg = (d.slot + S.MSG) >> 1;
  const SEQ = at + S.SEQ, CLAIM = at + S.CLAIM, DONE = at + S.DONE;
  let seen = Atomics.load(i32, SEQ);
  // A Web Lock held for the worker's whole life, where there are Web Locks: in a browser
  // the page's sentinel is granted it when this thread ends (sentinel-source.ts; only a
  // lock held is watched); in Deno it is what lets terminate() stop this thread in the
  // middle of a kernel (Deno 2.9: a worker holding none ran on after terminate(), another
  // 6-9 products of 1024³ in 0.5 s; one holding a lock stopped at once).
  let locked = false;
  if (d.lock && typeof navigator !== 'undefined' && navigator.locks) {
    try {
      await new Promise((held, fail) => { navigator.locks.request(d.lock, () => { held(); return new Promise(() => {}); }).catch(fail); });
      locked = true;
    } catch { /* no lock: this worker's death is found by its events and the timeouts */ }
  }
  Atomics.store(i32, at + S.READY, 1);
  post({ ready: true, locked });
  const a = [];
  // Spin before sleeping: a training step hands out tasks back to back, and waking from
  // Atomics.wait costs far more than the spin. But a task the caller took back although
  // this worker was spinning means the OS did not run it (more threads than free cores):
  // then spinning only takes the core from the caller, so the budget halves; each task
  // this worker does get doubles it again, up to d.spin.
  let spin = d.spin;
  for (;;) {
    let s = Atomics.load(i32, SEQ), slept = false;
    for (let k = spin; s === seen && k > 0; k--) s = Atomics.load(i32, SEQ);
    while (s === seen) { slept = true; Atomics.wait(i32, SEQ, seen); s = Atomics.load(i32, SEQ); }
    if (s === S.STOP) { Atomics.store(i32, at + S.READY, 0); return; }
    seen = s;
    Atomics.store(i32, at + S.SEEN, s); // alive: the caller tells a dead worker by this
    // Claim the task: CLAIM holds s - 1 until someone does. The caller may have claimed it
    // (it ran the part itself), or retired this slot (it gave up on this worker).
    const c = Atomics.compareExchange(i32, CLAIM, s - 1, s);
    if (c === S.RETIRED) return;
    if (c !== s - 1) { if (!slept) spin = Math.max(spin >> 1, 16); continue; }
    spin = Math.min(spin * 2, d.spin);
    let status = 0;
    try {
      const n = i32[at + S.ARGC];
      a.length = n;
      for (let j = 0; j < n; j++) a[j] = f64[args + j];
      fns[i32[at + S.FN]](...a);
    } catch (e) {
      status = 1;
      const m = String((e && e.message) || e).slice(0, S.MAX_MSG);
      for (let j = 0; j < m.length; j++) u16[msg + j] = m.charCodeAt(j);
      i32[at + S.MSGLEN] = m.length;
    }
    i32[at + S.STATUS] = status;
    Atomics.store(i32, DONE, s); // publishes STATUS and the message too
    Atomics.notify(i32, DONE);
  }
}
`;

/** Worker source for node:worker_threads (Node, Deno): a CommonJS script given workerData. */
export function nodeWorkerSource(): string {
  return `${core}
const { workerData, parentPort } = require('node:worker_threads');
main(workerData, (m) => parentPort.postMessage(m));
`;
}

/** Worker source for a browser module worker: the start data comes as the first message. */
export function webWorkerSource(): string {
  return `${core}
self.onmessage = (e) => { self.onmessage = null; main(e.data, (m) => self.postMessage(m)); };
`;
}
