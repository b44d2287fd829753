// conv4, as Knet's: NCHW input x [N,C,H,W], OIHW filters w [O,C,kh,kw], output
// [N,O,Ho,Wo]; mode 0 is cross-correlation (what PyTorch and cuDNN compute by default),
// mode 1 true convolution (the filter flipped). Padding, stride and dilation are a number
// or a per-axis pair [h, w].
//
// Three device kernels, cuDNN's three: forward, backward filter and backward data. Each
// is linear in each of its two inputs, and each one's vjp is made of the other two, so
// gradients of gradients work: every kernel call below is recorded with its own vjp.

import { record } from '../autograd/tape.js';
import type { ConvGeometry } from '../device/device.js';
import { empty, fmtShape, Tensor } from '../tensor.js';
import { arg, describe, deviceKernel, sameDevice } from '../ops/check.js';

export interface ConvOptions {
  /** Zeros added on both sides of each spatial axis (default 0). */
  padding?: number | readonly [number, number];
  /** Step between output positions (default 1). */
  stride?: number | readonly [number, number];
  /** Spacing between filter taps (default 1). */
  dilation?: number | readonly [number, number];
  /** 0: cross-correlation (default), 1: convolution (filter flipped). */
  mode?: number;
}

/** Rejects option names outside `known` (a typo must not silently mean the default). */
export function checkOptions(op: string, opts: object, known: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`knet ${op}: options must be an object such as { ${known.map((k) => `${k}: ...`).join(', ')} }, got ${Array.isArray(opts) ? 'an array' : String(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new Error(`knet ${op}: unknown option '${k}' (known: ${known.join(', ')})`);
  }
}

/** A number or [h, w] pair of integers >= min, as [h, w]. */
export function pair(op: string, name: string, v: unknown, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (!p || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new Error(`knet ${op}: ${name} must be an integer >= ${min} or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

export function rank4(op: string, t: Tensor, name: string, layout: string): void {
  if (t.ndim !== 4) {
    throw new Error(`knet ${op}: ${name} must be 4-D ${layout}, got ${describe(t)}` +
      (t.ndim === 2 || t.ndim === 3 ? `; reshape it, e.g. reshape(${name}, [${name === 'x' ? 'N, C, H, W' : 'O, C, kh, kw'}])` : '') +
      (t.ndim === 5 ? ' (5-D, 3-D convolution, is not supported yet)' : ''));
  }
}

/** Checks w, x and the options; returns the geometry of conv4(w, x). */
export function convGeometry(w: Tensor, x: Tensor, opts: ConvOptions): ConvGeometry {
  checkOptions('conv4', opts, ['padding', 'stride', 'dilation', 'mode']);
  rank4('conv4', w, 'w', '[O, C, kh, kw] (OIHW)');
  rank4('conv4', x, 'x', '[N, C, H, W] (NCHW)');
  const [O, Cw, kh, kw] = w.shape, [N, C, H, W] = x.shape;
  if (Cw !== C) {
    throw new Error(`knet conv4: x has ${C} channels but w expects ${Cw}: x ${fmtShape(x.shape)} is [N, C, H, W], ` +
      `w ${fmtShape(w.shape)} is [O, C, kh, kw]`);
  }
  const [ph, pw] = pair('conv4', 'padding', opts.padding, 0, 0);
  const [sh, sw] = pair('conv4', 'stride', opts.stride, 1, 1);
  const [dh, dw] = pair('conv4', 'dilation', opts.dilation, 1, 1);
  const mode = opts.mode ?? 0;
  if (mode !== 0 && mode !== 1) {
    throw new Error(`knet conv4: mode must be 0 (cross-correlation) or 1 (convolution), got ${JSON.stringify(opts.mode)}`);
  }
  const eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1; // dilated filter extent
  const Ho = Math.floor((H + 2 * ph - eh) / sh) + 1, Wo = Math.floor((W + 2 * pw - ew) / sw) + 1;
  if (kh < 1 || kw < 1 || Ho < 1 || Wo < 1) {
    throw new Error(`knet conv4: the output would be empty (${Ho} x ${Wo}): the filter w ${fmtShape(w.shape)}` +
      (dh > 1 || dw > 1 ? ` dilated to ${eh} x ${ew}` : ` (${kh} x ${kw})`) +
      ` is larger than the padded input ${H + 2 * ph} x ${W + 2 * pw} (x ${fmtShape(x.shape)}, padding [${ph}, ${pw}]); ` +
      `use more padding or a smaller filter`);
  }
  return { N, C, H, W, O, kh, kw, Ho, Wo, ph, pw, sh, sw, dh, dw, flip: mode === 1 };
}

/**
 * Knet's conv4(w, x; padding, stride, dilation, mode): the 2-D convolution of the NCHW
 * batch x [N,C,H,W] with OIHW filters w [O,C,kh,kw], giving [N,O,Ho,Wo] where
 * Ho = floor((H + 2*padding - dilation*(kh-1) - 1) / stride) + 1 (and likewise Wo).
 */
export function conv4(w: Tensor, x: Tensor, opts: ConvOptions = {}): Tensor {
  arg('conv4', w, 'w');
  arg('conv4', x, 'x');
  sameDevice('conv4', w, x);
  return forward(w, x, convGeometry(w, x, opts));
}

// The three recorded primitives. forward: y = conv(w, x); filter: dw = F(x, dy), the
// adjoint of w -> conv(w, x); data: dx = D(w, dy), the adjoint of x -> conv(w, x).

function forward(w: Tensor, x: Tensor, g: ConvGeometry): Tensor {
  const dev = w.device;
  const y = empty([g.N, g.O, g.Ho, g.Wo], 'float32', dev);
  if (y.size) deviceKernel('conv4', dev, 'conv4')(w, x, y, g);
  return record(y, [w, x], (dy, [nw, nx]) => [nw ? filter(x, dy, g) : null, nx ? data(w, dy, g) : null]);
}

function filter(x: Tensor, dy: Tensor, g: ConvGeometry): Tensor {
  const dev = x.device;
  const dw = empty([g.O, g.C, g.kh, g.kw], 'float32', dev);
  if (dw.size) deviceKernel('conv4', dev, 'conv4Filter')(x, dy, dw, g);
  return record(dw, [x, dy], (gw, [nx, ny]) => [nx ? data(gw, dy, g) : null, ny ? forward(gw, x, g) : null]);
}

function data(w: Tensor, dy: Tensor, g: ConvGeometry): Tensor {
  const dev = w.device;
  const dx = empty([g.N, g.C, g.H, g.W], 'float32', dev);
  if (dx.size) deviceKernel('conv4', dev, 'conv4Data')(w, dy, dx, g);
  return record(dx, [w, dy], (gx, [nw, ny]) => [nw ? filter(gx, dy, g) : null, ny ? forward(w, gx, g) : null]);
}
