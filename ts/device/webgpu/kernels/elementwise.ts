// Elementwise kernels of the gpu device, generated from ONE table: each UnaryOp and
// BinaryOp code (the cpu's, ts/device/device.ts) has a WGSL expression here, substituted
// into shaders/elementwise.wgsl (UNARY_EXPR in x; BINARY_EXPR in a, b), so each op is its
// own straight-line kernel. Special values follow the cpu kernels (docs/kernels.md): the
// helpers fmax, sgn, tanh_s, powf, ... are defined in the template's prelude.

/// <reference types="@webgpu/types" />

import { BinaryOp, type Broadcast, UnaryOp } from '../../device.js';
import type { Tensor } from '../../../tensor.js';
import type { GpuContext, Kernel } from '../context.js';
import type { ShaderSources } from '../shaders.js';

export const UNARY_WGSL: Record<UnaryOp, string> = {
  [UnaryOp.copy]: 'x',
  [UnaryOp.neg]: '-x',
  [UnaryOp.exp]: 'exp_s(x)',
  [UnaryOp.log]: 'log_s(x)',
  [UnaryOp.sqrt]: 'sqrt(x)',
  [UnaryOp.abs]: 'abs(x)',
  [UnaryOp.tanh]: 'tanh_s(x)',
  [UnaryOp.sigm]: 'sigm(x)',
  [UnaryOp.relu]: 'select(x, 0.0, x < 0.0)',          // NaN stays NaN
  [UnaryOp.invx]: '1.0 / x',
  [UnaryOp.step]: 'select(0.0, 1.0, x > 0.0)',
  [UnaryOp.sign]: 'sgn(x)',
  [UnaryOp.square]: 'x * x',
};

export const BINARY_WGSL: Record<BinaryOp, string> = {
  [BinaryOp.add]: 'a + b',
  [BinaryOp.sub]: 'a - b',
  [BinaryOp.mul]: 'a * b',
  [BinaryOp.div]: 'a / b',
  [BinaryOp.max]: 'fmax(a, b)',
  [BinaryOp.min]: 'fmin(a, b)',
  [BinaryOp.pow]: 'powf(a, b)',
  [BinaryOp.gt]: 'select(0.0, 1.0, a > b)',
  [BinaryOp.eq]: 'select(0.0, 1.0, a == b)',
  [BinaryOp.ge]: 'select(0.0, 1.0, a >= b)',
  // fused gradient forms, a = incoming gradient
  [BinaryOp.reluBack]: 'select(0.0, a, b > 0.0)',
  [BinaryOp.sigmBack]: 'a * b * (1.0 - b)',
  [BinaryOp.tanhBack]: 'a * (1.0 - b * b)',
  [BinaryOp.invxBack]: '-a * (b * b)',
  [BinaryOp.sqrtBack]: 'a * 0.5 / b',
  [BinaryOp.absBack]: 'a * sgn(b)',
};

const MAX_DIMS = 8;

export class ElementwiseKernels {
  private cache = new Map<string, Kernel>();
  constructor(private ctx: GpuContext, private src: ShaderSources) {}

  /** Inverted dropout with the cpu's hash mask (the mask is a pure function of key). */
  dropout(x: Tensor, out: Tensor, p: number, key: readonly [number, number]): void {
    const c = this.ctx, n = out.size;
    let k = this.cache.get('dropout');
    if (!k) {
      k = c.kernel('elementwise.dropout', this.src.get('elementwise', 'dropout', { UNARY_EXPR: 'x', BINARY_EXPR: 'a' }), 'rw', { WG: c.wg });
      this.cache.set('dropout', k);
    }
    const s = c.slot(8);
    c.u32[s] = n; c.u32[s + 1] = x.offset; c.u32[s + 2] = out.offset; c.u32[s + 3] = Math.round(p * 16777216);
    c.u32[s + 4] = key[0] >>> 0; c.u32[s + 5] = key[1] >>> 0; c.f32[s + 6] = 1 / (1 - p);
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(n));
  }

  private kernel(section: 'unary' | 'scalar' | 'flat' | 'binary', op: number): Kernel {
    const key = `${section}${op}`;
    let k = this.cache.get(key);
    if (!k) {
      const unary = section === 'unary';
      const expr = unary ? UNARY_WGSL[op as UnaryOp] : BINARY_WGSL[op as BinaryOp];
      if (expr === undefined) throw new Error(`knet gpu: no elementwise op with code ${op}`);
      const code = this.src.get('elementwise', section, {
        UNARY_EXPR: unary ? expr : 'x', BINARY_EXPR: unary ? 'a' : expr,
      });
      const sig = section === 'unary' || section === 'scalar' ? 'rw' : 'rrw';
      k = this.ctx.kernel(`elementwise.${section}.${unary ? UnaryOp[op] : BinaryOp[op]}`, code, sig, { WG: this.ctx.wg });
      this.cache.set(key, k);
    }
    return k;
  }

  unary(op: UnaryOp, x: Tensor, out: Tensor): void {
    const c = this.ctx, k = this.kernel('unary', op), n = out.size;
    const s = c.slot(4);
    c.u32[s] = n; c.u32[s + 1] = x.offset; c.u32[s + 2] = out.offset;
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(n));
  }

  binaryScalar(op: BinaryOp, x: Tensor, v: number, out: Tensor, swap: boolean): void {
    const c = this.ctx, k = this.kernel('scalar', op), n = out.size;
    const s = c.slot(8);
    c.u32[s] = n; c.u32[s + 1] = x.offset; c.u32[s + 2] = out.offset; c.u32[s + 3] = swap ? 1 : 0;
    c.f32[s + 4] = v;
    c.dispatch(k, [x.storage!.handle, out.storage!.handle], s, ...c.grid(n));
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: Broadcast): void {
    const c = this.ctx, n = out.size;
    const flat = p.shape.length === 1 && p.astrides[0] === 1 && p.bstrides[0] === 1;
    if (flat) {
      const k = this.kernel('flat', op);
      const s = c.slot(4);
      c.u32[s] = n; c.u32[s + 1] = a.offset; c.u32[s + 2] = b.offset; c.u32[s + 3] = out.offset;
      c.dispatch(k, [a.storage!.handle, b.storage!.handle, out.storage!.handle], s, ...c.grid(n));
      return;
    }
    const nd = p.shape.length;
    if (nd > MAX_DIMS) {
      throw new Error(`knet gpu: broadcasting over ${nd} non-mergeable axes; the gpu kernels take at most ${MAX_DIMS}`);
    }
    const k = this.kernel('binary', op);
    const s = c.slot(32);
    c.u32[s] = n; c.u32[s + 1] = a.offset; c.u32[s + 2] = b.offset; c.u32[s + 3] = out.offset;
    c.u32[s + 4] = nd;
    for (let d = 0; d < nd; d++) {
      c.u32[s + 8 + d] = p.shape[d];
      c.i32[s + 16 + d] = p.astrides[d];
      c.i32[s + 24 + d] = p.bstrides[d];
    }
    c.dispatch(k, [a.storage!.handle, b.storage!.handle, out.storage!.handle], s, ...c.grid(n));
  }
}
