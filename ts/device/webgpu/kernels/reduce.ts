// Reduction kernels of the gpu device (shaders/reduce.wgsl) over x viewed as
// [outer, r, inner]: reduce, argmax, the softmax family, pick/unpick.
//
// inner == 1 (contiguous runs): a workgroup per run with a tree reduction. When there are
// few long runs (a full sum, the gradient norm for gclip), one workgroup per run would
// leave most of the GPU idle, so each run is cut into chunks reduced in parallel into a
// scratch tensor of partial results, and a second pass reduces those (sum for the
// sum-like ops, the op itself for max/min). inner > 1: a thread per output, walking r.

/// <reference types="@webgpu/types" />

import { ReduceOp, SoftmaxOp } from '../../device.js';
import type { Tensor } from '../../../tensor.js';
import type { GpuContext, Kernel } from '../context.js';
import type { ShaderSources } from '../shaders.js';

/** Elements one workgroup reduces per chunk before splitting a run pays off. */
const CHUNK = 4096;
/** Enough workgroups to fill a large GPU. */
const TARGET_GROUPS = 256;

export class ReduceKernels {
  private cache = new Map<string, Kernel>();
  /** Threads per workgroup of the row kernels (one workgroup per run). */
  private rowWg: number;
  /**
   * On adapters that run on a CPU, a workgroup's threads are SIMD lanes and each barrier
   * of the tree reduction costs a switch between them: small row workgroups, and one
   * thread per run whenever there are enough runs to keep the cores busy, are measured
   * to be 2-7x faster there (bench/gpu.ts, softmax rows).
   */
  constructor(private ctx: GpuContext, private src: ShaderSources, private cpuLike: boolean) {
    this.rowWg = cpuLike ? Math.min(16, ctx.wg) : ctx.wg;
  }

  /** Whether runs of length r (contiguous, inner == 1) are better reduced one per thread. */
  private perThread(outer: number, r: number): boolean {
    return r <= 64 || (this.cpuLike && outer >= 128);
  }

  kernel(section: string, sig: string, consts: Record<string, number> = {}): Kernel {
    const key = section + JSON.stringify(consts);
    let k = this.cache.get(key);
    if (!k) {
      const wg = section.endsWith('rows') ? this.rowWg : this.ctx.wg;
      k = this.ctx.kernel(`reduce.${section}`, this.src.get('reduce', section), sig, { WG: wg, ...consts });
      this.cache.set(key, k);
    }
    return k;
  }

  /** Runs reduced into `y` at element offset `yo`, as [rows, chunks] partials when chunks > 1. */
  private rows(op: ReduceOp, x: GPUBuffer, xo: number, y: GPUBuffer, yo: number, rows: number, r: number, chunks: number): void {
    const c = this.ctx, k = this.kernel('rows', 'rw', { OP: op });
    const chunk = Math.ceil(r / chunks);
    const s = c.slot(8);
    c.u32[s] = rows; c.u32[s + 1] = r; c.u32[s + 2] = chunk; c.u32[s + 3] = chunks; c.u32[s + 4] = xo; c.u32[s + 5] = yo;
    c.dispatch(k, [x, y], s, ...c.grid(rows * chunks, 1));
  }

  /** How many chunks to cut each of `rows` runs of length r into. */
  private chunksFor(rows: number, r: number): number {
    if (rows >= TARGET_GROUPS || r <= CHUNK) return 1;
    return Math.min(Math.ceil(r / CHUNK), Math.ceil(TARGET_GROUPS / rows), this.ctx.wg * 4);
  }

  /**
   * y[o, i] = R_j x[o, j, i]. `scratch(n)` lends a temporary float32 buffer of n elements
   * (for the partial results) and `done` returns it.
   */
  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number,
         scratch: (n: number) => Tensor): void {
    const c = this.ctx;
    if (inner === 1 && !this.perThread(outer, r)) {
      const chunks = this.chunksFor(outer, r);
      if (chunks === 1) { this.rows(op, x.storage!.handle, x.offset, out.storage!.handle, out.offset, outer, r, 1); return; }
      const part = scratch(outer * chunks);
      try {
        this.rows(op, x.storage!.handle, x.offset, part.storage!.handle, part.offset, outer, r, chunks);
        const second = op === ReduceOp.max || op === ReduceOp.min ? op : ReduceOp.sum;
        this.rows(second, part.storage!.handle, part.offset, out.storage!.handle, out.offset, outer, chunks, 1);
      } finally { part.dispose(); }
      return;
    }
    const k = this.kernel('cols', 'rw', { OP: op });
    const s = c.slot(8);
    c.u32[s] = outer; c.u32[s + 1] = r; c.u32[s + 2] = inner; c.u32[s + 3] = x.offset; c.u32[s + 4] = out.offset;
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(outer * inner));
  }

  /** The sum of squares of all of x into the one-element `out` (for gradient clipping). */
  sumSquares(x: Tensor, out: Tensor, scratch: (n: number) => Tensor): void {
    this.reduce(ReduceOp.sumabs2, x, out, 1, x.size, 1, scratch);
  }

  argmax(x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    const c = this.ctx;
    if (inner === 1 && !this.perThread(outer, r)) {
      const k = this.kernel('argmax_rows', 'rw'), s = c.slot(4);
      c.u32[s] = outer; c.u32[s + 1] = r; c.u32[s + 2] = x.offset; c.u32[s + 3] = out.offset;
      c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(outer, 1));
      return;
    }
    const k = this.kernel('argmax_cols', 'rw'), s = c.slot(8);
    c.u32[s] = outer; c.u32[s + 1] = r; c.u32[s + 2] = inner; c.u32[s + 3] = x.offset; c.u32[s + 4] = out.offset;
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(outer * inner));
  }

  softmax(op: SoftmaxOp, x: Tensor, out: Tensor, outer: number, r: number, inner: number): void {
    const c = this.ctx;
    if (inner === 1 && !this.perThread(outer, r)) {
      const k = this.kernel('softmax_rows', 'rw', { SM: op }), s = c.slot(4);
      c.u32[s] = outer; c.u32[s + 1] = r; c.u32[s + 2] = x.offset; c.u32[s + 3] = out.offset;
      c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(outer, 1));
      return;
    }
    const k = this.kernel('softmax_cols', 'rw', { SM: op }), s = c.slot(8);
    c.u32[s] = outer; c.u32[s + 1] = r; c.u32[s + 2] = inner; c.u32[s + 3] = x.offset; c.u32[s + 4] = out.offset;
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(outer * inner));
  }

  /** pick (forward: x, y = out) or unpick (backward: x = g, y = dx), with error slot `slot`. */
  pick(back: boolean, x: Tensor, labels: Tensor, out: Tensor, outer: number, r: number, inner: number,
       errors: GPUBuffer, slot: number): void {
    const c = this.ctx, k = this.kernel(back ? 'unpick' : 'pick', 'rrww'), s = c.slot(8);
    c.u32[s] = outer; c.u32[s + 1] = r; c.u32[s + 2] = inner; c.u32[s + 3] = x.offset;
    c.u32[s + 4] = labels.offset; c.u32[s + 5] = out.offset; c.u32[s + 6] = slot;
    const n = back ? outer * r * inner : outer * inner;
    c.dispatch(k, [x.storage!.handle, labels.storage!.handle, out.storage!.handle, errors], s, ...c.grid(n));
  }
}
