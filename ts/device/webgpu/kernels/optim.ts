// Fused optimizer steps of the gpu device (shaders/optim.wgsl), one kernel per OptimKind.
// With gradient clipping, a reduction pass (sum of squares of g, reduce.ts) runs first into
// a one-element buffer that the step kernel reads; both are recorded back to back, with
// no readback in between.

/// <reference types="@webgpu/types" />

import type { OptimKind } from '../../device.js';
import type { Tensor } from '../../../tensor.js';
import type { GpuContext, Kernel } from '../context.js';
import type { ShaderSources } from '../shaders.js';

export class OptimKernels {
  private cache = new Map<number, Kernel>();
  constructor(private ctx: GpuContext, private src: ShaderSources) {}

  private kernel(kind: OptimKind): Kernel {
    let k = this.cache.get(kind);
    if (!k) {
      k = this.ctx.kernel(`optim.${kind}`, this.src.get('optim', 'step'), 'wrwwr', { WG: this.ctx.wg, KIND: kind });
      this.cache.set(kind, k);
    }
    return k;
  }

  /** `norm2` holds sum(g^2) when clipping (else null); dummies stand in for absent buffers. */
  step(kind: OptimKind, w: Tensor, g: Tensor, s1: Tensor | null, s2: Tensor | null, hyper: readonly number[],
       norm2: Tensor | null, dummies: readonly GPUBuffer[]): void {
    const c = this.ctx, k = this.kernel(kind), n = w.size;
    const [lr, gclip, a, b, eps, c1, c2] = hyper;
    const s = c.slot(16);
    c.u32[s] = n; c.u32[s + 1] = w.offset; c.u32[s + 2] = g.offset;
    c.u32[s + 3] = s1?.offset ?? 0; c.u32[s + 4] = s2?.offset ?? 0; c.u32[s + 5] = norm2 ? 1 : 0;
    c.f32[s + 8] = lr; c.f32[s + 9] = gclip; c.f32[s + 10] = a; c.f32[s + 11] = b;
    c.f32[s + 12] = eps; c.f32[s + 13] = c1; c.f32[s + 14] = c2;
    c.dispatch(k, [
      w.storage!.handle, g.storage!.handle,
      s1 ? s1.storage!.handle : dummies[0], s2 ? s2.storage!.handle : dummies[1],
      norm2 ? norm2.storage!.handle : dummies[2],
    ], s, ...c.grid(n));
  }
}
