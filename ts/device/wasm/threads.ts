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
// into memory the next op may use); the worker stays in the pool.
//
// A worker that dies (its thread ends: 'error' and 'exit' events in node:worker_threads,
// 'error' in a web worker) is marked DIED in its slot. Its events reach the calling thread
// only when that thread is free, so while an op waits, the sentinel (sentinel-source.ts, a
// thread that never blocks; in browsers it learns of a death through a Web Lock the worker
// held) sets DIED and wakes the waiter. The wait then ends at once: a part the dead worker
// had not claimed runs on the caller (the op is complete); a part it had claimed and not
// finished makes the op throw, naming the op
// (its result is incomplete). Either way the worker is retired (its slot marked so that it
// can never claim again, its thread terminated) with a one-line warning, and the device
// goes on with one thread fewer; `await setThreads(n)` starts a replacement.
//
// Hung workers: one that has not even looked at its slot (SEEN) for `pickupMs` while the
// caller kept taking its parts back is taken for dead and retired the same way (the ops
// were complete); a claimed part that runs past `busyMs` retires the worker and that op
// throws. These timeouts are also all a page without Web Locks has for a worker that dies
// during an op.
//
// A worker stopped that way may not stop at once: Chromium ends a busy worker only ~2 s
// after terminate(), and only once the page's main thread is free; a loaded Deno ran one
// on for up to 19 ms. Until its thread has ended (the sentinel sets ENDED; in Node its
// 'exit' event says so; Deno has no such sign, so there it also waits DENO_STOP_MS after
// terminate()) it may go on writing where its part writes: the op's output, a packing
// scratch, the kernel's metadata. So the pool reports it (`onLoose`, `settled`) and the
// device reuses no memory until then (device.ts, `discard`).

import { runtime } from '../../runtime.js';
import type { WasmModule } from './module.js';
import { DIED, ENDED, nodeSentinelSource, webSentinelSource } from './sentinel-source.js';
import { FAULT_KERNEL, FAULT_MESSAGE, SLOT, SPIN_KERNEL, nodeWorkerSource, webWorkerSource } from './worker-source.js';

/** Kernel exports that workers can run, by task id. Only these are threaded. */
export const KERNELS = [
  'gemmBlock', 'gemmRowsBlock', 'gemmDotBlock', 'gemmSlices', 'conv4ForwardImages', 'conv4BackwardDataImages', 'conv4BackwardFilterTaps',
  'convDirectForwardImages', 'convDirectFilterUnits', 'convPadImages', 'convCropImages',
  'poolForwardPlanes', 'poolBackwardPlanes', 'unary', 'binaryScalar', 'binaryOuter', 'fill',
  'i32ToF32', 'reduceRange', 'softmaxRange', 'optimStepScaled', 'lstmForward', 'lstmBackwardCols',
  'dropout', FAULT_KERNEL, SPIN_KERNEL,
] as const;
export type KernelName = typeof KERNELS[number];
const KERNEL_ID = new Map<string, number>(KERNELS.map((k, i) => [k, i]));

/** The op each kernel is a part of, for error messages. */
const OP_OF: Record<KernelName, string> = {
  gemmBlock: 'matmul', gemmRowsBlock: 'matmul', gemmDotBlock: 'matmul', gemmSlices: 'matmul', conv4ForwardImages: 'conv4', conv4BackwardDataImages: 'the conv4 data gradient',
  conv4BackwardFilterTaps: 'the conv4 filter gradient', convDirectForwardImages: 'conv4', convDirectFilterUnits: 'the conv4 filter gradient', convPadImages: 'conv4 (its padded input)', convCropImages: 'the conv4 data gradient (its crop)',
  poolForwardPlanes: 'pool', poolBackwardPlanes: 'the pool gradient',
  unary: 'an elementwise op', binaryScalar: 'an elementwise op with a scalar', binaryOuter: 'a broadcasting op',
  fill: 'fill', i32ToF32: 'an int-to-float copy', reduceRange: 'a reduction', softmaxRange: 'softmax',
  optimStepScaled: 'an optimizer step', lstmForward: 'the LSTM cell', lstmBackwardCols: 'the LSTM cell gradient',
  dropout: 'dropout', [FAULT_KERNEL]: 'the debug fault kernel', [SPIN_KERNEL]: 'the debug spin kernel',
};
const opName = (fn: string) => `${OP_OF[fn as KernelName] ?? fn} (kernel ${fn})`;

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
  locked: boolean;         // it holds its Web Lock (worker-source.ts)
  loose: boolean;          // stopped in the middle of a part; its thread may not have ended
  ended: boolean;          // its thread is known to have ended (its 'exit' event)
  stoppedAt: number;       // when it was terminated (ms), for Deno's grace (settled())
  stop(): void;            // terminates the worker
  crash(): void;           // the same, for the crash() test hook (the pool is not told)
}

