// logsumexp, logp (log-softmax) and softmax along one axis (or consecutive axes),
// each a single fused, numerically stable kernel, with vjps written as ops.

import { SoftmaxOp } from '../device/device.js';
import { record } from '../autograd/tape.js';
import { empty, fmtShape, Tensor } from '../tensor.js';
import { arg, normAxes, split3 } from './check.js';
import { exp } from './unary.js';
import { mul, sub } from './arith.js';
import { sum } from './reduce.js';
import { reshape } from './layout.js';

function span(op: string, x: Tensor, axes: number | readonly number[] | undefined): [number, number, number, number[]] {
  const ax = normAxes(op, x.shape, axes);
  if (ax.length === 0 && x.ndim > 0) throw new Error(`knet ${op}: no axis given for shape ${fmtShape(x.shape)}`);
  if (ax.some((a, i) => i > 0 && a !== ax[i - 1] + 1)) {
    throw new Error(`knet ${op}: axes [${ax}] must be consecutive (shape ${fmtShape(x.shape)}); transpose first`);
  }
  const from = ax.length ? ax[0] : 0, to = ax.length ? ax[ax.length - 1] + 1 : 0;
  const [outer, r, inner] = split3(x.shape, from, to);
  if (r === 0) throw new Error(`knet ${op}: cannot take it over an empty axis (shape ${fmtShape(x.shape)})`);
  return [outer, r, inner, ax];
}

function needAxis(op: string, axis: unknown): void {
  if (axis === undefined) {
    throw new Error(`knet ${op}: give the axis of the classes, e.g. ${op}(x, 0) for scores shaped [classes, batch] ` +
      `(the seed's layout) or ${op}(x, 1) for [batch, classes]`);
  }
}

/** log(sum(exp(x), axis)), stable; all axes when `axis` is omitted. */
export function logsumexp(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  arg('logsumexp', x);
  const [outer, r, inner, ax] = span('logsumexp', x, axis);
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const yk = empty(kept, 'float32', x.device);
  if (yk.size) x.device.softmax(SoftmaxOp.logsumexp, x, yk, outer, r, inner);
  const y = keepdims ? yk : reshape(yk, x.shape.filter((_, i) => !ax.includes(i)));
  return record(y, [x], (g) => [mul(exp(sub(x, yk)), keepdims ? g : reshape(g, kept))]);
}

/** Log-probabilities x - logsumexp(x, axis, true), Knet's `logp`. */
export function logp(x: Tensor, axis: number | readonly number[]): Tensor {
  arg('logp', x);
  needAxis('logp', axis);
  const [outer, r, inner, ax] = span('logp', x, axis);
  const y = empty(x.shape, 'float32', x.device);
  if (y.size) x.device.softmax(SoftmaxOp.logsoftmax, x, y, outer, r, inner);
  return record(y, [x], (g) => [sub(g, mul(exp(y), sum(g, ax, true)))]);
}

/** exp(x) / sum(exp(x), axis), stable. */
export function softmax(x: Tensor, axis: number | readonly number[]): Tensor {
  arg('softmax', x);
  needAxis('softmax', axis);
  const [outer, r, inner, ax] = span('softmax', x, axis);
  const y = empty(x.shape, 'float32', x.device);
  if (y.size) x.device.softmax(SoftmaxOp.softmax, x, y, outer, r, inner);
  return record(y, [x], (g) => [mul(y, sub(g, sum(mul(g, y), ax, true)))]);
}
