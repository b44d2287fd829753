// Integer-array indexing: gather(x, ids, axis) takes the entries of x at int32 positions
// along one axis (an embedding lookup is gather(embedding, ids): rows by id). Its gradient
// scatter-adds the incoming gradient back (repeated ids accumulate), and the gradient of
// that is a gather again. The kernels check every id and report the first bad one.

import { record, recording } from '../autograd/tape.js';
import { empty, fmtShape, sameShape, type Shape, sizeOf, Tensor } from '../tensor.js';
import { tensor } from '../create.js';
import { arg, describe, deviceKernel, sameDevice } from './check.js';

type Ids = Tensor | Int32Array | readonly number[];

/** ids as an int32 tensor on x's device; `owned` when made here (from JavaScript data). */
function idsTensor(op: string, ids: Ids, x: Tensor): [Tensor, boolean] {
  if (ids instanceof Tensor) {
    arg(op, ids, 'ids', 'int32');
    sameDevice(op, x, ids);
    return [ids, false];
  }
  if (!(ids instanceof Int32Array) && !Array.isArray(ids)) {
    throw new Error(`knet ${op}: ids must be an int32 Tensor, an Int32Array or an array of integers, got ${typeof ids}`);
  }
  const a = ids instanceof Int32Array ? ids : Int32Array.from(ids as number[], (v, j) => {
    if (!Number.isInteger(v)) throw new Error(`knet ${op}: ids must be integers; position ${j} holds ${v}`);
    return v;
  });
  return [tensor(a, [a.length], { dtype: 'int32', device: x.device }), true];
}

function badId(op: string, ids: Tensor, at: number, x: Tensor, axis: number): Error {
  const v = ids.device.name === 'cpu' ? ids.dataSync()[at] : '?';
  return new Error(`knet ${op}: id ${v} at position ${at} of ids ${describe(ids)} is outside [0, ${x.shape[axis]}) ` +
    `for axis ${axis} of ${describe(x)}; ids are 0-based`);
}

function dims(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/**
 * The entries of x at positions `ids` (int32, any shape; 0-based) along `axis`: the result
 * has shape x.shape[:axis] + ids.shape + x.shape[axis+1:]. gather(embedding, ids) looks up
 * rows of an embedding matrix. The gradient scatter-adds into x's shape; repeated ids add up.
 */
export function gather(x: Tensor, ids: Ids, axis = 0): Tensor {
  arg('gather', x, 'x', null);
  if (x.ndim === 0) throw new Error(`knet gather: x must have at least one axis, got ${describe(x)}`);
  if (!Number.isInteger(axis) || axis < -x.ndim || axis >= x.ndim) {
    throw new Error(`knet gather: axis ${axis} is out of range for ${describe(x)} (rank ${x.ndim})`);
  }
  const ax = axis < 0 ? axis + x.ndim : axis;
  const [idt, owned] = idsTensor('gather', ids, x);
  const dev = x.device;
  const [outer, n, inner] = dims(x.shape, ax);
  const y = empty([...x.shape.slice(0, ax), ...idt.shape, ...x.shape.slice(ax + 1)], x.dtype, dev);
  if (y.size || idt.size) {
    let bad: number;
    try { bad = y.size ? deviceKernel('gather', dev, 'gather')(x, idt, y, outer, n, inner) : checkOnly(idt, n); } catch (e) {
      y.dispose(); if (owned) idt.dispose(); throw e;
    }
    if (bad >= 0) { const err = badId('gather', idt, bad, x, ax); y.dispose(); if (owned) idt.dispose(); throw err; }
  }
  if (owned && !recording()) idt.dispose(); // nothing can need it for a gradient
  if (x.dtype !== 'float32') return y;
  return record(y, [x], (g) => [scatterAdd(g, idt, x.shape, ax)]);
}

// A gather with nothing to copy (an empty inner or outer part) still validates its ids.
function checkOnly(ids: Tensor, n: number): number {
  const a = ids.dataSync();
  for (let j = 0; j < a.length; j++) if (a[j] < 0 || a[j] >= n) return j;
  return -1;
}

/**
 * Zeros of `shape` with g's rows added in at positions `ids` along `axis` (repeated ids
 * accumulate): the gradient of gather, and the transpose of it. g has the shape gather
 * would give.
 */
export function scatterAdd(g: Tensor, ids: Ids, shape: Shape, axis = 0): Tensor {
  arg('scatterAdd', g);
  const ax = axis < 0 ? axis + shape.length : axis;
  const [idt, owned] = idsTensor('scatterAdd', ids, g);
  const want = [...shape.slice(0, ax), ...idt.shape, ...shape.slice(ax + 1)];
  if (!sameShape(want, g.shape)) {
    if (owned) idt.dispose();
    throw new Error(`knet scatterAdd: g ${describe(g)} does not match ids ${describe(idt)} placed on axis ${ax} of ${fmtShape(shape)} ` +
      `(it must be ${fmtShape(want)})`);
  }
  const dev = g.device;
  const [outer, n, inner] = dims(shape, ax);
  const dx = empty(shape, 'float32', dev);
  dev.fill(dx, 0);
  if (g.size) {
    const bad = deviceKernel('scatterAdd', dev, 'scatterAdd')(g, idt, dx, outer, n, inner);
    if (bad >= 0) {
      const err = badId('scatterAdd', idt, bad, dx, ax); dx.dispose(); if (owned) idt.dispose(); throw err;
    }
  }
  if (owned && !recording()) idt.dispose();
  return record(dx, [g], (gg) => [gather(gg, idt, ax)]);
}
