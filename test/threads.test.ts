// The cpu device's thread pool: every threaded kernel gives the single-threaded bits for
// 1, 2 and 3 threads on odd shapes (with the size thresholds lowered so that even these
// shapes are cut into parts); training gives identical losses for any thread count; a
// worker that throws, hangs or dies (its thread terminated in the middle of a big gemm,
// or while idle) surfaces at once as an Error or a one-line notice and the device goes on;
// one stopped at the busy timeout that runs on gets no memory it may write handed out again
// until its thread has ended; a Node process with threads exits on its own.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { BinaryOp, OptimKind, ReduceOp, SoftmaxOp, UnaryOp } from '../ts/device/device.js';
import { cpuDevice } from '../ts/device/cpu.js';
import { MIN_WORK, splitRange } from '../ts/device/wasm/split.js';
import { convGeometry } from '../ts/nn/conv.js';
import { poolGeometry } from '../ts/nn/pool.js';
import { rng } from './helpers/ref.js';

const dev = cpuDevice;
const pool = dev.workers!;
const defaults = { ...MIN_WORK };
const gen = rng(7);
const randT = (...shape: number[]) => K.tensor(gen.uniform(shape).data, shape);
const bits = (t: Tensor) => new Uint32Array(new Float32Array(t.dataSync()).buffer);

/** Lowers every threshold so that tiny shapes split into as many parts as there are threads. */
function forceSplits(): void { for (const k of Object.keys(MIN_WORK) as (keyof typeof MIN_WORK)[]) MIN_WORK[k] = 1; }

/**
 * Runs `f` (which writes its results into fresh tensors and returns them) with 1, 2 and 3
 * threads and expects the same bits every time.
 */
async function sameForAnyThreads(f: () => Tensor[]): Promise<void> {
  const runs: Uint32Array[][] = [];
  for (const n of [1, 2, 3]) {
    expect(await K.setThreads(n)).toBe(n);
    const out = f();
    runs.push(out.map(bits));
    out.forEach((t) => t.dispose());
  }
  for (const r of runs.slice(1)) {
    r.forEach((b, i) => expect(Buffer.from(b.buffer).equals(Buffer.from(runs[0][i].buffer))).toBe(true));
  }
}

const out = (...shape: number[]) => K.zeros(shape);

/** alpha 0.75 and beta 1.5, alpha 1 and beta 0, and alpha 1 and beta 1: the same bits on 1, 2 and 3 threads. */
function productsAgree(ta: boolean, tb: boolean, a: Tensor, b: Tensor, c0: Tensor, M: number, N: number, K_: number): Promise<void> {
  return sameForAnyThreads(() => {
    const c = K.copy(c0), d = out(M, N), e = K.copy(c0);
    dev.matmul(ta, tb, a, b, c, M, N, K_, 0.75, 1.5);
    dev.matmul(ta, tb, a, b, d, M, N, K_, 1, 0);
    dev.matmul(ta, tb, a, b, e, M, N, K_, 1, 1);
    return [c, d, e];
  });
}