/**
 * The sentinel thread: `watch` hands it one end of a worker's channel (Node and Deno) or
 * the name of the Web Lock the worker holds (browsers).
 */
interface Sentinel { watch(slot: number, port: unknown): void }

/** A call to run on one thread: a kernel and its numeric arguments. */
export interface Part { fn: KernelName; args: number[] }

export class ThreadPool {
  /** Bytes of control block the device reserves for the pool. */
  static readonly BYTES = MAX_WORKERS * SLOT.BYTES;

  /** Threads that ops may use, the caller included (setThreads). */
  private target = 1;
  private handles: Handle[] = [];
  private starting: Promise<void> | null = null;
  private sentinel: Sentinel | null = null;
  private i32: Int32Array;
  private f64: Float64Array;
  private u16: Uint16Array;
  private readonly canBlock: boolean;
  /** Fault-detection timeouts in milliseconds (tests shorten them). */
  timeouts = { pickupMs: 10_000, busyMs: 300_000, denoStopMs: DENO_STOP_MS };
  /** Whether the caller takes back parts no worker has started (tests turn it off). */
  stealing = true;
  /** Test hook: called in run() once the workers' tasks are handed out, before the caller's own part. */
  onHandOff: (() => void) | null = null;
  /**
   * Called when a worker is stopped in the middle of its part (the busy timeout), before the
   * op throws: until `settled()`, that worker may still write where its part writes.
   */
  onLoose: (() => void) | null = null;
  /** Test hook: an array makes retire() leave each terminate() in it, as Chromium delays it. */
  deferStops: Array<() => void> | null = null;
  /** Workers stopped in the middle of a part whose threads are not yet known to have ended. */
  private looseCount = 0;
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
    for (const h of this.handles) if (this.usable(h)) ready++;
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
  private live(): number { return this.handles.filter((h) => !h.dead && !this.died(h)).length; }

  private usable(h: Handle): boolean { return h.ready && !h.dead && !this.died(h); }

  private died(h: Handle): boolean { return Atomics.load(this.i32, (h.slot >> 2) + DIED) !== 0; }

