// The cpu device: tensors in WebAssembly linear memory, kernels from assembly/.
// Storage handles are byte offsets. Freed blocks go to free lists by size class;
// the heap only grows when no pooled block fits.

import type { Tensor } from '../../tensor.js';
import {
  type Broadcast, BinaryOp, type ConvGeometry, type Device, type PoolGeometry, type MemoryInfo, type OptimKind, ReduceOp, SoftmaxOp,
  type Storage, UnaryOp,
} from '../device.js';
import { FreeLists, sizeClass } from '../pool.js';
import { MAX_PAGES, PAGE, type KernelExports, type WasmModule } from './module.js';

const ALIGN = 16;
const META_BYTES = 1024;

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
  private scratch = 0;
  private scratchBytes = 0;

  constructor(mod: WasmModule) {
    this.wmem = mod.memory;
    this.k = mod.exports;
    this.relaxed = mod.relaxed;
    this.top = align(this.k.heapBase() as number);
    this.meta = this.bump(META_BYTES);
  }

  private bump(bytes: number): number {
    const p = this.top;
    const end = p + bytes;
    const have = this.wmem.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new Error(`knet cpu: out of WebAssembly memory: ${bytes} more bytes asked with ` +
          `${this.live} live and ${this.free.pooled} pooled (the limit is 4 GiB). ` +
          `Dispose tensors you no longer need, or use tidy().`);
      }
      this.wmem.grow(pages);
    }
    this.top = align(end);
    return p;
  }

  alloc(bytes: number): Storage {
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
    this.free.put(cls, s.handle);
  }

  memory(): MemoryInfo {
    return { live: this.live, pooled: this.free.pooled, tensors: this.count };
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
    if (out.dtype === 'int32') new Int32Array(this.wmem.buffer, this.ptr(out), out.size).fill(value);
    else this.k.fill(this.ptr(out), out.size, value);
  }
  unary(op: UnaryOp, x: Tensor, out: Tensor): void {
    this.k.unary(op, this.ptr(x), this.ptr(out), out.size);
  }
  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, swap: boolean): void {
    this.k.binaryScalar(op, this.ptr(x), s, this.ptr(out), out.size, swap ? 1 : 0);
  }
  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: Broadcast): void {
    const meta = this.writeMeta(p.shape, p.astrides, p.bstrides);
    this.k.binary(op, this.ptr(a), this.ptr(b), this.ptr(out), p.shape.length, meta);
  }
  stridedCopy(x: Tensor, out: Tensor, strides: number[]): void {
    const meta = this.writeMeta(out.shape as number[], strides);
    this.k.stridedCopy(this.ptr(x), this.ptr(out), out.shape.length, meta);
  }
  castToFloat(x: Tensor, out: Tensor): void {
    this.k.i32ToF32(this.ptr(x), this.ptr(out), x.size);
  }
  matmul(transA: boolean, transB: boolean, a: Tensor, b: Tensor, out: Tensor,
         M: number, N: number, K: number, alpha: number, beta: number): void {
    const need = this.k.gemmScratchBytes(M, N, K) as number;
    if (need > this.scratchBytes) {
      // The scratch block only grows; it is reused by every later gemm.
      if (this.scratchBytes) this.free.put(sizeClass(this.scratchBytes), this.scratch);
      this.scratchBytes = sizeClass(need);
      this.scratch = this.free.take(this.scratchBytes) ?? this.bump(this.scratchBytes);
    }
    const lda = transA ? M : K, ldb = transB ? K : N;
    this.k.gemm(+transA, +transB, M, N, K, alpha, this.ptr(a), lda, this.ptr(b), ldb, beta,
      this.ptr(out), N, this.scratch);
  }
  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    this.k.reduce(op, this.ptr(x), this.ptr(out), outer, r, inner);
  }
  softmax(op: SoftmaxOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    const f = op === SoftmaxOp.logsumexp ? 'logsumexp' : op === SoftmaxOp.softmax ? 'softmax' : 'logsoftmax';
    this.k[f](this.ptr(x), this.ptr(out), outer, r, inner);
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
    this.k.optimStep(kind, this.ptr(w), this.ptr(g), s1 ? this.ptr(s1) : 0, s2 ? this.ptr(s2) : 0,
      w.size, lr, gclip, a, b, eps, c1, c2);
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
    this.k.lstmForward(this.ptr(xg), hg ? this.ptr(hg) : 0, bias ? this.ptr(bias) : 0, this.ptr(cprev),
      this.ptr(acts), this.ptr(c), this.ptr(h), B, H);
  }
  lstmBackward(acts: Tensor, cprev: Tensor, c: Tensor, dh: Tensor, dh2: Tensor | null, dc: Tensor | null,
               dgates: Tensor, dcprev: Tensor, dbias: Tensor | null, B: number, H: number): void {
    this.k.lstmBackward(this.ptr(acts), this.ptr(cprev), this.ptr(c), this.ptr(dh), dh2 ? this.ptr(dh2) : 0,
      dc ? this.ptr(dc) : 0, this.ptr(dgates), this.ptr(dcprev), dbias ? this.ptr(dbias) : 0, B, H);
  }

  // convolution, pooling and dropout kernels (assembly/im2col.ts, pool.ts, dropout.ts)
  private convMeta(g: ConvGeometry): number {
    return this.writeMeta([g.N, g.C, g.H, g.W, g.O, g.kh, g.kw, g.Ho, g.Wo, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, +g.flip]);
  }
  /** The shared scratch block (also gemm's), grown to at least `need` bytes. */
  private scratchOf(need: number): number {
    if (need > this.scratchBytes) {
      if (this.scratchBytes) this.free.put(sizeClass(this.scratchBytes), this.scratch);
      this.scratchBytes = sizeClass(need);
      this.scratch = this.free.take(this.scratchBytes) ?? this.bump(this.scratchBytes);
    }
    return this.scratch;
  }
  conv4(w: Tensor, x: Tensor, y: Tensor, g: ConvGeometry): void {
    const meta = this.convMeta(g), s = this.scratchOf(this.k.conv4ScratchBytes(meta) as number);
    this.k.conv4Forward(this.ptr(x), this.ptr(w), this.ptr(y), meta, s);
  }
  conv4Filter(x: Tensor, dy: Tensor, dw: Tensor, g: ConvGeometry): void {
    const meta = this.convMeta(g), s = this.scratchOf(this.k.conv4ScratchBytes(meta) as number);
    this.k.conv4BackwardFilter(this.ptr(x), this.ptr(dy), this.ptr(dw), meta, s);
  }
  conv4Data(w: Tensor, dy: Tensor, dx: Tensor, g: ConvGeometry): void {
    const meta = this.convMeta(g), s = this.scratchOf(this.k.conv4ScratchBytes(meta) as number);
    this.k.conv4BackwardData(this.ptr(w), this.ptr(dy), this.ptr(dx), meta, s);
  }
  private poolMeta(g: PoolGeometry): number {
    return this.writeMeta([g.N * g.C, g.H, g.W, g.Ho, g.Wo, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.mode]);
  }
  pool(x: Tensor, y: Tensor, g: PoolGeometry): void {
    this.k.poolForward(this.ptr(x), this.ptr(y), this.poolMeta(g));
  }
  poolBackward(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, g: PoolGeometry): void {
    this.k.poolBackward(this.ptr(x), this.ptr(y), this.ptr(dy), this.ptr(dx), this.poolMeta(g));
  }
  dropout(x: Tensor, y: Tensor, p: number, key: readonly [number, number]): void {
    // drop element i when its 24-bit hash u < p * 2^24 (assembly/dropout.ts)
    this.k.dropout(this.ptr(x), this.ptr(y), x.size, Math.round(p * 16777216), 1 / (1 - p), key[0] | 0, key[1] | 0);
  }
}

function align(p: number): number { return (p + ALIGN - 1) & ~(ALIGN - 1); }
