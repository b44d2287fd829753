// The cpu device: tensors in WebAssembly linear memory, kernels from assembly/.
// Storage handles are byte offsets. Freed blocks go to free lists by size class;
// the heap only grows when no pooled block fits. While a worker that was stopped in the
// middle of its part may still be running (threads.ts, "Hung workers"), freed blocks are
// held back instead, and the scratch and metadata blocks its part may write are replaced:
// no memory it could write is handed out again until its thread has ended.
//
// Over a shared memory the device has a thread pool (threads.ts): heavy kernels are cut
// into parts along axes whose elements are independent (split.ts), so results are
// bit-identical for any number of threads; small ones run on the calling thread alone.

import type { Tensor } from '../../tensor.js';
import {
  type Broadcast, BinaryOp, type ConvGeometry, type Device, type PoolGeometry, type MemoryInfo, type OptimKind, ReduceOp, SoftmaxOp,
  type Storage, UnaryOp,
} from '../device.js';
import { FreeLists, sizeClass } from '../pool.js';
import { MAX_PAGES, PAGE, type KernelExports, type WasmModule } from './module.js';
import { MIN_WORK, partsFor, splitRange } from './split.js';
import { type Part, ThreadPool } from './threads.js';

const ALIGN = 16;
const META_BYTES = 1024;

/**
 * Where the unpacked kernels of gemmsmall.ts beat gemm.ts's packed ones (one thread, the
 * packed kernel forced for comparison; docs/design.md, "gemm"): products with at most 16
 * rows of C. NN (a small layer's forward W * x): with a [784, 100] batch coming from
 * memory, as in training, 1.25x at 10 rows and 1.12x at 16; with it in cache 1.08x at 10
 * rows and 0.94x at 12-16; 1.2-1.4x on wider B ([8-16, 512] * [512, 512]). NT with a depth
 * of at least 32 (its weight gradient dz * x^T): 1.27x at 10 x 784 x 100. From ~32 rows
 * on the packed kernel is faster, and for a depth below ~16 the dot products' final sums
 * across lanes cost too much. Mutable for tests and benchmarks.
 */
export const GEMM_SMALL = { rowsMaxM: 16, dotMaxM: 16, dotMinK: 32 };

/**
 * Which conv4 kernels take the direct path of convdirect.ts (the image read in place, no
 * packing) instead of im2col.ts's implicit GEMM: stride 1, dilation 1; with padding, on a
 * padded copy of the input (convPadImages). The forward from 8 output columns and up to
 * 256 taps (C*kh*kw; one depth block in im2col.ts, so the same bits), where it measured
 * 1.2-1.7x on one thread (LeNet's first layer 1.3x); the filter gradient for up to 32 taps
 * and whole runs of 4 output columns (1.3-1.5x; with a partial run, or more taps, slower).
 * docs/kernels.md, "convdirect.ts".
 */
export function convDirect(g: ConvGeometry): { forward: boolean; filter: boolean } {
  const plain = g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 && (CONV_DIRECT.padded || (g.ph === 0 && g.pw === 0));
  const T = g.C * g.kh * g.kw;
  return {
    forward: plain && g.Wo >= 8 && T <= CONV_DIRECT.forwardMaxTaps,
    filter: plain && g.Wo % 4 === 0 && T <= CONV_DIRECT.filterMaxTaps,
  };
}
/**
 * convDirect's limits, and `padded`: whether a padded stride-1 convolution runs on a padded
 * copy of its input (all three kernels; see padGeometry). Mutable so that tests and
 * benchmarks can compare the paths.
 */
export const CONV_DIRECT = { forwardMaxTaps: 256, filterMaxTaps: 32, padded: true };

