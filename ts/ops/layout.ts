// Shape and layout: reshape and mat (views sharing storage), transpose (a copy),
// copy, and the int32 -> float32 cast.

import { record } from '../autograd/tape.js';
import { empty, fmtShape, type Shape, sizeOf, Tensor } from '../tensor.js';
import { arg, stridesOf } from './check.js';
import { unaryOp } from './unary.js';

/** A view with a new shape; one dimension may be -1 (inferred). Shares storage. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  arg('reshape', x, 'x', null);
  const s = [...shape];
  const unknown = s.indexOf(-1);
  if (unknown >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== unknown));
    if (s.indexOf(-1, unknown + 1) >= 0 || rest === 0 || x.size % rest !== 0) {
      throw new Error(`knet reshape: cannot infer -1 in ${fmtShape(shape)} for ${x.size} elements (shape ${fmtShape(x.shape)})`);
    }
    s[unknown] = x.size / rest;
  }
  if (s.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(s) !== x.size) {
    throw new Error(`knet reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
  }
  const y = x.view(s);
  return record(y, [x], (g) => [reshape(g, x.shape)]);
}

/**
 * Knet's `mat`: a 2-D view. Row-major, so the leading `dims` axes become the rows
 * (default 1: [N, C, H, W] -> [N, C*H*W], batch first, like PyTorch's flatten(1)).
 */
export function mat(x: Tensor, dims = 1): Tensor {
  arg('mat', x, 'x', null);
  if (x.ndim < 1 || dims < 0 || dims > x.ndim) throw new Error(`knet mat: dims ${dims} is out of range for shape ${fmtShape(x.shape)}`);
  return reshape(x, [sizeOf(x.shape.slice(0, dims)), sizeOf(x.shape.slice(dims))]);
}

/** Permutes axes (default: reversed, i.e. the matrix transpose for 2-D). A copy. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  arg('transpose', x, 'x', null);
  const p = perm ? [...perm] : x.shape.map((_, i) => x.ndim - 1 - i);
  if (p.length !== x.ndim || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new Error(`knet transpose: [${p}] is not a permutation of the ${x.ndim} axes of ${fmtShape(x.shape)}`);
  }
  const st = stridesOf(x.shape);
  const y = empty(p.map((a) => x.shape[a]), x.dtype, x.device);
  if (y.size) x.device.stridedCopy(x, y, p.map((a) => st[a]));
  const inv = p.map((_, i) => p.indexOf(i));
  return record(y, [x], (g) => [transpose(g, inv)]);
}

/** A copy with its own storage. */
export function copy(x: Tensor): Tensor {
  arg('copy', x, 'x', null);
  if (x.dtype === 'int32') {
    // a strided copy moves raw 32-bit words, so it serves int32 on every device
    const y = empty(x.shape, 'int32', x.device);
    if (y.size) x.device.stridedCopy(x, y, stridesOf(x.shape));
    return y;
  }
  return unaryOp('copy', x);
}

/** int32 -> float32 (a copy); float32 input is returned as a copy too. */
export function float32(x: Tensor): Tensor {
  arg('float32', x, 'x', null);
  if (x.dtype === 'float32') return copy(x);
  const y = empty(x.shape, 'float32', x.device);
  if (y.size) x.device.castToFloat(x, y);
  return y;
}
