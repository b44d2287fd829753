// pool, as Knet's: pooling over the spatial axes of an NCHW tensor with cuDNN's modes,
// 0 max, 1 average counting padded zeros, 2 average over the pixels inside the image
// (3, Knet's "deterministic max", is max: ours always is deterministic).
//
// The backward kernel gets x and y (cuDNN's signature): max routes each output's gradient
// to the first maximum of its window in row-major order, the pixel the forward value came
// from. The average backward is linear in dy with the forward pool as its adjoint, so its
// own gradient is a pool again; the max backward has no second derivative here.

import { record } from '../autograd/tape.js';
import type { PoolGeometry } from '../device/device.js';
import { empty, fmtShape, Tensor } from '../tensor.js';
import { arg, deviceKernel } from '../ops/check.js';
import { checkOptions, pair, rank4 } from './conv.js';

export interface PoolOptions {
  /** Window height and width (default 2). */
  window?: number | readonly [number, number];
  /** Padding on both sides of each spatial axis (default 0); must be smaller than the window. */
  padding?: number | readonly [number, number];
  /** Step between windows (default: the window, so windows tile the input). */
  stride?: number | readonly [number, number];
  /** 0 max (default), 1 average including padding, 2 average excluding padding, 3 max. */
  mode?: number;
}

/** Checks x and the options; returns the geometry of pool(x). */
export function poolGeometry(x: Tensor, opts: PoolOptions): PoolGeometry {
  checkOptions('pool', opts, ['window', 'padding', 'stride', 'mode']);
  rank4('pool', x, 'x', '[N, C, H, W] (NCHW)');
  const [N, C, H, W] = x.shape;
  const [kh, kw] = pair('pool', 'window', opts.window, 2, 1);
  const [ph, pw] = pair('pool', 'padding', opts.padding, 0, 0);
  const [sh, sw] = opts.stride === undefined ? [kh, kw] : pair('pool', 'stride', opts.stride, 1, 1);
  const mode = opts.mode ?? 0;
  if (![0, 1, 2, 3].includes(mode)) {
    throw new Error(`knet pool: mode must be 0 (max), 1 (average including padding), 2 (average excluding padding) ` +
      `or 3 (max), got ${JSON.stringify(opts.mode)}`);
  }
  if (ph >= kh || pw >= kw) {
    throw new Error(`knet pool: padding [${ph}, ${pw}] must be smaller than the window [${kh}, ${kw}] ` +
      `(otherwise a window can lie entirely in the padding)`);
  }
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1, Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  if (Ho < 1 || Wo < 1) {
    throw new Error(`knet pool: the window [${kh}, ${kw}] is larger than the padded input ${H + 2 * ph} x ${W + 2 * pw} ` +
      `(x ${fmtShape(x.shape)}, padding [${ph}, ${pw}]), so the output would be empty`);
  }
  return { N, C, H, W, Ho, Wo, kh, kw, ph, pw, sh, sw, mode: mode === 3 ? 0 : mode };
}

/**
 * Knet's pool(x; window = 2, padding = 0, stride = window, mode = 0) over x [N,C,H,W],
 * giving [N,C,Ho,Wo] with Ho = floor((H + 2*padding - window) / stride) + 1.
 */
export function pool(x: Tensor, opts: PoolOptions = {}): Tensor {
  arg('pool', x, 'x');
  return poolForward(x, poolGeometry(x, opts));
}

function poolForward(x: Tensor, g: PoolGeometry): Tensor {
  const dev = x.device;
  const y = empty([g.N, g.C, g.Ho, g.Wo], 'float32', dev);
  if (y.size) deviceKernel('pool', dev, 'pool')(x, y, g);
  return record(y, [x], (dy) => [poolBackward(x, y, dy, g)]);
}

function poolBackward(x: Tensor, y: Tensor, dy: Tensor, g: PoolGeometry): Tensor {
  const dev = x.device;
  const dx = empty(x.shape, 'float32', dev);
  if (dx.size) deviceKernel('pool', dev, 'poolBackward')(x, y, dy, dx, g);
  return record(dx, [dy], (gx) => {
    if (g.mode === 0) {
      throw new Error(`knet grad: the derivative of max pool's gradient is not implemented ` +
        `(higher-order gradients through pool work for the average modes 1 and 2)`);
    }
    return [poolForward(gx, g)];
  });
}