describe('thread pool', () => {
  beforeAll(async () => { forceSplits(); });
  afterEach(() => { pool.timeouts.pickupMs = 10_000; pool.timeouts.busyMs = 300_000; pool.stealing = true; pool.onHandOff = null; pool.deferStops = null; });
  afterAll(async () => { Object.assign(MIN_WORK, defaults); await K.setThreads(2); });

  it('has a shared memory and starts workers at import on a machine with more than one core', () => {
    expect(dev.workers).not.toBeNull();
    expect(K.threads()).toBeGreaterThanOrEqual(1);
  });

  it('splits ranges evenly on unit boundaries', () => {
    expect(splitRange(10, 3, 4)).toEqual([[0, 4], [4, 8], [8, 10]]);
    expect(splitRange(37, 2, 4)).toEqual([[0, 20], [20, 37]]);
    expect(splitRange(5, 4, 4)).toEqual([[0, 4], [4, 5]]);
    expect(splitRange(3, 8, 1)).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(splitRange(0, 3, 4)).toEqual([]);
  });

  it('gemm: NN, NT, TN, TT, with beta, on odd shapes split by rows, by columns and over depth slices', async () => {
    // [5, 301, 19], [1, 77, 3] and [10, 100, 78] take the unpacked kernels (gemmsmall.ts) in NN, and the last in NT;
    // [64, 100, 784] (4 slices) and [20, 30, 1024] (4), with alpha 1 and beta 0 or 1, are cut over depth slices on 2 threads
    const shapes = [[37, 29, 53], [263, 45, 517], [5, 301, 19], [130, 130, 260], [1, 77, 3], [9, 9, 0], [10, 100, 78], [64, 100, 784], [20, 30, 1024]];
    for (const [M, N, K_] of shapes) {
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
        const a = ta ? randT(K_, M) : randT(M, K_), b = tb ? randT(N, K_) : randT(K_, N), c0 = randT(M, N);
        await productsAgree(ta, tb, a, b, c0, M, N, K_);
      }
    }
  });

  it('gemm with zero rows in op(B), which the kernels skip (gemm.ts, skipZeroRows)', async () => {
    // half of op(B)'s rows zero, and a quarter of the other elements: the batches of an MNIST MLP
    for (const [M, N, K_] of [[64, 100, 784], [130, 45, 300], [37, 29, 53]]) {
      for (const [ta, tb] of [[false, false], [false, true], [true, false]]) {
        const u = gen.uniform([K_, N]).data, z = gen.uniform([K_, N]).data;
        const opB = u.map((v, i) => (z[i] < 0.25 || z[Math.floor(i / N) * N] < 0.5 ? 0 : v)); // op(B)[k, j] at k * N + j
        const b = tb ? K.transpose(K.tensor(opB, [K_, N])) : K.tensor(opB, [K_, N]);
        const a = ta ? randT(K_, M) : randT(M, K_), c0 = randT(M, N);
        await productsAgree(ta, tb, a, b, c0, M, N, K_);
      }
    }
  });

  it('conv4 forward, filter and data gradients', async () => {
    for (const [xs, ws, opts] of [
      [[5, 3, 11, 13], [7, 3, 3, 4], {}],
      [[3, 4, 12, 9], [5, 4, 3, 3], { padding: [1, 2], stride: [2, 1], dilation: [1, 2], mode: 1 }],
      [[2, 20, 12, 12], [50, 20, 5, 5], {}],
      [[7, 1, 28, 28], [20, 1, 5, 5], {}], // the direct kernels (assembly/convdirect.ts), as the next two
      [[5, 3, 14, 13], [7, 3, 3, 3], { mode: 1 }],
      [[4, 2, 10, 13], [5, 2, 3, 2], {}],
      [[5, 3, 9, 16], [6, 3, 3, 3], { padding: 1 }], // direct on a padded copy (convPadImages)
      [[3, 4, 9, 10], [5, 4, 3, 3], { padding: 2, dilation: 2 }], // im2col.ts on a padded copy
    ] as const) {
      const x = randT(...xs), w = randT(...ws), g = convGeometry(w, x, opts as any);
      const dy = randT(g.N, g.O, g.Ho, g.Wo);
      await sameForAnyThreads(() => {
        const y = out(g.N, g.O, g.Ho, g.Wo), dw = out(...ws), dx = out(...xs);
        dev.conv4(w, x, y, g);
        dev.conv4Filter(x, dy, dw, g);
        dev.conv4Data(w, dy, dx, g);
        return [y, dw, dx];
      });
    }
  });

  it('pooling forward and backward, every mode', async () => {
    for (const opts of [{}, { mode: 1 }, { window: 3, stride: 2, padding: 1, mode: 2 }, { window: 3, stride: 2, padding: 1 }]) {
      const x = randT(3, 5, 9, 11), g = poolGeometry(x, opts);
      const dy = randT(g.N, g.C, g.Ho, g.Wo);
      await sameForAnyThreads(() => {
        const y = out(g.N, g.C, g.Ho, g.Wo), dx = out(3, 5, 9, 11);
        dev.pool(x, y, g);
        dev.poolBackward(x, y, dy, dx, g);
        return [y, dx];
      });
    }
  });

  it('unary, scalar and broadcasting binary ops, fill, int to float, dropout', async () => {
    const x = K.sub(K.mul(randT(1001), 4), 2), y = K.add(randT(1001), 0.5);
    const a = randT(7, 1, 33), b = randT(1, 5, 33), c = randT(7, 5, 1);
    const ints = K.tensor(Int32Array.from({ length: 999 }, (_, i) => i * 7919 - 40000), [999]);
    await sameForAnyThreads(() => {
      const r: Tensor[] = [];
      for (let op = 0; op <= UnaryOp.square; op++) { const o = out(1001); dev.unary(op, x, o); r.push(o); }
      for (let op = 0; op <= BinaryOp.ge; op++) {
        const o1 = out(1001), o2 = out(1001), o3 = out(1001);
        dev.binaryScalar(op, y, 1.7, o1, false);
        dev.binaryScalar(op, y, -0.3, o2, true);
        dev.binary(op, x, y, o3, { shape: [1001], astrides: [1], bstrides: [1] });
        r.push(o1, o2, o3);
      }
      const o4 = out(7, 5, 33), o5 = out(7, 5, 33);
      dev.binary(BinaryOp.mul, a, b, o4, { shape: [7, 5, 33], astrides: [33, 0, 1], bstrides: [0, 33, 1] });
      dev.binary(BinaryOp.sub, c, b, o5, { shape: [7, 5, 33], astrides: [5, 1, 0], bstrides: [0, 33, 1] });
      const f = out(1003); dev.fill(f, -2.5);
      const fl = out(999); dev.castToFloat(ints, fl);
      const d = out(1001); dev.dropout(x, d, 0.3, [0xfffffff0, 12345]);
      return [...r, o4, o5, f, fl, d];
    });
  });

  it('reductions and the softmax family along every axis', async () => {
    const x = K.sub(K.mul(randT(7, 33, 19), 6), 3);
    const shapes: [number, number, number][] = [[1, 7, 627], [7, 33, 19], [231, 19, 1], [1, 4389, 1]];
    await sameForAnyThreads(() => {
      const r: Tensor[] = [];
      for (const [o, n, i] of shapes) {
        for (let op = 0; op <= ReduceOp.sumabs; op++) { const y = out(o * i); dev.reduce(op, x, y, o, n, i); r.push(y); }
        for (const op of [SoftmaxOp.logsumexp, SoftmaxOp.softmax, SoftmaxOp.logsoftmax]) {
          const y = op === SoftmaxOp.logsumexp ? out(o * i) : out(o * n * i);
          dev.softmax(op, x, y, o, n, i);
          r.push(y);
        }
      }
      return r;
    });
  });

  it('every optimizer step, with and without gradient clipping', async () => {
    const w0 = randT(1001), g = K.sub(randT(1001), 0.5), s0 = randT(1001), t0 = randT(1001);
    await sameForAnyThreads(() => {
      const r: Tensor[] = [];
      for (let kind = 0; kind <= OptimKind.adam; kind++) {
        for (const gclip of [0, 0.5]) {
          const w = K.copy(w0), s1 = K.copy(s0), s2 = K.copy(t0);
          dev.optimStep(kind, w, g, s1, s2, [0.01, gclip, 0.9, 0.999, 1e-6, 1.1, 1.01]);
          r.push(w, s1, s2);
        }
      }
      return r;
    });
  });

  it('the fused LSTM cell, forward and backward, every optional input', async () => {
    const B = 7, H = 37;
    const xg = randT(B, 4 * H), hg = randT(B, 4 * H), bias = randT(4 * H), cp = randT(B, H);
    const dh = randT(B, H), dh2 = randT(B, H), dc = randT(B, H), db0 = randT(4 * H);
    await sameForAnyThreads(() => {
      const r: Tensor[] = [];
      for (const [h2, b] of [[hg, bias], [null, null], [hg, null]] as const) {
        const acts = out(B, 4 * H), c = out(B, H), h = out(B, H);
        dev.lstmForward(xg, h2, b, cp, acts, c, h, B, H);
        for (const [d2, dcc, withBias] of [[dh2, dc, true], [null, null, false], [dh2, null, true]] as const) {
          const dg = out(B, 4 * H), dcp = out(B, H), db = K.copy(db0);
          dev.lstmBackward(acts, cp, c, dh, d2, dcc, dg, dcp, withBias ? db : null, B, H);
          r.push(dg, dcp, db);
        }
        r.push(acts, c, h);
      }
      return r;
    });
  });

  it('a worker that throws makes the op throw, and the device goes on', async () => {
    await K.setThreads(2);
    pool.stealing = false; // the worker, not the caller, must run the faulty part
    const t = K.zeros(64), p = dev.ptr(t);
    expect(() => pool.run([{ fn: 'fill', args: [p, 32, 1] }, { fn: '__fault', args: [] }], (dev as any).k))
      .toThrow(/failed in worker 1: the debug fault kernel ran/);
    expect(K.threads()).toBe(2);
    // the caller's part ran; the same worker takes the next op
    expect([...t.dataSync().slice(0, 32)].every((v) => v === 1)).toBe(true);
    const a = randT(40, 30), b = randT(30, 50);
    const two = bits(K.matmul(a, b));
    await K.setThreads(1);
    expect(bits(K.matmul(a, b))).toEqual(two);
  });

  it('a worker that stops answering: its parts run on the caller, and the pool retires it', async () => {
    const a = randT(64, 48), b = randT(48, 40);
    await K.setThreads(1);
    const one = bits(K.matmul(a, b));
    expect(await K.setThreads(3)).toBe(3);
    pool.timeouts.pickupMs = 200;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      pool.kill(1); // the second worker leaves its loop; the pool still counts it
      const t0 = performance.now();
      while (K.threads() === 3 && performance.now() - t0 < 5000) expect(bits(K.matmul(a, b))).toEqual(one);
      expect(K.threads()).toBe(2);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/^knet: cpu worker 2 has not answered for 200 ms and was stopped; the cpu device goes on with 2 thread\(s\)$/);
    } finally { warn.mockRestore(); }
    expect(bits(K.matmul(a, b))).toEqual(one);
    expect(await K.setThreads(3)).toBe(3); // a new worker replaces it
    expect(bits(K.matmul(a, b))).toEqual(one);
  });

  it('a worker that dies in the middle of its part: the op throws at once, naming the op, and the device goes on', async () => {
    const a = randT(2048, 2048), b = randT(2048, 2048); // a part takes ~0.1 s on a fast core, more here
    const sa = randT(300, 200), sb = randT(200, 250);
    await K.setThreads(1);
    const one = bits(K.matmul(sa, sb));
    expect(await K.setThreads(3)).toBe(3);
    pool.stealing = false; // the worker, not the caller, must run its part
    pool.timeouts.busyMs = 30_000; // what would end the wait if the death went unseen
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let took = Infinity, message = '';
    try {
      // once the op has handed out its parts: the second worker claims its part, runs 20 ms of it, and its thread is terminated
      pool.onHandOff = () => { pool.onHandOff = null; pool.crash(1, 20); };
      const t0 = performance.now();
      try { K.matmul(a, b); } catch (e) { message = (e as Error).message; }
      took = performance.now() - t0;
      expect(message).toMatch(/^knet cpu threads: worker \d+ died while running its part of matmul \(kernel gemm\w*\); the op's result is incomplete\. The device goes on with 2 thread\(s\)\.$/);
      expect(K.threads()).toBe(2);
      expect(warn).toHaveBeenCalledTimes(1);
      const n = /worker (\d+)/.exec(message)![1];
      expect(String(warn.mock.calls[0][0])).toMatch(new RegExp(`^knet: cpu worker ${n} died \\(its thread ended\\) while running its part of matmul .*; the cpu device goes on with 2 thread\\(s\\)$`));
    } finally { warn.mockRestore(); pool.onHandOff = null; }
    expect(took).toBeLessThan(10_000); // not the busy timeout: the sentinel saw the thread end
    expect(bits(K.matmul(sa, sb))).toEqual(one); // the next op, on the two threads left
    expect(await K.setThreads(3)).toBe(3); // a new worker replaces the dead one
    expect(bits(K.matmul(sa, sb))).toEqual(one);
    a.dispose(); b.dispose();
  });

  it('a worker stopped at the busy timeout that runs on (as in Chromium): the op throws, and no memory it may write is reused until its thread has ended', async () => {
    const sa = randT(300, 200), sb = randT(200, 250);
    await K.setThreads(1);
    const one = bits(K.matmul(sa, sb));
    expect(await K.setThreads(3)).toBe(3);
    K.matmul(sa, sb).dispose(); // the workers' scratch exists
    const scratch = (dev as any).scratches.map((s: { ptr: number }) => s.ptr), meta = (dev as any).meta;
    pool.stealing = false;
    pool.timeouts.busyMs = 50;
    pool.deferStops = []; // terminate() takes effect only when the test says, as in a busy Chromium page
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const n = 4096, y = K.zeros(n), p = dev.ptr(y);
    try {
      // worker 1 writes y[16..1040) for 800 ms: the pool stops waiting after 50
      const parts = [{ fn: 'fill', args: [p, 16, 7] }, { fn: '__spin', args: [p + 64, 1024, 800] }, { fn: 'fill', args: [p + 8192, 16, 7] }];
      expect(() => pool.run(parts as any, (dev as any).k)).toThrow(
        /^knet cpu threads: worker 1 did not finish its part of the debug spin kernel \(kernel __spin\) within 50 ms and was stopped; the op's result is incomplete\. The device goes on with 2 thread\(s\)\.$/);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/^knet: cpu worker 1 did not finish its part of the debug spin kernel .* and was stopped \(until its thread has ended, the device reuses no memory\); the cpu device goes on with 2 thread\(s\)$/);
      expect(pool.settled()).toBe(false);
      const first = y.dataSync()[16];
      const until = performance.now() + 20;
      while (performance.now() < until) { /* the stopped worker runs on */ }
      expect(y.dataSync()[16]).not.toBe(first);
      // freed, y's block is held back; the next ops get other blocks, fresh scratch and metadata, and the right bits
      y.dispose();
      const z = K.zeros(n);
      expect(dev.ptr(z)).not.toBe(p);
      expect(bits(K.matmul(sa, sb))).toEqual(one);
      expect((dev as any).scratches.slice(1).map((s: { ptr: number }) => s.ptr)).not.toContain(scratch[1]);
      expect((dev as any).meta).not.toBe(meta);
      expect([...z.dataSync()].every((v) => v === 0)).toBe(true);
      expect(pool.settled()).toBe(false);
      z.dispose();
    } finally {
      warn.mockRestore();
      for (const stop of pool.deferStops ?? []) stop();
      pool.deferStops = null;
    }
    const t0 = performance.now(); // its thread ends: Node's 'exit' event or the sentinel says so
    while (!pool.settled() && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(pool.settled()).toBe(true);
    const got: number[] = [];
    for (let i = 0; i < 64 && !got.includes(p); i++) got.push(dev.ptr(K.zeros(n))); // the held blocks are back in the pool
    expect(got).toContain(p);
    expect(bits(K.matmul(sa, sb))).toEqual(one);
    expect(await K.setThreads(3)).toBe(3);
    expect(bits(K.matmul(sa, sb))).toEqual(one);
  });

  it('a worker that dies while idle: the next op completes without it; between ops its exit event removes it; one notice each', async () => {
    const sa = randT(300, 200), sb = randT(200, 250);
    await K.setThreads(1);
    const one = bits(K.matmul(sa, sb));
    expect(await K.setThreads(3)).toBe(3);
    pool.stealing = false; // its part is not simply taken back: the caller must see the death
    pool.timeouts.busyMs = 30_000; // what would end the wait if the death went unseen
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      pool.crash(0); // no await before the op: the worker's events cannot run yet
      expect(bits(K.matmul(sa, sb))).toEqual(one);
      expect(K.threads()).toBe(2);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/^knet: cpu worker \d+ died (between ops )?\(its thread ended\).*; the cpu device goes on with 2 thread\(s\)$/);
      await new Promise((r) => setTimeout(r, 200)); // its exit event: already removed, no second notice
      expect(warn).toHaveBeenCalledTimes(1);

      pool.crash(0); // now with the event loop free: its 'exit' event removes it
      const t0 = performance.now();
      while (warn.mock.calls.length < 2 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      expect(warn).toHaveBeenCalledTimes(2);
      expect(String(warn.mock.calls[1][0])).toMatch(/^knet: cpu worker \d+ died \(its thread exited with code 1\) and was removed; the cpu device goes on with 1 thread\(s\)$/);
      expect(K.threads()).toBe(1);
      expect(bits(K.matmul(sa, sb))).toEqual(one);
    } finally { warn.mockRestore(); }
    expect(await K.setThreads(3)).toBe(3);
    expect(bits(K.matmul(sa, sb))).toEqual(one);
  });

  it('a part the worker has not started is taken back by the caller (stealing), with the same bits', async () => {
    const a = randT(120, 70), b = randT(70, 90);
    await K.setThreads(1);
    const one = bits(K.matmul(a, b));
    await K.setThreads(2);
    for (let i = 0; i < 50; i++) {
      // an idle millisecond lets the worker fall asleep, so that some parts are taken back
      const until = performance.now() + (i % 2 ? 1 : 0);
      while (performance.now() < until) { /* idle */ }
      expect(bits(K.matmul(a, b))).toEqual(one);
    }
  });

  it('workers see memory that grew after they started', async () => {
    await K.setThreads(3);
    const big = K.sub(K.rand(4096, 4100), 0.5); // 64 MiB: the memory grows past what the workers first saw
    const many = K.relu(big);
    await K.setThreads(1);
    const one = K.relu(big);
    expect(Buffer.from(bits(many).buffer).equals(Buffer.from(bits(one).buffer))).toBe(true);
    expect(many.dataSync().some((v) => v > 0)).toBe(true);
    for (const t of [big, many, one]) t.dispose();
  });

  it('rejects a bad thread count', async () => {
    await expect(K.setThreads(0)).rejects.toThrow(/whole number >= 1/);
    await expect(K.setThreads(1.5)).rejects.toThrow(/whole number >= 1/);
  });
});