  private async start(count: number, timeoutMs: number): Promise<void> {
    const names = [...KERNELS];
    const jobs: Promise<void>[] = [];
    const sentinel = await this.watcher();
    for (let i = 0; i < count; i++) {
      const index = this.handles.length;
      if (index >= MAX_WORKERS) break;
      const slot = this.ctl + index * SLOT.BYTES;
      new Uint8Array(this.mod.memory.buffer, slot, SLOT.BYTES).fill(0);
      const data = { module: this.mod.module, memory: this.mod.memory, slot, names, spin: WORKER_SPIN };
      const h: Handle = { slot, seq: 0, ready: false, dead: false, seen: 0, seenAt: 0, locked: false, loose: false, ended: false,
        stoppedAt: 0, stop: () => {}, crash: () => {} };
      this.handles.push(h);
      jobs.push(spawn(data, h, timeoutMs, sentinel, (why) => this.lost(h, why)));
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }

  /**
   * The sentinel, started with the first workers: a node:worker_threads thread in Node and
   * Deno, a module worker in browsers that have Web Locks (null in those that do not). One
   * that ends is replaced at the next start (the workers it watched are then watched by
   * nobody: their deaths are found by their events and the timeouts).
   */
  private async watcher(): Promise<Sentinel | null> {
    if (this.sentinel) return this.sentinel;
    const warn = (e: any) => console.warn(`knet: the cpu thread pool's sentinel failed (${String(e?.message ?? e)}); ` +
      'a worker that dies during an op will be found only by the pool\'s timeouts');
    if (runtime === 'node' || runtime === 'deno') {
      const { Worker } = await import('node:worker_threads');
      const w = new Worker(nodeSentinelSource(), { eval: true, workerData: { memory: this.mod.memory } });
      // Not awaited: it starts beside the workers (the watch messages wait for it), and a
      // pool without one still works, finding dead workers by their events and the timeouts.
      const s: Sentinel = { watch: (slot, port) => w.postMessage({ watch: { slot, port } }, [port as any]) };
      w.once('message', () => w.unref());
      w.once('error', warn);
      w.once('exit', () => { if (this.sentinel === s) this.sentinel = null; });
      return (this.sentinel = s);
    }
    if (typeof navigator === 'undefined' || !(navigator as any).locks) return null;
    const url = URL.createObjectURL(new Blob([webSentinelSource()], { type: 'text/javascript' }));
    const w = new Worker(url, { type: 'module', name: 'knet-cpu-sentinel' });
    const s: Sentinel = { watch: (slot, lock) => w.postMessage({ watch: { slot, lock } }) };
    w.onmessage = () => URL.revokeObjectURL(url);
    w.onerror = (e) => { warn(e); if (this.sentinel === s) this.sentinel = null; };
    w.postMessage({ memory: this.mod.memory });
    return (this.sentinel = s);
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
      if (!h.ready || h.dead) continue;
      if (this.died(h)) { this.retire(h, 'died between ops (its thread ended) and was removed'); continue; }
      used.push(h);
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
    this.onHandOff?.();
    let error: unknown = null;
    const call = (p: Part) => {
      try {
        if (p.fn === FAULT_KERNEL) throw new Error(FAULT_MESSAGE);
        if (p.fn === SPIN_KERNEL) throw new Error('the debug spin kernel runs only in a worker');
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
        if (this.died(h)) this.retire(h, `died (its thread ended) before its part of ${opName(p.fn)} began; the part ran here, and the worker was removed`);
        else this.checkAlive(h);
        continue;
      }
      const failure = this.wait(h, p, call);
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
    this.retire(h, `has not answered for ${this.timeouts.pickupMs} ms and was stopped`);
  }

  /**
   * Waits for a worker's current task (claimed by the worker, or, with stealing off, not
   * yet); returns the Error it ended with, or null. A worker marked DIED ends the wait at
   * once (`afterDeath`).
   */
  private wait(h: Handle, p: Part, call: (p: Part) => void): Error | null {
    const { i32 } = this;
    const at = h.slot >> 2, DONE = at + SLOT.DONE, seq = h.seq;
    for (let k = CALLER_SPIN; k > 0; k--) if (Atomics.load(i32, DONE) === seq) return this.outcome(h, p.fn);
    const started = now();
    while (Atomics.load(i32, DONE) !== seq) {
      if (this.died(h)) return this.afterDeath(h, p, call);
      if (this.canBlock) Atomics.wait(i32, DONE, seq - 1, 100);
      else for (let k = 0; k < 100000 && Atomics.load(i32, DONE) !== seq && !this.died(h); k++) { /* spin */ }
      if (Atomics.load(i32, DONE) === seq) break;
      if (now() - started > this.timeouts.busyMs) {
        const n = this.handles.indexOf(h) + 1;
        h.loose = true;
        this.looseCount++;
        this.onLoose?.();
        this.retire(h, `did not finish its part of ${opName(p.fn)} within ${this.timeouts.busyMs} ms and was stopped ` +
          '(until its thread has ended, the device reuses no memory)');
        return new Error(`knet cpu threads: worker ${n} did not finish its part of ${opName(p.fn)} ` +
          `within ${this.timeouts.busyMs} ms and was stopped; the op's result is incomplete. ` +
          `The device goes on with ${this.threads()} thread(s).`);
      }
    }
    return this.outcome(h, p.fn);
  }

  /**
   * The worker of this part died (DIED is set; its thread has ended, so it writes no
   * more). A part it finished counts; one it never claimed runs here; one it claimed and
   * did not finish makes the op throw. The worker is retired in every case.
   */
  private afterDeath(h: Handle, p: Part, call: (p: Part) => void): Error | null {
    const { i32 } = this;
    const at = h.slot >> 2, seq = h.seq, n = this.handles.indexOf(h) + 1;
    if (Atomics.load(i32, at + SLOT.DONE) === seq) {
      const r = this.outcome(h, p.fn);
      this.retire(h, `died (its thread ended) after its part of ${opName(p.fn)}, and was removed`);
      return r;
    }
    if (Atomics.compareExchange(i32, at + SLOT.CLAIM, seq - 1, seq) === seq - 1) {
      call(p);
      Atomics.store(i32, at + SLOT.DONE, seq);
      this.retire(h, `died (its thread ended) before its part of ${opName(p.fn)} began; the part ran here, and the worker was removed`);
      return null;
    }
    this.retire(h, `died (its thread ended) while running its part of ${opName(p.fn)}, and was removed`);
    return new Error(`knet cpu threads: worker ${n} died while running its part of ${opName(p.fn)}; ` +
      `the op's result is incomplete. The device goes on with ${this.threads()} thread(s).`);
  }

  /**
   * Whether no worker stopped in the middle of a part may still be running: true unless
   * one is, and its thread has not been seen to end (ENDED, or its 'exit' event).
   */
  settled(): boolean {
    if (this.looseCount === 0) return true;
    const graceOver = (h: Handle) => runtime !== 'deno' || now() - h.stoppedAt >= this.timeouts.denoStopMs;
    for (const h of this.handles) {
      if (h.loose && (h.ended || Atomics.load(this.i32, (h.slot >> 2) + ENDED) !== 0) && graceOver(h)) { h.loose = false; this.looseCount--; }
    }
    return this.looseCount === 0;
  }

  private outcome(h: Handle, fn: string): Error | null {
    const at = h.slot >> 2;
    if (this.i32[at + SLOT.STATUS] === 0) return null;
    const n = this.i32[at + SLOT.MSGLEN], m = (h.slot + SLOT.MSG) >> 1;
    const msg = String.fromCharCode(...this.u16.subarray(m, m + n));
    return new Error(`knet cpu threads: ${fn} failed in worker ${this.handles.indexOf(h) + 1}: ${msg}`);
  }

  /**
   * Gives a worker up: its slot is retired (if it ever wakes, it finds CLAIM retired and
   * leaves), its thread terminated, and, given a reason, one line says so.
   */
  private retire(h: Handle, why?: string): void {
    if (h.dead) return;
    Atomics.store(this.i32, (h.slot >> 2) + SLOT.CLAIM, SLOT.RETIRED);
    h.dead = true;
    h.ready = false;
    if (this.deferStops) this.deferStops.push(() => { h.stoppedAt = now(); h.stop(); });
    else { h.stoppedAt = now(); try { h.stop(); } catch { /* already gone */ } }
    if (why) console.warn(`knet: cpu worker ${this.handles.indexOf(h) + 1} ${why}; the cpu device goes on with ${this.threads()} thread(s)`);
  }

  /**
   * A worker's 'error' or 'exit' event (they run when the calling thread is free, so
   * between ops): unless it left when told to (kill()), it died; it is marked DIED and
   * retired at once, and the next op does without it.
   */
  private lost(h: Handle, why: string): void {
    if (h.dead) return;
    const at = h.slot >> 2;
    if (Atomics.load(this.i32, at + SLOT.READY) === 0) { h.dead = true; h.ready = false; return; } // it left when told to (kill())
    Atomics.store(this.i32, at + DIED, 1);
    Atomics.notify(this.i32, at + SLOT.DONE);
    this.retire(h, `died (${why}) and was removed`);
  }

  /**
   * Test hook: the index-th ready worker (0-based) leaves its loop and stops answering, as
   * if it had died, while the pool still counts it (its 'exit' event has not run yet): ops
   * must still complete, and the pool must find out through the pickup timeout.
   */
  kill(index: number): void {
    const h = this.handles.filter((x) => this.usable(x))[index];
    if (!h) return;
    const at = h.slot >> 2;
    Atomics.store(this.i32, at + SLOT.SEQ, SLOT.STOP);
    Atomics.notify(this.i32, at + SLOT.SEQ, 1);
    // it clears READY when it leaves; its last task number stays h.seq
    while (Atomics.load(this.i32, at + SLOT.READY) !== 0) if (this.canBlock) Atomics.wait(this.i32, at + SLOT.READY, 1, 10);
  }

  /**
   * Test hook: terminates the index-th ready worker's (0-based) thread, as a crash would,
   * without telling the pool. With `busyMs`, first waits (up to 5 s) until the worker has
   * claimed its current task and then lets it run that long into it, so that it dies in
   * the middle of its part.
   */
  crash(index: number, busyMs?: number): void {
    const h = this.handles.filter((x) => this.usable(x))[index];
    if (!h) throw new Error(`knet cpu threads: no ready worker ${index + 1} to crash`);
    const at = h.slot >> 2;
    if (busyMs !== undefined) {
      const until = now() + 5000;
      while (Atomics.load(this.i32, at + SLOT.CLAIM) !== h.seq && now() < until) { /* spin */ }
      const end = now() + busyMs;
      while (now() < end) { /* spin */ }
    }
    h.crash();
  }
}

function now(): number { return performance.now(); }

/**
 * Deno gives no sign that a terminated worker's thread has stopped: its 'exit', the close
 * of its channel and the release of its Web Lock all come at terminate(), and a thread
 * busy in a kernel goes on until it next runs and sees the termination. With two busy
 * processes on this 2-core machine, the debug spin kernel's last write came 0-19 ms after
 * terminate() (15 runs; unloaded it stops at once). So a worker stopped in the middle of a
 * part counts as ended in Deno only this long after terminate() (settled()).
 */
const DENO_STOP_MS = 500;

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch { return false; }
}

/** Starts one worker; resolves when it reports ready. `lost` is told of its death after that. */
async function spawn(data: Record<string, unknown>, h: Handle, timeoutMs: number, sentinel: Sentinel | null,
                     lost: (why: string) => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`knet cpu threads: a worker did not start within ${timeoutMs} ms`)), timeoutMs);
      const events: WorkerEvents = {
        message: (m) => {
          if (m?.ready) { h.ready = true; h.locked = !!m.locked; resolve(); } else reject(new Error(`knet cpu threads: a worker failed to start: ${m?.error}`));
        },
        error: (e) => { if (h.ready) lost(String(e?.message ?? e)); else reject(e); },
        exit: (code) => {
          // Node's 'exit' comes once the thread has ended; Deno's at terminate(), when only
          // the lock the worker holds makes its thread stop at once (worker-source.ts).
          if (runtime === 'node' || h.locked) h.ended = true;
          if (h.ready) lost(`its thread exited with code ${code}`);
          else reject(new Error(`knet cpu threads: a worker exited (code ${code}) before it started`));
        },
      };
      startWorker(data, h, events, sentinel).catch(reject);
    });
  } catch (e) {
    h.dead = true;
    try { h.stop(); } catch { /* not started */ }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Names this pool in its workers' Web Locks (locks are shared by every page of an origin). */
const POOL_ID = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : String(Math.random()).slice(2);

/** The Web Lock a worker in this slot holds while it lives; undefined without Web Locks. */
function lockName(slot: number): string | undefined {
  return typeof navigator !== 'undefined' && (navigator as any).locks ? `knet-cpu-${POOL_ID}-${slot}` : undefined;
}

interface WorkerEvents { message(m: any): void; error(e: any): void; exit(code: number): void }

async function startWorker(data: Record<string, unknown>, h: Handle, on: WorkerEvents, sentinel: Sentinel | null): Promise<void> {
  if (runtime === 'node' || runtime === 'deno') {
    // node:worker_threads in Deno too: it can unref() a worker, which Deno's Worker cannot.
    const { Worker, MessageChannel } = await import('node:worker_threads');
    // The worker keeps one end of a channel (unused); the sentinel sees the other close when
    // it dies. Where there are Web Locks (Deno) it holds one, so that terminate() stops it
    // (worker-source.ts).
    const channel = sentinel ? new MessageChannel() : null;
    const lock = lockName(data.slot as number);
    const w = new Worker(nodeWorkerSource(), {
      eval: true,
      workerData: { ...data, ...(channel ? { lifeline: channel.port2 } : {}), ...(lock ? { lock } : {}) },
      transferList: channel ? [channel.port2] : [],
    });
    if (channel) sentinel!.watch(data.slot as number, channel.port1);
    h.stop = () => { void w.terminate(); };
    h.crash = () => { void w.terminate(); };
    w.on('error', (e) => on.error(e));
    w.on('exit', (code) => on.exit(code));
    w.once('message', (m) => {
      on.message(m);
      // From now on the worker only talks through shared memory; it must not keep the
      // process alive once the user's work ends.
      w.unref();
    });
    return;
  }
  const url = URL.createObjectURL(new Blob([webWorkerSource()], { type: 'text/javascript' }));
  const w = new Worker(url, { type: 'module', name: 'knet-cpu' });
  h.stop = () => w.terminate();
  h.crash = () => w.terminate();
  // The lock the worker holds while it lives; the sentinel asks for it once the worker is ready.
  const lock = sentinel ? lockName(data.slot as number) : undefined;
  w.onerror = (e) => on.error(new Error(e.message));
  w.onmessage = (e) => {
    URL.revokeObjectURL(url);
    if (e.data?.locked && lock) sentinel!.watch(data.slot as number, lock);
    on.message(e.data);
  };
  w.postMessage(lock ? { ...data, lock } : data);
}
