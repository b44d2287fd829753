// The cpu device's thread pool: workers that each instantiate the kernel module over the
// device's shared WebAssembly.Memory and run kernel calls that the calling thread hands
// them. Ops stay synchronous: the caller writes each worker's task into a control block
// in shared memory, wakes the workers, runs its own part, and waits for theirs.
//
// Control block: one SLOT.BYTES slot per worker (worker-source.ts has the layout). The
// caller owns SEQ, FN, ARGC and the arguments; the worker owns DONE, STATUS, SEEN and the
// message. A task is: write FN/ARGC/args, Atomics.store(SEQ, seq), Atomics.notify. Whoever
// moves CLAIM from seq - 1 to seq (compare-exchange) runs it: the worker, or the caller
// itself once its own part is done and the worker has not started (asleep, or not given a
// core by the OS). So a part never waits for a worker to wake up: on a loaded machine the
// threaded path costs little more than one thread. The worker writes STATUS (and a message
// if the kernel threw), then Atomics.store(DONE, seq) + notify. SEQ and the caller-written
// fields sit on a different cache line from the worker-written ones.
//
// Waiting (for a part a worker did claim): Atomics.wait where the calling thread may block
// (Node and Deno, and any worker thread), a spin on Atomics.load on a browser's main
// thread (which may not block). Both sides spin briefly first: back-to-back ops then hand
// off in about a microsecond.
//
// Faults: a kernel that throws in a worker is caught there and reported, and the op
// throws on the calling thread after every part has finished (no worker is left writing
// into memory the next op may use); the worker stays in the pool. A worker that has not
// even looked at its slot (SEEN) for `pickupMs` while the caller kept taking its parts back
// is taken for dead: its slot is retired (a late worker finds CLAIM retired and leaves),
// it is terminated, and a one-line warning says so; the ops themselves were complete. A
// claimed part that runs past `busyMs` terminates the worker the same way, and that op
// throws (its result is incomplete). Events cannot run while the caller blocks, so these
// checks, not 'exit' events, are what detect a dead worker.

import { runtime } from '../../runtime.js';
import type { WasmModule } from './module.js';
import { FAULT_KERNEL, SLOT, nodeWorkerSource, webWorkerSource } from './worker-source.js';

/** Kernel exports that workers can run, by task id. Only these are threaded. */
export const KERNELS = [
  'gemmBlock', 'gemmRowsBlock', 'gemmDotBlock', 'conv4ForwardImages', 'conv4BackwardDataImages', 'conv4BackwardFilterTaps',
  'poolForwardPlanes', 'poolBackwardPlanes', 'unary', 'binaryScalar', 'binaryOuter', 'fill',
  'i32ToF32', 'reduceRange', 'softmaxRange', 'optimStepScaled', 'lstmForward', 'lstmBackwardCols',
  'dropout', FAULT_KERNEL,
] as const;
export type KernelName = typeof KERNELS[number];
const KERNEL_ID = new Map<string, number>(KERNELS.map((k, i) => [k, i]));

/** Most workers a pool will start (the control block is sized for them). */
export const MAX_WORKERS = 63;

/** Iterations of Atomics.load before a thread sleeps (roughly 50 µs; see docs/design.md). */
const WORKER_SPIN = 20000;
const CALLER_SPIN = 20000;

interface Handle {
  slot: number;            // byte address of the slot
  seq: number;             // last task number handed out
  ready: boolean;
  dead: boolean;
  seen: number;            // the worker's SEEN when last checked, and when that was (ms)
  seenAt: number;
  stop(): void;            // terminates the worker
}

/** A call to run on one thread: a kernel and its numeric arguments. */
export interface Part { fn: KernelName; args: number[] }

export class ThreadPool {
  /** Bytes of control block the device reserves for the pool. */
  static readonly BYTES = MAX_WORKERS * SLOT.BYTES;

  /** Threads that ops may use, the caller included (setThreads). */
  private target = 1;
  private handles: Handle[] = [];
  private starting: Promise<void> | null = null;
  private i32: Int32Array;
  private f64: Float64Array;
  private u16: Uint16Array;
  private readonly canBlock: boolean;
  /** Fault-detection timeouts in milliseconds (tests shorten them). */
  timeouts = { pickupMs: 10_000, busyMs: 300_000 };
  /** Whether the caller takes back parts no worker has started (tests turn it off). */
  stealing = true;
  /** Counters since the pool started: ops run threaded, parts handed to workers, parts taken back. */
  readonly stats = { ops: 0, handed: 0, takenBack: 0 };

  constructor(private mod: WasmModule, private ctl: number) {
    // The control block lies in the memory's first pages: these views stay valid as it grows.
    this.i32 = new Int32Array(mod.memory.buffer);
    this.f64 = new Float64Array(mod.memory.buffer);
    this.u16 = new Uint16Array(mod.memory.buffer);
    this.canBlock = canBlock();
  }

