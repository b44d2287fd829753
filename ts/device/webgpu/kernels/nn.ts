// Neural-network kernels of the gpu device: the fused LSTM cell (shaders/lstm.wgsl),
// conv4 and pooling (shaders/conv.wgsl), with the cpu's geometry and semantics.

/// <reference types="@webgpu/types" />

import type { ConvGeometry, PoolGeometry } from '../../device.js';
import type { Tensor } from '../../../tensor.js';
import type { GpuContext, Kernel } from '../context.js';
import type { Family, ShaderSources } from '../shaders.js';

/**
 * When the filter gradient gives each tap a workgroup instead of one thread (conv.wgsl,
 * conv_filter_split): on a GPU, with at least minSum products per tap (N*Ho*Wo) and at
 * most maxTaps taps, where one thread per tap leaves most of the GPU idle; never on a CPU
 * adapter (lavapipe: 1.0-1.2x slower split: few threads, and barriers cost). Measured on
 * an H200 (conv4 forward + dw per step): LeNet's layer 1 (500 taps of 57,600 products)
 * 5.47 -> 0.41 ms, layer 2 (25,000 taps of 6,400) 1.12 -> 0.68 ms, but 64 -> 64 channels
 * 3x3 on 32x32 (36,864 taps of 28,800) 5.07 -> 10.1 ms (each thread walks its own rows,
 * so a workgroup's reads do not coalesce): hence maxTaps, somewhere between the two and
 * not pinned down further. Mutable so that tests can run both kernels on every shape.
 */
export const CONV_FILTER_SPLIT = { minSum: 4096, minSumCpu: Infinity, maxTaps: 1 << 15 };

/** Lends whole buffers for the outputs that alias another binding (see bind). */
export interface TempBuffers { take(bytes: number): GPUBuffer; give(b: GPUBuffer, bytes: number): void }

export class NnKernels {
  private cache = new Map<string, Kernel>();
  constructor(private ctx: GpuContext, private src: ShaderSources, private dummies: readonly GPUBuffer[],
              private temps: TempBuffers, private cpuLike = false) {}

  /**
   * The buffers to bind for `roles` (a tensor, or null for a dummy) where `writes[i]` marks
   * outputs. WebGPU rejects a dispatch that binds one buffer writable twice, or writable
   * and read-only; the LSTM ops pass views of one buffer for several roles (h and c of a
   * step, c(t) and c(t+1)). Such an output is bound to a temporary buffer of the same size
   * (so element offsets stay valid) and its range copied back by `done()`, recorded right
   * after the dispatch. Outputs are written whole, so nothing needs copying in.
   */
  private bind(roles: (Tensor | null)[], writes: readonly boolean[]): { buffers: GPUBuffer[]; done: () => void } {
    const buffers = roles.map((t, i) => (t ? t.storage!.handle as GPUBuffer : this.dummies[i % 2]));
    const back: [GPUBuffer, GPUBuffer, number, number][] = [];
    roles.forEach((t, i) => {
      if (!t || !writes[i] || !buffers.some((b, j) => j !== i && b === buffers[i])) return;
      const orig = buffers[i];
      buffers[i] = this.temps.take(orig.size);
      back.push([buffers[i], orig, t.offset * 4, t.size * 4]);
    });
    return {
      buffers,
      done: () => {
        if (!back.length) return;
        const enc = this.ctx.copyEncoder();
        for (const [tmp, orig, at, bytes] of back) {
          enc.copyBufferToBuffer(tmp, at, orig, at, bytes);
          this.temps.give(tmp, tmp.size);  // later commands on the queue run after this copy
        }
      },
    };
  }

  private kernel(family: Family, section: string, sig: string): Kernel {
    const key = `${family}.${section}`;
    let k = this.cache.get(key);
    if (!k) {
      k = this.ctx.kernel(key, this.src.get(family, section), sig, { WG: this.ctx.wg });
      this.cache.set(key, k);
    }
    return k;
  }

  lstmForward(xg: Tensor, hg: Tensor | null, bias: Tensor | null, cprev: Tensor, acts: Tensor,
              c: Tensor, h: Tensor, B: number, H: number): void {
    const x = this.ctx, k = this.kernel('lstm', 'forward', 'rrrrwww');
    const b = this.bind([xg, hg, bias, cprev, acts, c, h], [false, false, false, false, true, true, true]);
    const s = x.slot(12);
    x.u32.set([B, H, (hg ? 1 : 0) | (bias ? 2 : 0), xg.offset, hg?.offset ?? 0, bias?.offset ?? 0,
      cprev.offset, acts.offset, c.offset, h.offset], s);
    x.dispatch(k, b.buffers, s, ...x.grid(B * H));
    b.done();
  }

