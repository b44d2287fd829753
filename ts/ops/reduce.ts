// Reductions sum/mean/max/min/sumabs2/sumabs over any axes, with keepdims, and the
// broadcasting helpers their gradients need (sumTo, broadcastTo).
// A reduction over several axes runs one kernel per run of consecutive axes.

import { ReduceOp } from '../device/device.js';
import { record } from '../autograd/tape.js';
import { empty, fmtShape, sameShape, type Shape, Tensor } from '../tensor.js';
import { arg, normAxes, split3 } from './check.js';
import { broadcastShape, broadcastStrides } from './broadcast.js';
import { binaryOp, div, eq, mul } from './arith.js';
import { reshape } from './layout.js';

type Axes = number | readonly number[];

/** Groups sorted axes into runs of consecutive axes: [from, to) pairs. */
function runs(axes: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const a of axes) {
    const last = out[out.length - 1];
    if (last && last[1] === a) last[1] = a + 1; else out.push([a, a + 1]);
  }
  return out;
}

function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Runs the reduction kernels; returns a tensor with the reduced axes kept as 1. */
function reduceKept(op: ReduceOp, name: string, x: Tensor, axes: number[]): Tensor {
  // checked before any kernel runs, so a failed call allocates nothing
  const empties = axes.filter((a) => x.shape[a] === 0);
  if (empties.length && op !== ReduceOp.sum && op !== ReduceOp.sumabs2 && op !== ReduceOp.sumabs) {
    throw new Error(`knet ${name}: cannot reduce over an empty axis: ${empties.length > 1 ? 'axes' : 'axis'} ${empties.join(', ')} ` +
      `of shape ${fmtShape(x.shape)} ${empties.length > 1 ? 'have' : 'has'} size 0, and the ${name} of no values is undefined ` +
      `(sum, sumabs and sumabs2 give 0 there). Check the size before reducing, or reduce over the other axes only.`);
  }
  let cur = x;
  let shape = [...x.shape];
  for (const [from, to] of runs(axes).reverse()) {
    const [outer, r, inner] = split3(shape, from, to);
    shape = shape.map((d, i) => (i >= from && i < to ? 1 : d));
    const out = empty(shape, 'float32', x.device);
    if (out.size) {
      if (r === 0) x.device.fill(out, 0);
      // later passes add up partial sums of squares/abs plainly
      else x.device.reduce(cur === x || op === ReduceOp.max || op === ReduceOp.min ? op : ReduceOp.sum, cur, out, outer, r, inner);
    }
    if (cur !== x) cur.dispose();
    cur = out;
  }
  return cur === x ? reshape(x, x.shape) : cur;
}

const reductions = {
  sum: { code: ReduceOp.sum, vjp: (gk: Tensor, x: Tensor) => broadcastTo(gk, x.shape) },
  sumabs2: { code: ReduceOp.sumabs2, vjp: (gk: Tensor, x: Tensor) => mul(x, mul(gk, 2)) },
  sumabs: { code: ReduceOp.sumabs, vjp: (gk: Tensor, x: Tensor) => binaryOp('absBack', gk, x) },
  max: { code: ReduceOp.max, vjp: minmaxVjp },
  min: { code: ReduceOp.min, vjp: minmaxVjp },
};

/** Ties share the gradient equally. */
function minmaxVjp(gk: Tensor, x: Tensor, yk: Tensor, axes: number[]): Tensor {
  const mask = eq(x, yk);
  return mul(mask, div(gk, sum(mask, axes, true)));
}

function reduction(name: keyof typeof reductions, x: Tensor, axes?: Axes, keepdims = false): Tensor {
  arg(name, x);
  const ax = normAxes(name, x.shape, axes);
  const { code, vjp } = reductions[name];
  const yk = reduceKept(code, name, x, ax);
  const y = keepdims ? yk : reshape(yk, x.shape.filter((_, i) => !ax.includes(i)));
  return record(y, [x], (g) => [vjp(keepdims ? g : reshape(g, yk.shape), x, yk, ax)]);
}

/** Sum over `axes` (all when omitted). */
export const sum = (x: Tensor, axes?: Axes, keepdims = false) => reduction('sum', x, axes, keepdims);
/** Sum of squares, Knet's `sumabs2`. */
export const sumabs2 = (x: Tensor, axes?: Axes, keepdims = false) => reduction('sumabs2', x, axes, keepdims);
/** Sum of absolute values, Knet's `sumabs`. */
export const sumabs = (x: Tensor, axes?: Axes, keepdims = false) => reduction('sumabs', x, axes, keepdims);
export const max = (x: Tensor, axes?: Axes, keepdims = false) => reduction('max', x, axes, keepdims);
export const min = (x: Tensor, axes?: Axes, keepdims = false) => reduction('min', x, axes, keepdims);

export function mean(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  arg('mean', x);
  const ax = normAxes('mean', x.shape, axes);
  const n = ax.reduce((p, a) => p * x.shape[a], 1);
  return div(sum(x, ax, keepdims), n);
}

/** Repeats x along broadcast axes to `shape` (NumPy broadcast_to), as a new tensor. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  arg('broadcastTo', x);
  const out = broadcastShape('broadcastTo', x.shape, shape);
  if (!sameShape(out, shape)) {
    throw new Error(`knet broadcastTo: ${fmtShape(x.shape)} cannot broadcast to ${fmtShape(shape)}`);
  }
  const y = empty(shape, 'float32', x.device);
  if (y.size) x.device.stridedCopy(x, y, broadcastStrides(x.shape, shape));
  return record(y, [x], (g) => [sumTo(g, x.shape)]);
}

/** Sums g over the axes along which `shape` was broadcast to g's shape. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const k = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => { if (i < k || (shape[i - k] === 1 && d !== 1)) axes.push(i); });
  return reshape(axes.length ? sum(g, axes, true) : g, shape);
}

export { keptShape };