  /** Threads ops use now: the target, counting only workers that are ready. */
  threads(): number {
    let ready = 0;
    for (const h of this.handles) if (h.ready && !h.dead) ready++;
    return Math.min(this.target, 1 + ready);
  }

  /** The number of threads asked for (threads() may be lower while workers start). */
  wanted(): number { return this.target; }

  /**
   * Uses n threads (the caller and n - 1 workers) from now on, starting the workers that
   * are missing; resolves when they are ready. Fewer threads take effect at once (idle
   * workers sleep in Atomics.wait and cost nothing).
   */
  async setThreads(n: number, startTimeoutMs = 30_000): Promise<number> {
    this.target = n;
    while (this.live() < Math.min(n - 1, MAX_WORKERS)) {
      this.starting ??= this.start(Math.min(n - 1, MAX_WORKERS) - this.live(), startTimeoutMs)
        .finally(() => { this.starting = null; });
      await this.starting;
    }
    return this.threads();
  }

  /** Workers started and not dead. */
  private live(): number { return this.handles.filter((h) => !h.dead).length; }

  private async start(count: number, timeoutMs: number): Promise<void> {
    const names = [...KERNELS];
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const index = this.handles.length;
      if (index >= MAX_WORKERS) break;
      const slot = this.ctl + index * SLOT.BYTES;
      new Uint8Array(this.mod.memory.buffer, slot, SLOT.BYTES).fill(0);
      const data = { module: this.mod.module, memory: this.mod.memory, slot, names, spin: WORKER_SPIN };
      const h: Handle = { slot, seq: 0, ready: false, dead: false, seen: 0, seenAt: 0, stop: () => {} };
      this.handles.push(h);
      jobs.push(spawn(data, h, timeoutMs));
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }

  /**
   * Runs parts[0] on the calling thread and parts[1..] on workers, and returns when all
   * are done. Throws the first failure (the caller's own, else a worker's) after all
   * parts have finished or their workers were given up.
   */
  run(parts: Part[], k: Record<string, (...a: number[]) => unknown>): void {
    const used: Handle[] = [];
    for (const h of this.handles) {
      if (used.length === parts.length - 1) break;
      if (h.ready && !h.dead) used.push(h);
    }
    const { i32 } = this;
    for (const p of parts) if (p.args.length > SLOT.MAX_ARGS) throw new Error(`knet cpu threads: ${p.fn} has too many arguments`);
    // Parts beyond the ready workers (one died since threads() was read) run here.
    const local = parts.length - used.length;
    for (let w = 0; w < used.length; w++) {
      const h = used[w], p = parts[local + w], at = h.slot >> 2;
      i32[at + SLOT.FN] = KERNEL_ID.get(p.fn)!;
      i32[at + SLOT.ARGC] = p.args.length;
      this.f64.set(p.args, (h.slot + SLOT.ARGS) >> 3);
      h.seq++;
      Atomics.store(i32, at + SLOT.SEQ, h.seq);
      Atomics.notify(i32, at + SLOT.SEQ, 1);
    }
    this.stats.ops++;
    this.stats.handed += used.length;
    let error: unknown = null;
    const call = (p: Part) => {
      try {
        if (p.fn === FAULT_KERNEL) throw new Error('the debug fault kernel ran (a test of worker failures)');
        k[p.fn](...p.args);
      } catch (e) { error ??= e; }
    };
    for (let i = 0; i < local; i++) call(parts[i]);
    for (let w = 0; w < used.length; w++) {
      const h = used[w], p = parts[local + w];
      if (this.stealing && Atomics.compareExchange(i32, (h.slot >> 2) + SLOT.CLAIM, h.seq - 1, h.seq) === h.seq - 1) {
        this.stats.takenBack++;
        call(p); // the worker had not started it: done here, as one thread would
        Atomics.store(i32, (h.slot >> 2) + SLOT.DONE, h.seq);
        this.checkAlive(h);
        continue;
      }
      const failure = this.wait(h, p.fn);
      error ??= failure;
    }
    if (error) throw error;
  }

  /**
   * After the caller took a part back: a worker that has not looked at its slot for
   * pickupMs (a live one looks within microseconds of a notify, or when the OS next runs
   * it) is dead. Retire it; the ops it missed were done here and are complete.
   */
  private checkAlive(h: Handle): void {
    const seen = Atomics.load(this.i32, (h.slot >> 2) + SLOT.SEEN), t = now();
    if (seen !== h.seen || !h.seenAt) { h.seen = seen; h.seenAt = t; return; }
    if (t - h.seenAt < this.timeouts.pickupMs) return;
    const index = this.handles.indexOf(h) + 1;
    Atomics.store(this.i32, (h.slot >> 2) + SLOT.CLAIM, SLOT.RETIRED);
    this.retire(h);
    console.warn(`knet: cpu worker ${index} has not answered for ${this.timeouts.pickupMs} ms and was stopped; ` +
      `the cpu device goes on with ${this.threads()} thread(s)`);
  }

