// Concatenation: concat(xs, axis), and Knet's hcat and vcat. Each input is copied into its
// block of the output by the strided-copy kernel; the gradient of each input is its slice
// of the incoming gradient (a view for axis 0).

import { record } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor.js';
import { arg, describe, sameDevice, stridesOf } from './check.js';
import { copyBlock, slice } from './slice.js';

/** The inputs joined along `axis` (negative counts from the end); all other axes must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) {
    throw new Error(`knet concat: give a non-empty array of tensors, e.g. concat([a, b], 1)`);
  }
  xs.forEach((x, k) => arg('concat', x, `xs[${k}]`, null));
  const dev = sameDevice('concat', ...xs);
  const first = xs[0];
  const nd = first.ndim;
  if (nd === 0) throw new Error(`knet concat: cannot concatenate 0-d tensors (reshape them to [1] first)`);
  if (!Number.isInteger(axis) || axis < -nd || axis >= nd) {
    throw new Error(`knet concat: axis ${axis} is out of range for ${describe(first)} (rank ${nd})`);
  }
  const ax = axis < 0 ? axis + nd : axis;
  for (let k = 1; k < xs.length; k++) {
    const x = xs[k];
    if (x.dtype !== first.dtype) {
      throw new Error(`knet concat: dtypes differ: xs[0] is ${describe(first)} and xs[${k}] is ${describe(x)}`);
    }
    if (x.ndim !== nd || x.shape.some((d: number, i: number) => i !== ax && d !== first.shape[i])) {
      throw new Error(`knet concat: shapes do not match: xs[0] is ${describe(first)} and xs[${k}] is ${describe(x)}; ` +
        `joining along axis ${ax}, every other axis must have the same size`);
    }
  }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((a, x) => a + x.shape[ax], 0);
  const out = empty(shape, first.dtype, dev);
  const ost = stridesOf(shape);
  const offsets: number[] = [];
  let off = 0;
  try {
    for (const x of xs) {
      offsets.push(off);
      copyBlock('concat', x, 0, stridesOf(x.shape), out, off * ost[ax], ost, x.shape);
      off += x.shape[ax];
    }
  } catch (e) { out.dispose(); throw e; }
  if (first.dtype !== 'float32') return out;
  return record(out, xs, (g, needs) =>
    xs.map((x, k) => (needs[k] ? slice(g, ax, offsets[k], offsets[k] + x.shape[ax]) : null)));
}

function list(op: string, xs: (Tensor | readonly Tensor[])[]): Tensor[] {
  const flat = xs.length === 1 && Array.isArray(xs[0]) ? [...(xs[0] as Tensor[])] : (xs as Tensor[]);
  if (flat.length === 0) throw new Error(`knet ${op}: give at least one tensor`);
  return flat;
}

/**
 * Knet's hcat: side by side, along axis 1 (columns of matrices; rows are the batch), or
 * along axis 0 for 1-d tensors (as NumPy's hstack). hcat(a, b) or hcat([a, b]).
 */
export function hcat(...xs: (Tensor | readonly Tensor[])[]): Tensor {
  const a = list('hcat', xs);
  return concat(a, (a[0] as Tensor | undefined)?.ndim === 1 ? 0 : 1);
}

/** Knet's vcat: stacked along axis 0. vcat(a, b) or vcat([a, b]). */
export function vcat(...xs: (Tensor | readonly Tensor[])[]): Tensor {
  return concat(list('vcat', xs), 0);
}

