// The gpu device: tensors in GPUBuffers, kernels from shaders/*.wgsl run through WebGPU.
// Storage handles are GPUBuffers from a size-class pool (buffers.ts). Every kernel call
// only records a dispatch (context.ts); the only waits are readbacks (read), so a whole
// training step is recorded without awaiting. Made by initGpu() (init.ts).

/// <reference types="@webgpu/types" />

import { Tensor } from '../../tensor.js';
import {
  type Broadcast, type BinaryOp, type ConvGeometry, type Device, type MemoryInfo, type OptimKind,
  type PoolGeometry, type ReduceOp, type SoftmaxOp, type Storage, type UnaryOp,
} from '../device.js';
import { BufferPool } from './buffers.js';
import { GpuContext, MAP_READ } from './context.js';
import { LabelGuard } from './labels.js';
import type { ShaderSources } from './shaders.js';
import { CopyKernels } from './kernels/copy.js';
import { ElementwiseKernels } from './kernels/elementwise.js';
import { IndexingKernels } from './kernels/indexing.js';
import { NnKernels } from './kernels/nn.js';
import { chooseTile, GemmKernels, type GemmKind } from './kernels/gemm.js';
import { OptimKernels } from './kernels/optim.js';
import { ReduceKernels } from './kernels/reduce.js';

const f32bits = new Float32Array(1);
const u32view = new Uint32Array(f32bits.buffer);

export class WebGpuDevice implements Device {
  readonly name = 'gpu' as const;
  readonly ctx: GpuContext;
  readonly buffers: BufferPool;
  readonly labels: LabelGuard;
  private elementwise: ElementwiseKernels;
  private copies: CopyKernels;
  private reductions: ReduceKernels;
  /** Exposed so that tests can run both gemm kernels on one adapter. */
  readonly gemm: GemmKernels;
  private optim: OptimKernels;
  private indexing: IndexingKernels;
  private nn: NnKernels;
  /** Stand-ins bound where a kernel has no such tensor (optimizer state, norm). */
  private dummies: GPUBuffer[];

  /** True when the adapter runs on a CPU (lavapipe, SwiftShader): some kernels are tuned for it. */
  readonly cpuLike: boolean;

  constructor(device: GPUDevice, shaders: ShaderSources, tuning: { cpuLike: boolean; gemm: GemmKind }) {
    this.cpuLike = tuning.cpuLike;
    this.ctx = new GpuContext(device);
    this.buffers = new BufferPool(this.ctx);
    this.labels = new LabelGuard(this.ctx);
    this.elementwise = new ElementwiseKernels(this.ctx, shaders);
    this.copies = new CopyKernels(this.ctx, shaders);
    this.reductions = new ReduceKernels(this.ctx, shaders, tuning.cpuLike);
    this.gemm = new GemmKernels(this.ctx, shaders, chooseTile(device.limits), tuning.gemm);
    this.optim = new OptimKernels(this.ctx, shaders);
    this.dummies = [0, 1, 2].map(() => device.createBuffer({ label: 'knet dummy', size: 16, usage: 0x80 /* STORAGE */ }));
    this.indexing = new IndexingKernels(this.ctx, shaders);
    this.nn = new NnKernels(this.ctx, shaders, this.dummies, {
      take: (bytes) => this.buffers.alloc(bytes), give: (b, bytes) => this.buffers.release(b, bytes),
    }, tuning.cpuLike);
  }

  // ---- memory ----------------------------------------------------------------------------

  alloc(bytes: number): Storage {
    return { device: this, handle: this.buffers.alloc(bytes), bytes, refs: 1 };
  }

  release(s: Storage): void {
    // The device may be gone (lost, or replaced by a later initGpu): nothing to pool then.
    if (this.ctx.lost) return;
    this.buffers.release(s.handle, s.bytes);
  }

  memory(): MemoryInfo {
    return { live: this.buffers.live, pooled: this.buffers.pooled, tensors: this.buffers.count };
  }

  /** Destroys pooled buffers (live tensors keep theirs). */
  trim(): void { this.buffers.trim(); }

  // ---- transfers -------------------------------------------------------------------------

  write(t: Tensor, data: Float32Array | Int32Array): void {
    this.ctx.check();
    if (t.size === 0) return;
    // queue.writeBuffer runs before commands still waiting in the encoder; one of them may
    // read this (pooled, reused) buffer's old contents, so submit them first.
    if (this.ctx.dirty) this.ctx.flush();
    this.ctx.queue.writeBuffer(t.storage!.handle, t.offset * 4, data.buffer, data.byteOffset, t.size * 4);
    if (t.dtype === 'int32') this.labels.remember(t, data as Int32Array);
  }