/** The gemm kernel for a whole product: from its shape alone, never from a thread's strip. */
export function gemmKernel(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number):
  'gemmBlock' | 'gemmRowsBlock' | 'gemmDotBlock' {
  // K = 0 and alpha = 0 must not read A or B (BLAS): gemm.ts handles those.
  if (K === 0 || alpha === 0 || transA) return 'gemmBlock';
  if (!transB && M <= GEMM_SMALL.rowsMaxM) return 'gemmRowsBlock';
  if (transB && M <= GEMM_SMALL.dotMaxM && K >= GEMM_SMALL.dotMinK) return 'gemmDotBlock';
  return 'gemmBlock';
}

export class WasmDevice implements Device {
  readonly name = 'cpu' as const;
  readonly relaxed: boolean;
  private wmem: WebAssembly.Memory;
  private k: KernelExports;
  private top: number;
  private free = new FreeLists<number>();
  private live = 0;
  private count = 0;
  private meta: number;
  /** Packing scratch per thread (index 0: the calling thread); blocks only grow. */
  private scratches: Array<{ ptr: number; bytes: number }> = [];
  /** The thread pool, on a shared memory only (the `-mt` build). */
  readonly workers: ThreadPool | null;
  /** Blocks freed while a stopped worker may still write (size class, address). */
  private held: Array<[number, number]> = [];
  private heldBytes = 0;

  constructor(mod: WasmModule) {
    this.wmem = mod.memory;
    this.k = mod.exports;
    this.relaxed = mod.relaxed;
    this.top = align(this.k.heapBase() as number);
    this.meta = this.bump(META_BYTES);
    // The pool's control block sits in the first pages, below every tensor.
    this.workers = mod.shared ? new ThreadPool(mod, this.bump(ThreadPool.BYTES)) : null;
    if (this.workers) this.workers.onLoose = () => this.abandon();
  }

  /**
   * A worker was stopped in the middle of its part: the blocks that part may write besides
   * the op's output (the workers' packing scratch, depth slices, the kernel metadata) are
   * given up for new ones, and go back to the pool with the rest once it has ended.
   */
  private abandon(): void {
    for (const s of [...this.scratches.slice(1), this.slices]) {
      if (s.bytes) this.discard(s.bytes, s.ptr);
      s.ptr = 0; s.bytes = 0;
    }
    this.discard(META_BYTES, this.meta);
    this.meta = this.bump(META_BYTES);
  }

  /** Back to the pool; held back while a stopped worker may still write into it. */
  private discard(cls: number, handle: number): void {
    if (this.workers && !this.workers.settled()) { this.held.push([cls, handle]); this.heldBytes += cls; }
    else this.free.put(cls, handle);
  }

  /** Threads that kernels may use now (1 without a pool). */
  threads(): number { return this.workers ? this.workers.threads() : 1; }

  /** Runs one part here, or several on the pool (part 0 on this thread). */
  private run(parts: Part[]): void {
    if (parts.length === 1) this.k[parts[0].fn](...parts[0].args);
    else this.workers!.run(parts, this.k);
  }

  /** Element ranges [a, b) of n, in multiples of 4, for ops of n elements at `min` per part. */
  private ranges(n: number, min: number): Array<[number, number]> | null {
    const p = partsFor(this.threads(), n, min);
    return p > 1 ? splitRange(n, p, 4) : null;
  }

