// Indexing kernels of the gpu device (shaders/copy.wgsl): copyStrided (slices that are not
// views, concatenation, a slice's gradient), gather and scatterAdd (embeddings, index
// lists). Ids follow the labels' rule (labels.ts): checked on the cpu before the dispatch
// when the device holds a cpu copy of them, else by the kernel and reported at the next
// readback.

/// <reference types="@webgpu/types" />

import type { Tensor } from '../../../tensor.js';
import type { GpuContext, Kernel } from '../context.js';
import type { ShaderSources } from '../shaders.js';
import { mergeAxes } from '../../axes.js';

const MAX_DIMS = 8;

export class IndexingKernels {
  private cache = new Map<string, Kernel>();
  constructor(private ctx: GpuContext, private src: ShaderSources) {}

  private kernel(section: string, sig: string): Kernel {
    let k = this.cache.get(section);
    if (!k) {
      k = this.ctx.kernel(`copy.${section}`, this.src.get('copy', section), sig, { WG: this.ctx.wg });
      this.cache.set(section, k);
    }
    return k;
  }

  copyStrided(x: Tensor, out: Tensor, shape: readonly number[], xstrides: readonly number[], ostrides: readonly number[]): void {
    const [S, X, Y] = mergeAxes(shape, xstrides, ostrides);
    if (S.length > MAX_DIMS) throw new Error(`knet gpu: a strided copy over ${S.length} non-mergeable axes; the gpu kernel takes at most ${MAX_DIMS}`);
    const n = S.reduce((a, b) => a * b, 1);
    if (n === 0) return;
    const c = this.ctx, k = this.kernel('copy_strided', 'rw'), s = c.slot(28);
    c.u32[s] = n; c.u32[s + 1] = x.offset; c.u32[s + 2] = out.offset; c.u32[s + 3] = S.length;
    for (let d = 0; d < S.length; d++) { c.u32[s + 4 + d] = S[d]; c.i32[s + 12 + d] = X[d]; c.i32[s + 20 + d] = Y[d]; }
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(n));
  }

  /** gather (scatter = false: x, out) or scatterAdd (scatter = true: g, dx). */
  run(scatter: boolean, x: Tensor, ids: Tensor, out: Tensor, outer: number, n: number, inner: number,
      errors: GPUBuffer, slot: number): void {
    const m = ids.size, total = outer * m * inner;
    if (total === 0) return;
    const c = this.ctx, k = this.kernel(scatter ? 'scatter_add' : 'gather', 'rrww'), s = c.slot(8);
    c.u32[s] = outer; c.u32[s + 1] = n; c.u32[s + 2] = inner; c.u32[s + 3] = m;
    c.u32[s + 4] = x.offset; c.u32[s + 5] = ids.offset; c.u32[s + 6] = out.offset; c.u32[s + 7] = slot;
    c.dispatch(k, [x.storage!.handle, ids.storage!.handle, out.storage!.handle, errors], s, ...c.grid(total));
  }
}