  readSync(t: Tensor): Float32Array | Int32Array {
    throw new Error(`knet gpu: the tensor ${JSON.stringify(t.shape)} lives on 'gpu', whose readback is ` +
      `asynchronous; use \`await x.data()\` (or \`await x.itemAsync()\`, \`await x.toAsync('cpu')\`).`);
  }

  async read(t: Tensor): Promise<Float32Array | Int32Array> {
    const ctx = this.ctx;
    ctx.check();
    const C = t.dtype === 'int32' ? Int32Array : Float32Array;
    const bytes = t.size * 4;
    const enc = ctx.copyEncoder();
    let staging: GPUBuffer | null = null;
    if (bytes) {
      staging = this.buffers.takeStaging(bytes);
      enc.copyBufferToBuffer(t.storage!.handle, t.offset * 4, staging, 0, bytes);
    }
    const labelCheck = this.labels.collect(enc, () => this.buffers.takeStaging(4096), (b) => this.buffers.putStaging(b));
    ctx.flush();
    let out: Float32Array | Int32Array;
    try {
      if (staging) await staging.mapAsync(MAP_READ, 0, bytes);
      out = staging ? new C(staging.getMappedRange(0, bytes).slice(0)) : new C(0);
    } catch (e) {
      ctx.check();
      await this.buffers.settled();
      ctx.throwPending();
      throw new Error(`knet gpu: reading a tensor back failed: ${(e as Error).message}`);
    }
    if (staging) { staging.unmap(); this.buffers.putStaging(staging); }
    await labelCheck?.();
    await this.buffers.settled();
    ctx.throwPending();
    return out;
  }

  // ---- kernels ---------------------------------------------------------------------------

  /** A temporary float32 tensor for partial results (pooled like any other). */
  private scratch = (n: number): Tensor => new Tensor(this.alloc(n * 4), [n], 'float32');