  private bump(bytes: number): number {
    const p = this.top;
    const end = p + bytes;
    const have = this.wmem.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new Error(`knet cpu: out of WebAssembly memory: ${bytes} more bytes asked with ` +
          `${this.live} live and ${this.free.pooled + this.heldBytes} pooled (the limit is 4 GiB). ` +
          `Dispose tensors you no longer need, or use tidy().`);
      }
      this.wmem.grow(pages);
    }
    this.top = align(end);
    return p;
  }

  alloc(bytes: number): Storage {
    if (this.held.length && this.workers!.settled()) {
      for (const [cls, h] of this.held) this.free.put(cls, h);
      this.held = [];
      this.heldBytes = 0;
    }
    const cls = sizeClass(Math.max(bytes, 4));
    const handle = this.free.take(cls) ?? this.bump(cls);
    this.live += cls;
    this.count++;
    return { device: this, handle, bytes, refs: 1 };
  }

  release(s: Storage): void {
    const cls = sizeClass(Math.max(s.bytes, 4));
    this.live -= cls;
    this.count--;
    this.discard(cls, s.handle);
  }

  memory(): MemoryInfo {
    return { live: this.live, pooled: this.free.pooled + this.heldBytes, tensors: this.count };
  }

  /** Byte address of a tensor's first element. */
  ptr(t: Tensor): number { return t.storage!.handle + t.offset * 4; }

  view(t: Tensor): Float32Array | Int32Array {
    const C = t.dtype === 'int32' ? Int32Array : Float32Array;
    return new C(this.wmem.buffer, this.ptr(t), t.size);
  }

  write(t: Tensor, data: Float32Array | Int32Array): void { this.view(t).set(data); }
  readSync(t: Tensor): Float32Array | Int32Array { return this.view(t).slice(); }
  async read(t: Tensor): Promise<Float32Array | Int32Array> { return this.readSync(t); }

  private writeMeta(...arrays: number[][]): number {
    const m = new Int32Array(this.wmem.buffer, this.meta, META_BYTES / 4);
    let i = 0;
    for (const a of arrays) for (const v of a) m[i++] = v;
    return this.meta;
  }

  fill(out: Tensor, value: number): void {
    if (out.dtype === 'int32') { new Int32Array(this.wmem.buffer, this.ptr(out), out.size).fill(value); return; }
    const y = this.ptr(out), r = this.ranges(out.size, MIN_WORK.elements);
    if (!r) this.k.fill(y, out.size, value);
    else this.run(r.map(([a, b]) => ({ fn: 'fill', args: [y + a * 4, b - a, value] })));
  }
  unary(op: UnaryOp, x: Tensor, out: Tensor): void {
    const px = this.ptr(x), py = this.ptr(out);
    const r = this.ranges(out.size, HEAVY_UNARY.has(op) ? MIN_WORK.heavyElements : MIN_WORK.elements);
    if (!r) this.k.unary(op, px, py, out.size);
    else this.run(r.map(([a, b]) => ({ fn: 'unary', args: [op, px + a * 4, py + a * 4, b - a] })));
  }
  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, swap: boolean): void {
    const px = this.ptr(x), py = this.ptr(out);
    const r = this.ranges(out.size, op === BinaryOp.pow ? MIN_WORK.heavyElements : MIN_WORK.elements);
    if (!r) this.k.binaryScalar(op, px, s, py, out.size, swap ? 1 : 0);
    else this.run(r.map(([a, b]) => ({ fn: 'binaryScalar', args: [op, px + a * 4, s, py + a * 4, b - a, swap ? 1 : 0] })));
  }
  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: Broadcast): void {
    const meta = this.writeMeta(p.shape, p.astrides, p.bstrides);
    const pa = this.ptr(a), pb = this.ptr(b), py = this.ptr(out), ndim = p.shape.length;
    const parts = ndim === 0 ? 1
      : partsFor(this.threads(), out.size, op === BinaryOp.pow ? MIN_WORK.heavyElements : MIN_WORK.elements);
    if (parts === 1 || p.shape[0] < 2) { this.k.binary(op, pa, pb, py, ndim, meta); return; }
    // the outermost axis: whole rows when there are inner axes, 4-element runs otherwise
    const r = splitRange(p.shape[0], parts, ndim === 1 ? 4 : 1);
    this.run(r.map(([i0, i1]) => ({ fn: 'binaryOuter', args: [op, pa, pb, py, ndim, meta, i0, i1] })));
  }
  stridedCopy(x: Tensor, out: Tensor, strides: number[]): void {
    const meta = this.writeMeta(out.shape as number[], strides);
    this.k.stridedCopy(this.ptr(x), this.ptr(out), out.shape.length, meta);
  }
  castToFloat(x: Tensor, out: Tensor): void {
    const px = this.ptr(x), py = this.ptr(out), r = this.ranges(x.size, MIN_WORK.elements);
    if (!r) this.k.i32ToF32(px, py, x.size);
    else this.run(r.map(([a, b]) => ({ fn: 'i32ToF32', args: [px + a * 4, py + a * 4, b - a] })));
  }
  matmul(transA: boolean, transB: boolean, a: Tensor, b: Tensor, out: Tensor,
         M: number, N: number, K: number, alpha: number, beta: number): void {
    const lda = transA ? M : K, ldb = transB ? K : N;
    const pa = this.ptr(a), pb = this.ptr(b), pc = this.ptr(out);
    const parts = partsFor(this.threads(), 2 * M * N * K, MIN_WORK.flops);
    // Strips of C along its longer side: each thread reads (gemm.ts: packs) the whole of the
    // other operand, which costs least relative to the strip's arithmetic when the strips
    // are long. Both kernel files are bit-identical for any cut; rows go in multiples of 6,
    // the relaxed build's micro-tile height (the plain build's is 4, so a strip there may
    // end in a 2-row panel), and columns of the width 8, so that strips do not compute
    // tiles they then throw half away.
    const strips = parts === 1 ? [[0, M, 0, N]]
      : M >= N ? splitRange(M, parts, 6).map(([m0, m1]) => [m0, m1, 0, N])
      : splitRange(N, parts, 8).map(([n0, n1]) => [0, M, n0, n1]);
    const kernel = gemmKernel(transA, transB, M, N, K, alpha);
    if (kernel !== 'gemmBlock') { // gemmsmall.ts: no packing, no scratch
      this.run(strips.map(([m0, m1, n0, n1]) => ({ fn: kernel, args: [m0, m1, n0, n1, K, alpha, pa, lda, pb, ldb, beta, pc, N] })));
      return;
    }
    if (parts === 1) {
      const s = this.scratchOf(0, this.k.gemmScratchBytes(M, N, K) as number);
      this.k.gemm(+transA, +transB, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, N, s);
      return;
    }
    // A thin, deep product (the MLP's forward [64, 784] x [784, 100]) is cut over its depth
    // slices instead (gemm.ts, "Depth slices"), where strips would pack one operand on
    // every thread (op(B), K x N, for rows; op(A), M x K, for columns) and the slices'
    // extra [M, N] results cost less; only with alpha 1 and beta 0 or 1 (the same bits as
    // one call then) and whole slices per thread.
    const slices = this.k.gemmSliceCount(K) as number;
    if (alpha === 1 && (beta === 0 || beta === 1) && slices % parts === 0 && slices * M * N < (M >= N ? K * N : M * K)) {
      const out = this.sliceBuffer((slices - 1) * M * N * 4);
      const need = this.k.gemmBlockScratchBytes(M, N, K) as number;
      this.run(splitRange(slices, parts, 1).map(([s0, s1], t) =>
        ({ fn: 'gemmSlices', args: [+transA, +transB, M, N, K, pa, lda, pb, ldb, beta, pc, N, out, s0, s1, this.scratchOf(t, need)] })));
      this.k.gemmSumSlices(pc, N, M, N, out, slices - 1);
      return;
    }
    this.run(strips.map(([m0, m1, n0, n1], t) => {
      const s = this.scratchOf(t, this.k.gemmBlockScratchBytes(m1 - m0, n1 - n0, K) as number);
      return { fn: 'gemmBlock', args: [+transA, +transB, m0, m1, n0, n1, K, alpha, pa, lda, pb, ldb, beta, pc, N, s] };
    }));
  }
  /** Outer or inner ranges for the [outer, r, inner] kernels (never r: sums keep their order). */
  private reduceParts(outer: number, r: number, inner: number, min: number): Array<[number, number, number, number]> | null {
    const parts = partsFor(this.threads(), outer * r * inner, min);
    if (parts === 1) return null;
    if (outer >= parts || (inner === 1 && outer > 1)) {
      return splitRange(outer, parts, 1).map(([o0, o1]) => [o0, o1, 0, inner]);
    }
    if (inner >= 8) return splitRange(inner, parts, inner >= 16 * parts ? 16 : 4).map(([i0, i1]) => [0, outer, i0, i1]);
    return outer > 1 ? splitRange(outer, parts, 1).map(([o0, o1]) => [o0, o1, 0, inner]) : null;
  }
  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    const px = this.ptr(x), py = this.ptr(out), split = this.reduceParts(outer, r, inner, MIN_WORK.reduceElements);
    if (!split) this.k.reduce(op, px, py, outer, r, inner);
    else this.run(split.map((q) => ({ fn: 'reduceRange', args: [op, px, py, outer, r, inner, ...q] })));
  }
  softmax(op: SoftmaxOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    const px = this.ptr(x), py = this.ptr(out), split = this.reduceParts(outer, r, inner, MIN_WORK.heavyElements);
    // SoftmaxOp's codes are softmaxRange's kinds: 0 logsumexp, 1 softmax, 2 logsoftmax
    if (split) { this.run(split.map((q) => ({ fn: 'softmaxRange', args: [op, px, py, outer, r, inner, ...q] }))); return; }
    const f = op === SoftmaxOp.logsumexp ? 'logsumexp' : op === SoftmaxOp.softmax ? 'softmax' : 'logsoftmax';
    this.k[f](px, py, outer, r, inner);
  }
  argmax(x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    this.k.argmax(this.ptr(x), this.ptr(out), outer, r, inner);
  }
  pick(x: Tensor, labels: Tensor, out: Tensor, outer: number, r: number, inner: number): number {
    return this.k.pick(this.ptr(x), this.ptr(labels), this.ptr(out), outer, r, inner) as number;
  }
  unpick(g: Tensor, labels: Tensor, dx: Tensor, outer: number, r: number, inner: number): number {
    return this.k.unpick(this.ptr(g), this.ptr(labels), this.ptr(dx), outer, r, inner) as number;
  }
  optimStep(kind: OptimKind, w: Tensor, g: Tensor, s1: Tensor | null, s2: Tensor | null,
            hyper: readonly number[]): void {
    const [lr, gclip, a, b, eps, c1, c2] = hyper;
    const pw = this.ptr(w), pg = this.ptr(g), p1 = s1 ? this.ptr(s1) : 0, p2 = s2 ? this.ptr(s2) : 0;
    const r = this.ranges(w.size, MIN_WORK.reduceElements);
    if (!r) { this.k.optimStep(kind, pw, pg, p1, p2, w.size, lr, gclip, a, b, eps, c1, c2); return; }
    // The clipping norm is one sum over all of g: computed once here, in one order.
    const gs = this.k.optimClipScale(pg, w.size, gclip) as number;
    this.run(r.map(([i, j]) => ({
      fn: 'optimStepScaled',
      args: [kind, pw + i * 4, pg + i * 4, p1 && p1 + i * 4, p2 && p2 + i * 4, j - i, gs, lr, a, b, eps, c1, c2],
    })));
  }

  // indexing and LSTM kernels (assembly/gather.ts, assembly/lstm.ts)
  copyStrided(x: Tensor, out: Tensor, shape: readonly number[], xstrides: readonly number[],
              ostrides: readonly number[]): void {
    const meta = this.writeMeta(shape as number[], xstrides as number[], ostrides as number[]);
    this.k.copyStrided(this.ptr(x), this.ptr(out), shape.length, meta);
  }
  gather(x: Tensor, ids: Tensor, out: Tensor, outer: number, n: number, inner: number): number {
    return this.k.gather(this.ptr(x), this.ptr(ids), this.ptr(out), outer, n, inner, ids.size) as number;
  }
  scatterAdd(g: Tensor, ids: Tensor, dx: Tensor, outer: number, n: number, inner: number): number {
    return this.k.scatterAdd(this.ptr(g), this.ptr(ids), this.ptr(dx), outer, n, inner, ids.size) as number;
  }
  lstmForward(xg: Tensor, hg: Tensor | null, bias: Tensor | null, cprev: Tensor, acts: Tensor,
              c: Tensor, h: Tensor, B: number, H: number): void {
    const px = this.ptr(xg), ph = hg ? this.ptr(hg) : 0, pb = bias ? this.ptr(bias) : 0, pcp = this.ptr(cprev);
    const pa = this.ptr(acts), pc = this.ptr(c), pH = this.ptr(h);
    const parts = partsFor(this.threads(), B * H * 4, MIN_WORK.heavyElements);
    if (parts === 1) { this.k.lstmForward(px, ph, pb, pcp, pa, pc, pH, B, H); return; }
    // rows are independent: each thread gets a block of rows ([B, 4H] and [B, H] arrays)
    const g = 16 * H, s = 4 * H;
    this.run(splitRange(B, parts, 1).map(([r0, r1]) => ({
      fn: 'lstmForward',
      args: [px + r0 * g, ph && ph + r0 * g, pb, pcp + r0 * s, pa + r0 * g, pc + r0 * s, pH + r0 * s, r1 - r0, H],
    })));
  }
  lstmBackward(acts: Tensor, cprev: Tensor, c: Tensor, dh: Tensor, dh2: Tensor | null, dc: Tensor | null,
               dgates: Tensor, dcprev: Tensor, dbias: Tensor | null, B: number, H: number): void {
    const args = [this.ptr(acts), this.ptr(cprev), this.ptr(c), this.ptr(dh), dh2 ? this.ptr(dh2) : 0,
      dc ? this.ptr(dc) : 0, this.ptr(dgates), this.ptr(dcprev), dbias ? this.ptr(dbias) : 0, B, H];
    const parts = partsFor(this.threads(), B * H * 4, MIN_WORK.heavyElements);
    if (parts === 1 || H < 8) { this.k.lstmBackward(...args); return; }
    // columns, not rows: dbias sums over the rows, and keeps their order this way
    this.run(splitRange(H, parts, 4).map(([j0, j1]) => ({ fn: 'lstmBackwardCols', args: [...args, j0, j1] })));
  }

  // convolution, pooling and dropout kernels (assembly/im2col.ts, pool.ts, dropout.ts)
  private convMeta(g: ConvGeometry): number {
    return this.writeMeta([g.N, g.C, g.H, g.W, g.O, g.kh, g.kw, g.Ho, g.Wo, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, +g.flip]);
  }
  /**
   * Thread t's scratch block (gemm's packing and conv's), grown to at least `need` bytes.
   * Blocks only grow, and are reused by every later call.
   */
  private scratchOf(t: number, need: number): number {
    return this.grown(this.scratches[t] ??= { ptr: 0, bytes: 0 }, need);
  }

  /** The depth slices' [M, N] results (gemm.ts, "Depth slices"): a block that only grows. */
  private sliceBuffer(need: number): number { return this.grown(this.slices, need); }
  private slices = { ptr: 0, bytes: 0 };

  /** A block that only grows: at least `need` bytes, its old storage back to the pool. */
  private grown(s: { ptr: number; bytes: number }, need: number): number {
    if (need > s.bytes) {
      if (s.bytes) this.discard(s.bytes, s.ptr);
      s.bytes = sizeClass(need);
      s.ptr = this.free.take(s.bytes) ?? this.bump(s.bytes);
    }
    return s.ptr;
  }
  /** Parts for a conv kernel of N images: how many threads its flops are worth. */
  private convParts(g: ConvGeometry): number {
    return partsFor(this.threads(), 2 * g.N * g.O * g.C * g.kh * g.kw * g.Ho * g.Wo, MIN_WORK.flops);
  }
  conv4(w: Tensor, x: Tensor, y: Tensor, g: ConvGeometry): void {
    this.onPadded(this.ptr(x), g, (px, g) => {
      const direct = convDirect(g).forward, fn = direct ? 'convDirectForwardImages' : 'conv4ForwardImages';
      const meta = this.convMeta(g), pw = this.ptr(w), py = this.ptr(y), parts = this.convParts(g);
      const need = (direct ? this.k.convDirectScratchBytes(meta) : this.k.conv4ScratchBytes(meta)) as number;
      if (parts === 1 || g.N < 2) { this.k[fn](px, pw, py, meta, this.scratchOf(0, need), 0, g.N); return; }
      // images are independent; each thread packs the filter into its own scratch
      this.run(splitRange(g.N, parts, 1).map(([n0, n1], t) =>
        ({ fn, args: [px, pw, py, meta, this.scratchOf(t, need), n0, n1] })));
    });
  }
  conv4Filter(x: Tensor, dy: Tensor, dw: Tensor, g: ConvGeometry): void {
    this.onPadded(this.ptr(x), g, (px, g) => {
      const meta = this.convMeta(g), pdy = this.ptr(dy), pdw = this.ptr(dw), parts = this.convParts(g);
      if (convDirect(g).filter) {
        // units (channel pair, tap block) are summed whole by one thread: any split, same bits
        const need = this.k.convDirectScratchBytes(meta) as number, units = this.k.convDirectFilterUnitCount(meta) as number;
        if (parts === 1 || units < 2) { this.k.convDirectFilterUnits(px, pdy, pdw, meta, this.scratchOf(0, need), 0, units); return; }
        this.run(splitRange(units, parts, 1).map(([u0, u1], t) =>
          ({ fn: 'convDirectFilterUnits', args: [px, pdy, pdw, meta, this.scratchOf(t, need), u0, u1] })));
        return;
      }
      const need = this.k.conv4ScratchBytes(meta) as number;
      const T = g.C * g.kh * g.kw;
      if (parts === 1 || T < 16) { this.k.conv4BackwardFilter(px, pdy, pdw, meta, this.scratchOf(0, need)); return; }
      // dw sums over images: split its taps (columns, multiples of the micro-tile's 8)
      // instead, so every element adds its terms in the one-thread order
      this.run(splitRange(T, parts, 8).map(([t0, t1], t) =>
        ({ fn: 'conv4BackwardFilterTaps', args: [px, pdy, pdw, meta, this.scratchOf(t, need), t0, t1] })));
    });
  }
  conv4Data(w: Tensor, dy: Tensor, dx: Tensor, g: ConvGeometry): void {
    const pw = this.ptr(w), pdy = this.ptr(dy), parts = this.convParts(g);
    const grad = (pdx: number, g: ConvGeometry) => {
      const meta = this.convMeta(g), need = this.k.conv4ScratchBytes(meta) as number;
      if (parts === 1 || g.N < 2) this.k.conv4BackwardData(pw, pdy, pdx, meta, this.scratchOf(0, need));
      else this.run(splitRange(g.N, parts, 1).map(([n0, n1], t) =>
        ({ fn: 'conv4BackwardDataImages', args: [pw, pdy, pdx, meta, this.scratchOf(t, need), n0, n1] })));
    };
    // a padded stride-1 convolution: the unpadded gradient of the padded input, then cropped
    const cropped = this.withPadBlock(g, (block, gp) => {
      grad(block, gp);
      this.byImages('convCropImages', block, this.ptr(dx), g);
    });
    if (!cropped) grad(this.ptr(dx), g);
  }
  /**
   * A padded convolution with stride 1 reads a padded copy of its input (convPadImages) as
   * an unpadded one: every kernel then takes its fast interior path (and with dilation 1 the
   * direct kernels apply). The unpadded geometry of that copy, or g itself. (With stride 2
   * the copy measured 5-12% slower: im2col.ts packs those pixel by pixel either way.)
   */
  private padGeometry(g: ConvGeometry): ConvGeometry {
    if ((g.ph === 0 && g.pw === 0) || !CONV_DIRECT.padded || g.sh !== 1 || g.sw !== 1) return g;
    return { ...g, H: g.H + 2 * g.ph, W: g.W + 2 * g.pw, ph: 0, pw: 0 };
  }
  /** f(x, g), or, where padGeometry applies, f on a padded copy of x with its geometry. */
  private onPadded(x: number, g: ConvGeometry, f: (x: number, g: ConvGeometry) => void): void {
    const padded = this.withPadBlock(g, (block, gp) => {
      this.byImages('convPadImages', x, block, g);
      f(block, gp);
    });
    if (!padded) f(x, g);
  }
  /**
   * Where padGeometry applies: f(block, padded geometry) with a block of the padded shape
   * from the pool, returned to it after (so memory stays flat), and true; else false.
   */
  private withPadBlock(g: ConvGeometry, f: (block: number, gp: ConvGeometry) => void): boolean {
    const gp = this.padGeometry(g);
    if (gp === g) return false;
    const tmp = this.alloc(4 * g.N * g.C * gp.H * gp.W);
    try { f(tmp.handle, gp); } finally { this.release(tmp); }
    return true;
  }
  /** convPadImages or convCropImages (src to dst, g's padding) over the images, threads splitting them. */
  private byImages(fn: 'convPadImages' | 'convCropImages', src: number, dst: number, g: ConvGeometry): void {
    const meta = this.convMeta(g), parts = partsFor(this.threads(), g.N * g.C * (g.H + 2 * g.ph) * (g.W + 2 * g.pw), MIN_WORK.elements);
    if (parts === 1 || g.N < 2) this.k[fn](src, dst, meta, 0, g.N);
    else this.run(splitRange(g.N, parts, 1).map(([n0, n1]) => ({ fn, args: [src, dst, meta, n0, n1] })));
  }
  private poolMeta(g: PoolGeometry): number {
    return this.writeMeta([g.N * g.C, g.H, g.W, g.Ho, g.Wo, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.mode]);
  }
  /** Plane ranges for pooling (planes are independent), or null for one thread. */
  private poolParts(g: PoolGeometry): Array<[number, number]> | null {
    const NC = g.N * g.C, parts = partsFor(this.threads(), NC * g.H * g.W, MIN_WORK.elements);
    return parts > 1 && NC > 1 ? splitRange(NC, parts, 1) : null;
  }
  pool(x: Tensor, y: Tensor, g: PoolGeometry): void {
    const px = this.ptr(x), py = this.ptr(y), meta = this.poolMeta(g), r = this.poolParts(g);
    if (!r) this.k.poolForward(px, py, meta);
    else this.run(r.map(([p0, p1]) => ({ fn: 'poolForwardPlanes', args: [px, py, meta, p0, p1] })));
  }
  poolBackward(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, g: PoolGeometry): void {
    const args = [this.ptr(x), this.ptr(y), this.ptr(dy), this.ptr(dx), this.poolMeta(g)], r = this.poolParts(g);
    if (!r) this.k.poolBackward(...args);
    else this.run(r.map(([p0, p1]) => ({ fn: 'poolBackwardPlanes', args: [...args, p0, p1] })));
  }
  dropout(x: Tensor, y: Tensor, p: number, key: readonly [number, number]): void {
    // drop element i when its 24-bit hash u < p * 2^24 (assembly/dropout.ts)
    const px = this.ptr(x), py = this.ptr(y), t = Math.round(p * 16777216), scale = 1 / (1 - p);
    const r = this.ranges(x.size, MIN_WORK.elements);
    if (!r) { this.k.dropout(px, py, x.size, t, scale, key[0] | 0, key[1] | 0); return; }
    // the mask hashes the element index plus key[0]: a range starting at i adds i to it
    this.run(r.map(([i, j]) => ({ fn: 'dropout', args: [px + i * 4, py + i * 4, j - i, t, scale, (key[0] + i) | 0, key[1] | 0] })));
  }
}

function align(p: number): number { return (p + ALIGN - 1) & ~(ALIGN - 1); }

/** Unary ops whose lane code is a polynomial or a division, not one instruction. */
const HEAVY_UNARY = new Set<UnaryOp>([UnaryOp.exp, UnaryOp.log, UnaryOp.tanh, UnaryOp.sigm, UnaryOp.invx, UnaryOp.sqrt]);