  lstmBackward(acts: Tensor, cprev: Tensor, c: Tensor, dh: Tensor, dh2: Tensor | null, dc: Tensor | null,
               dgates: Tensor, dcprev: Tensor, dbias: Tensor | null, B: number, H: number): void {
    const x = this.ctx, k = this.kernel('lstm', 'backward', 'rrrrrrww');
    const bb = this.bind([acts, cprev, c, dh, dh2, dc, dgates, dcprev], [false, false, false, false, false, false, true, true]);
    const s = x.slot(12);
    x.u32.set([B, H, (dh2 ? 1 : 0) | (dc ? 2 : 0), acts.offset, cprev.offset, c.offset, dh.offset,
      dh2?.offset ?? 0, dc?.offset ?? 0, dgates.offset, dcprev.offset], s);
    x.dispatch(k, bb.buffers, s, ...x.grid(B * H));
    bb.done();
    if (dbias) {
      const kb = this.kernel('lstm', 'bias_sum', 'rw'), sb = x.slot(4);
      x.u32.set([B, 4 * H, dgates.offset, dbias.offset], sb);
      x.dispatch(kb, [dgates.storage!.handle, dbias.storage!.handle], sb, ...x.grid(4 * H));
    }
  }

  private geometry(g: ConvGeometry, s: number): void {
    this.ctx.u32.set([g.N, g.C, g.H, g.W, g.O, g.kh, g.kw, g.Ho, g.Wo, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, +g.flip], s);
  }

  /**
   * One of the conv4 kernels: y = f(a, b) with offsets (a, b, out); one thread per output
   * element, or `perGroup` elements per workgroup (1 for conv_filter_split).
   */
  private conv(section: string, a: Tensor, b: Tensor, out: Tensor, g: ConvGeometry, perGroup?: number): void {
    const x = this.ctx, k = this.kernel('conv', section, 'rrw'), s = x.slot(20);
    this.geometry(g, s);
    x.u32.set([a.offset, b.offset, out.offset], s + 16);
    x.dispatch(k, [a.storage!.handle, b.storage!.handle, out.storage!.handle], s, ...x.grid(out.size, perGroup));
  }
  conv4(w: Tensor, xin: Tensor, y: Tensor, g: ConvGeometry): void { this.conv('conv_forward', xin, w, y, g); }
  conv4Filter(xin: Tensor, dy: Tensor, dw: Tensor, g: ConvGeometry): void {
    const min = this.cpuLike ? CONV_FILTER_SPLIT.minSumCpu : CONV_FILTER_SPLIT.minSum;
    if (g.N * g.Ho * g.Wo < min || dw.size > CONV_FILTER_SPLIT.maxTaps) this.conv('conv_filter', xin, dy, dw, g);
    else this.conv('conv_filter_split', xin, dy, dw, g, 1); // a 64-thread workgroup per filter tap
  }
  conv4Data(w: Tensor, dy: Tensor, dx: Tensor, g: ConvGeometry): void { this.conv('conv_data', w, dy, dx, g); }

  private poolGeometry(g: PoolGeometry, s: number): void {
    this.ctx.u32.set([g.N * g.C, g.H, g.W, g.Ho, g.Wo, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.mode], s);
  }
  pool(xin: Tensor, y: Tensor, g: PoolGeometry): void {
    const x = this.ctx, k = this.kernel('conv', 'pool_forward', 'rw'), s = x.slot(16);
    this.poolGeometry(g, s);
    x.u32.set([xin.offset, y.offset], s + 12);
    x.dispatch(k, [xin.storage!.handle, y.storage!.handle], s, ...x.grid(y.size));
  }
  poolBackward(xin: Tensor, dy: Tensor, dx: Tensor, g: PoolGeometry): void {
    const x = this.ctx, k = this.kernel('conv', 'pool_backward', 'rrw'), s = x.slot(16);
    this.poolGeometry(g, s);
    x.u32.set([xin.offset, dy.offset, dx.offset], s + 12);
    x.dispatch(k, [xin.storage!.handle, dy.storage!.handle, dx.storage!.handle], s, ...x.grid(dx.size));
  }
}