  fill(out: Tensor, value: number): void {
    let bits: number;
    if (out.dtype === 'int32') {
      bits = value | 0;
      this.labels.filled(out, bits);
    } else {
      f32bits[0] = value;
      bits = u32view[0];
    }
    this.copies.fill(out, bits);
  }
  unary(op: UnaryOp, x: Tensor, out: Tensor): void { this.elementwise.unary(op, x, out); }
  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, swap: boolean): void {
    this.elementwise.binaryScalar(op, x, s, out, swap);
  }
  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, plan: Broadcast): void {
    this.elementwise.binary(op, a, b, out, plan);
  }
  stridedCopy(x: Tensor, out: Tensor, strides: number[]): void {
    if (out.dtype === 'int32') {
      // copying labels: the copy's cpu shadow follows from the source's, when there is one
      const sh = this.labels.shadow(x);
      if (sh) {
        const v = new Int32Array(out.size);
        const shape = out.shape;
        for (let i = 0; i < v.length; i++) {
          let rest = i, at = 0;
          for (let d = shape.length - 1; d >= 0; d--) { at += (rest % shape[d]) * strides[d]; rest = Math.floor(rest / shape[d]); }
          v[i] = sh[at];
        }
        this.labels.remember(out, v);
      } else this.labels.forget(out);
    }
    this.copies.strided(x, out, strides);
  }
  castToFloat(x: Tensor, out: Tensor): void { this.copies.cast(x, out); }
  matmul(transA: boolean, transB: boolean, a: Tensor, b: Tensor, out: Tensor,
         M: number, N: number, K: number, alpha: number, beta: number): void {
    if (K === 0) {
      // an empty sum: C = beta * C
      if (beta === 0) this.fill(out, 0); else this.elementwise.binaryScalar(2 /* mul */, out, beta, out, false);
      return;
    }
    if (transB && this.gemm.kind === 'rowblock' && K >= 512) {
      // On CPU adapters each lane of the rowblock kernel walks its own column of op(B); with
      // B stored N x K those columns are K*4 bytes apart: from K = 512 on, every gather
      // touches as many pages as lanes. Transposing B first (one pass, O(N*K)) was measured
      // faster there (1.7x at 1024^3 on lavapipe), and slower for small K.
      const bt = this.scratch(N * K).view([K, N]);
      try {
        this.copies.strided(b, bt, [1, K]);
        this.gemm.matmul(transA, false, a, bt, out, M, N, K, alpha, beta);
      } finally { bt.dispose(); }
      return;
    }
    this.gemm.matmul(transA, transB, a, b, out, M, N, K, alpha, beta);
  }
  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    this.reductions.reduce(op, x, out, outer, r, inner, this.scratch);
  }
  softmax(op: SoftmaxOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    this.reductions.softmax(op, x, out, outer, r, inner);
  }
  argmax(x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    this.labels.forget(out);
    this.reductions.argmax(x, out, outer, r, inner);
  }
  pick(x: Tensor, labels: Tensor, out: Tensor, outer: number, r: number, inner: number): number {
    return this.picks(false, 'pick', x, labels, out, outer, r, inner);
  }
  unpick(g: Tensor, labels: Tensor, dx: Tensor, outer: number, r: number, inner: number): number {
    return this.picks(true, 'pick (gradient)', g, labels, dx, outer, r, inner);
  }
  private picks(back: boolean, op: string, x: Tensor, labels: Tensor, out: Tensor, outer: number, r: number, inner: number): number {
    // Labels uploaded from the cpu are checked here, synchronously, as on the cpu device;
    // others by the kernel, reported at the next readback (labels.ts).
    const bad = this.labels.validate(labels, r);
    if (bad !== null && bad >= 0) return bad;
    const slot = bad === null ? this.labels.slot(op, r) : 0;
    this.reductions.pick(back, x, labels, out, outer, r, inner, this.labels.errors, slot);
    return -1;
  }
  optimStep(kind: OptimKind, w: Tensor, g: Tensor, s1: Tensor | null, s2: Tensor | null,
            hyper: readonly number[]): void {
    let norm2: Tensor | null = null;
    if (hyper[1] > 0) {
      norm2 = this.scratch(1);
      this.reductions.sumSquares(g, norm2, this.scratch);
    }
    try {
      this.optim.step(kind, w, g, s1, s2, hyper, norm2, this.dummies);
    } finally { norm2?.dispose(); }
  }

  // ---- indexing, LSTM, convolution, pooling, dropout (optional Device kernels) -----------

  copyStrided(x: Tensor, out: Tensor, shape: readonly number[], xstrides: readonly number[],
              ostrides: readonly number[]): void {
    if (out.dtype === 'int32') this.labels.forget(out);
    this.indexing.copyStrided(x, out, shape, xstrides, ostrides);
  }
  gather(x: Tensor, ids: Tensor, out: Tensor, outer: number, n: number, inner: number): number {
    if (out.dtype === 'int32') this.labels.forget(out);
    return this.indexed(false, 'gather', x, ids, out, outer, n, inner);
  }
  scatterAdd(g: Tensor, ids: Tensor, dx: Tensor, outer: number, n: number, inner: number): number {
    return this.indexed(true, 'scatterAdd', g, ids, dx, outer, n, inner);
  }
  private indexed(scatter: boolean, op: string, x: Tensor, ids: Tensor, out: Tensor, outer: number, n: number, inner: number): number {
    // as pick: ids uploaded from the cpu are checked now, others by the kernel (labels.ts)
    const bad = this.labels.validate(ids, n);
    if (bad !== null && bad >= 0) return bad;
    const slot = bad === null ? this.labels.slot(op, n, 'id') : 0;
    this.indexing.run(scatter, x, ids, out, outer, n, inner, this.labels.errors, slot);
    return -1;
  }
  lstmForward(xg: Tensor, hg: Tensor | null, bias: Tensor | null, cprev: Tensor, acts: Tensor,
              c: Tensor, h: Tensor, B: number, H: number): void {
    this.nn.lstmForward(xg, hg, bias, cprev, acts, c, h, B, H);
  }
  lstmBackward(acts: Tensor, cprev: Tensor, c: Tensor, dh: Tensor, dh2: Tensor | null, dc: Tensor | null,
               dgates: Tensor, dcprev: Tensor, dbias: Tensor | null, B: number, H: number): void {
    this.nn.lstmBackward(acts, cprev, c, dh, dh2, dc, dgates, dcprev, dbias, B, H);
  }
  conv4(w: Tensor, x: Tensor, y: Tensor, g: ConvGeometry): void { this.nn.conv4(w, x, y, g); }
  conv4Filter(x: Tensor, dy: Tensor, dw: Tensor, g: ConvGeometry): void { this.nn.conv4Filter(x, dy, dw, g); }
  conv4Data(w: Tensor, dy: Tensor, dx: Tensor, g: ConvGeometry): void { this.nn.conv4Data(w, dy, dx, g); }
  pool(x: Tensor, y: Tensor, g: PoolGeometry): void { this.nn.pool(x, y, g); }
  poolBackward(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, g: PoolGeometry): void { this.nn.poolBackward(x, dy, dx, g); }
  dropout(x: Tensor, y: Tensor, p: number, key: readonly [number, number]): void { this.elementwise.dropout(x, y, p, key); }
}