  /**
   * Waits for a worker's current task (claimed by the worker, or, with stealing off, not
   * yet); returns the Error it ended with, or null.
   */
  private wait(h: Handle, fn: string): Error | null {
    const { i32 } = this;
    const at = h.slot >> 2, DONE = at + SLOT.DONE, seq = h.seq;
    for (let k = CALLER_SPIN; k > 0; k--) if (Atomics.load(i32, DONE) === seq) return this.outcome(h, fn);
    const started = now();
    while (Atomics.load(i32, DONE) !== seq) {
      if (this.canBlock) Atomics.wait(i32, DONE, seq - 1, 100);
      else for (let k = 0; k < 100000 && Atomics.load(i32, DONE) !== seq; k++) { /* spin */ }
      if (Atomics.load(i32, DONE) === seq) break;
      if (now() - started > this.timeouts.busyMs) {
        Atomics.store(i32, at + SLOT.CLAIM, SLOT.RETIRED);
        this.retire(h);
        return new Error(`knet cpu threads: worker ${this.handles.indexOf(h) + 1} did not finish its part of ${fn} ` +
          `within ${this.timeouts.busyMs} ms and was stopped; the op's result is incomplete. ` +
          `The device goes on with ${this.threads()} thread(s).`);
      }
    }
    return this.outcome(h, fn);
  }

  private outcome(h: Handle, fn: string): Error | null {
    const at = h.slot >> 2;
    if (this.i32[at + SLOT.STATUS] === 0) return null;
    const n = this.i32[at + SLOT.MSGLEN], m = (h.slot + SLOT.MSG) >> 1;
    const msg = String.fromCharCode(...this.u16.subarray(m, m + n));
    return new Error(`knet cpu threads: ${fn} failed in worker ${this.handles.indexOf(h) + 1}: ${msg}`);
  }

  private retire(h: Handle): void {
    h.dead = true;
    h.ready = false;
    try { h.stop(); } catch { /* already gone */ }
  }

  /**
   * Test hook: the index-th ready worker (0-based) leaves its loop and stops answering, as
   * if it had died, while the pool still counts it (its 'exit' event has not run yet): ops
   * must still complete, and the pool must find out through the pickup timeout.
   */
  kill(index: number): void {
    const h = this.handles.filter((x) => x.ready && !x.dead)[index];
    if (!h) return;
    const at = h.slot >> 2;
    Atomics.store(this.i32, at + SLOT.SEQ, SLOT.STOP);
    Atomics.notify(this.i32, at + SLOT.SEQ, 1);
    // it clears READY when it leaves; its last task number stays h.seq
    while (Atomics.load(this.i32, at + SLOT.READY) !== 0) if (this.canBlock) Atomics.wait(this.i32, at + SLOT.READY, 1, 10);
  }
}

function now(): number { return performance.now(); }

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch { return false; }
}

/** Starts one worker; resolves when it reports ready. */
async function spawn(data: Record<string, unknown>, h: Handle, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`knet cpu threads: a worker did not start within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (m: { ready?: boolean; error?: string }) => {
        if (m?.ready) { h.ready = true; resolve(); } else reject(new Error(`knet cpu threads: a worker failed to start: ${m?.error}`));
      };
      startWorker(data, h, onMessage, reject).catch(reject);
    });
  } catch (e) {
    h.dead = true;
    try { h.stop(); } catch { /* not started */ }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

async function startWorker(data: Record<string, unknown>, h: Handle,
                           onMessage: (m: any) => void, onError: (e: unknown) => void): Promise<void> {
  if (runtime === 'node' || runtime === 'deno') {
    // node:worker_threads in Deno too: it can unref() a worker, which Deno's Worker cannot.
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(nodeWorkerSource(), { eval: true, workerData: data });
    h.stop = () => { void w.terminate(); };
    w.on('error', onError);
    w.on('exit', () => { h.dead = true; h.ready = false; });
    w.once('message', (m) => {
      onMessage(m);
      // From now on the worker only talks through shared memory; it must not keep the
      // process alive once the user's work ends.
      w.unref();
    });
    return;
  }
  const url = URL.createObjectURL(new Blob([webWorkerSource()], { type: 'text/javascript' }));
  const w = new Worker(url, { type: 'module', name: 'knet-cpu' });
  h.stop = () => w.terminate();
  w.onerror = (e) => onError(new Error(e.message));
  w.onmessage = (e) => { URL.revokeObjectURL(url); onMessage(e.data); };
  w.postMessage(data);
}
