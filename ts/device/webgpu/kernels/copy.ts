// Data-movement kernels of the gpu device (shaders/copy.wgsl): fill, int32 -> float32 cast,
// strided copy (permute, broadcastTo). A strided copy that is a (batched) 2-D transpose
// after merging axes goes through the tiled transpose kernel instead, whose reads and
// writes are both contiguous.

/// <reference types="@webgpu/types" />

import type { Tensor } from '../../../tensor.js';
import type { GpuContext, Kernel } from '../context.js';
import type { ShaderSources } from '../shaders.js';
import { mergeAxes } from '../../axes.js';

const MAX_DIMS = 8;

export class CopyKernels {
  private cache = new Map<string, Kernel>();
  readonly tile: number;
  constructor(private ctx: GpuContext, private src: ShaderSources) {
    const lim = ctx.device.limits;
    this.tile = Math.min(16, Math.floor(Math.sqrt(lim.maxComputeInvocationsPerWorkgroup)), lim.maxComputeWorkgroupSizeY);
  }

  private kernel(section: string, sig: string): Kernel {
    let k = this.cache.get(section);
    if (!k) {
      const consts: Record<string, number> = section === 'transpose' ? { TILE: this.tile } : { WG: this.ctx.wg };
      k = this.ctx.kernel(`copy.${section}`, this.src.get('copy', section), sig, consts);
      this.cache.set(section, k);
    }
    return k;
  }

  /** Fills with a 32-bit pattern: float32 value bits, or an int32. */
  fill(out: Tensor, bits: number): void {
    const c = this.ctx, k = this.kernel('fill', 'w'), n = out.size;
    const s = c.slot(4);
    c.u32[s] = n; c.u32[s + 1] = out.offset; c.u32[s + 2] = bits >>> 0;
    c.dispatch(k, [out.storage!.handle], s, ...c.grid(n));
  }

  cast(x: Tensor, out: Tensor): void {
    const c = this.ctx, k = this.kernel('cast', 'rw'), n = out.size;
    const s = c.slot(4);
    c.u32[s] = n; c.u32[s + 1] = x.offset; c.u32[s + 2] = out.offset;
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(n));
  }

  strided(x: Tensor, out: Tensor, strides: readonly number[]): void {
    const c = this.ctx, n = out.size;
    const [S, T] = mergeAxes(out.shape, strides);
    // [rows, cols] read column-wise (strides [1, rows]) is x^T for x of shape [cols, rows];
    // a leading axis with stride rows*cols makes it a batch of them.
    if (S.length === 2 && T[1] === S[0] && T[0] === 1) return this.transpose(x, out, S[1], S[0], 1);
    if (S.length === 3 && T[2] === S[1] && T[1] === 1 && T[0] === S[1] * S[2]) return this.transpose(x, out, S[2], S[1], S[0]);
    if (S.length > MAX_DIMS) throw new Error(`knet gpu: a strided copy over ${S.length} non-mergeable axes; the gpu kernel takes at most ${MAX_DIMS}`);
    const k = this.kernel('strided', 'rw');
    const s = c.slot(20);
    c.u32[s] = n; c.u32[s + 1] = x.offset; c.u32[s + 2] = out.offset; c.u32[s + 3] = S.length;
    for (let d = 0; d < S.length; d++) { c.u32[s + 4 + d] = S[d]; c.i32[s + 12 + d] = T[d]; }
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(n));
  }

  /** out[b] = x[b]^T for x viewed as [batch, rows, cols]. */
  private transpose(x: Tensor, out: Tensor, rows: number, cols: number, batch: number): void {
    const c = this.ctx, k = this.kernel('transpose', 'rw'), t = this.tile;
    const rowTiles = Math.ceil(rows / t);
    if (rowTiles * batch > c.maxGroups || Math.ceil(cols / t) > c.maxGroups) {
      // too many tiles for one grid: fall back to the general kernel
      const k2 = this.kernel('strided', 'rw'), s = c.slot(20);
      c.u32[s] = out.size; c.u32[s + 1] = x.offset; c.u32[s + 2] = out.offset; c.u32[s + 3] = 3;
      [batch, cols, rows].forEach((d, i) => { c.u32[s + 4 + i] = d; });
      [rows * cols, 1, cols].forEach((d, i) => { c.i32[s + 12 + i] = d; });
      c.dispatch(k2, [x.storage!.handle, out.storage!.handle], s, ...c.grid(out.size));
      return;
    }
    const s = c.slot(8);
    c.u32[s] = rows; c.u32[s + 1] = cols; c.u32[s + 2] = x.offset; c.u32[s + 3] = out.offset; c.u32[s + 4] = rowTiles;
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, Math.ceil(cols / t), rowTiles * batch);
  }
}