describe('training', () => {
  afterAll(async () => { Object.assign(MIN_WORK, defaults); await K.setThreads(2); });

  /** Losses of a few Adam steps (gclip) of a small conv net + LSTM-free MLP head. */
  function losses(steps: number): number[] {
    K.setSeed(5);
    const u = (...s: number[]) => K.tidy(() => K.mul(K.sub(K.rand(s), 0.5), 0.3));
    const w = [u(6, 1, 5, 5), K.zeros(1, 6, 1, 1), u(32, 6 * 6 * 6), K.zeros(32, 1), u(10, 32), K.zeros(10, 1)];
    const x = K.rand(50, 1, 16, 16), y = K.tensor(Int32Array.from({ length: 50 }, (_, i) => (i * 7) % 10), [50]);
    const predict = (w: Tensor[], x: Tensor) => {
      const h = K.pool(K.relu(K.add(K.conv4(w[0], x), w[1])));
      const z = K.tanh(K.add(K.matmul(w[2], K.mat(h), false, true), w[3]));
      return K.add(K.matmul(w[4], K.dropout(z, 0.1)), w[5]);
    };
    const lossgrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y));
    const opts = K.optimizers(w, K.Adam, { lr: 0.01, gclip: 1 });
    const out: number[] = [];
    for (let i = 0; i < steps; i++) {
      const [g, l] = lossgrad(w, x, y);
      K.update(w, g, opts);
      out.push(l.item());
      l.dispose();
    }
    w.forEach((t) => t.dispose());
    x.dispose(); y.dispose();
    return out;
  }

  it('gives identical losses for 1, 2 and 3 threads, at the real thresholds and with every op split', async () => {
    for (const force of [false, true]) {
      if (force) forceSplits(); else Object.assign(MIN_WORK, defaults);
      const runs: number[][] = [];
      for (const n of [1, 2, 3]) { await K.setThreads(n); runs.push(losses(8)); }
      expect(runs[1]).toEqual(runs[0]);
      expect(runs[2]).toEqual(runs[0]);
      expect(runs[0][7]).toBeLessThan(runs[0][0]);
    }
  });

  it('a Node process exits on its own after training with threads', () => {
    // execFileSync returns only when the child exits; the timeout would kill a child that hangs
    const t0 = performance.now();
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'test/threads/train-exit.ts'],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KNET_THREADS: '2' } });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ threads: 2, now: 2, falls: true });
    expect(performance.now() - t0).toBeLessThan(60_000);
  });
});
