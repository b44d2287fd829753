// Slicing and indexing: slice(x, axis, start, end) and index(x, spec), Knet's `a[:, 3:5]`.
// A slice is a view sharing x's storage when the range is contiguous in x (a range along
// axis 0, or along any axis when all the axes before it are 1); otherwise a strided copy.
// The gradient of a slice is the incoming gradient placed in zeros of x's shape (pad), and
// the gradient of pad is the slice again, so higher-order gradients work.
//
// Ranges are 0-based and end-exclusive, as in JavaScript's Array.prototype.slice and
// Python; negative numbers count from the end. Unlike Array.prototype.slice, a range past
// the end is an error, not clamped: a silent clamp would hide an off-by-one.

import { record } from '../autograd/tape.js';
import { disposedError, empty, type Shape, sizeOf, Tensor } from '../tensor.js';
import { arg, describe, deviceKernel, stridesOf } from './check.js';
import { reshape } from './layout.js';
import { gather } from './gather.js';
import { mergeAxes } from '../device/axes.js';

/**
 * A new tensor object over x's storage starting `offset` elements after x's first element
 * (no copy, not recorded). For kernels that work on parts of a tensor; dispose it after.
 */
export function rawView(x: Tensor, offset: number, shape: Shape): Tensor {
  if (!x.storage) throw disposedError(x, 'view');
  x.storage.refs++;
  return new Tensor(x.storage, shape, x.dtype, x.offset + offset);
}

/** out[idx . ostrides] = x[idx . xstrides] over `shape`, starting at the given element offsets. */
export function copyBlock(op: string, x: Tensor, xoff: number, xstrides: readonly number[],
                          out: Tensor, ooff: number, ostrides: readonly number[], shape: Shape): void {
  if (sizeOf(shape) === 0) return;
  const dev = out.device;
  const copy = deviceKernel(op, dev, 'copyStrided');
  const [S, X, Y] = mergeAxes(shape, xstrides, ostrides);
  const xv = rawView(x, xoff, [1]), ov = rawView(out, ooff, [1]);
  try { copy(xv, ov, S, X, Y); } finally { xv.dispose(); ov.dispose(); }
}

/** True when the block `sizes` of a row-major `shape` is one contiguous run. */
function contiguous(shape: Shape, sizes: readonly number[]): boolean {
  let j = shape.length - 1;
  while (j >= 0 && sizes[j] === shape[j]) j--;
  for (let i = 0; i < j; i++) if (sizes[i] !== 1) return false;
  return true;
}

/** The block of x at `starts` with `sizes` (already checked): a view when contiguous. */
function region(op: string, x: Tensor, starts: readonly number[], sizes: readonly number[]): Tensor {
  const st = stridesOf(x.shape);
  const offset = starts.reduce((a, s, i) => a + s * st[i], 0);
  let y: Tensor;
  if (sizeOf(sizes) === 0) y = empty(sizes, x.dtype, x.device);
  else if (contiguous(x.shape, sizes)) y = rawView(x, offset, sizes);
  else {
    y = empty(sizes, x.dtype, x.device);
    try { copyBlock(op, x, offset, st, y, 0, stridesOf(sizes), sizes); } catch (e) { y.dispose(); throw e; }
  }
  if (x.dtype !== 'float32') return y;
  return record(y, [x], (g) => [pad(g, x.shape, starts)]);
}

/** Zeros of `shape` with g placed at `starts`; its gradient is the slice of that block. */
function pad(g: Tensor, shape: Shape, starts: readonly number[]): Tensor {
  const dev = g.device;
  const st = stridesOf(shape);
  const offset = starts.reduce((a, s, i) => a + s * st[i], 0);
  const dx = empty(shape, 'float32', dev);
  const fill = (from: number, to: number) => {
    if (to <= from) return;
    const v = rawView(dx, from, [to - from]);
    try { dev.fill(v, 0); } finally { v.dispose(); }
  };
  if (contiguous(shape, g.shape)) {
    // one run: write each element once
    fill(0, offset);
    fill(offset + g.size, dx.size);
  } else fill(0, dx.size);
  copyBlock('slice (gradient)', g, 0, stridesOf(g.shape), dx, offset, st, g.shape);
  return record(dx, [g], (gg) => [region('slice', gg, starts, g.shape)]);
}

/** Normalises a [start, end) range along an axis of size d; throws naming the op and shape. */
function range(op: string, x: Tensor, axis: number, start: number | null | undefined, end: number | null | undefined): [number, number] {
  const d = x.shape[axis];
  const s0 = start ?? 0, e0 = end ?? d;
  if (!Number.isInteger(s0) || !Number.isInteger(e0)) {
    throw new Error(`knet ${op}: range bounds must be integers, got [${start}, ${end}) on axis ${axis} of ${describe(x)}`);
  }
  const s = s0 < 0 ? s0 + d : s0, e = e0 < 0 ? e0 + d : e0;
  if (s < 0 || e > d || s > e) {
    throw new Error(`knet ${op}: range [${start ?? 0}, ${end ?? d}) is outside axis ${axis} of ${describe(x)} ` +
      `(size ${d}); ranges are 0-based with the end excluded, and a negative bound counts from the end`);
  }
  return [s, e];
}

function checkAxis(op: string, x: Tensor, axis: number): number {
  if (!Number.isInteger(axis) || axis < -x.ndim || axis >= x.ndim) {
    throw new Error(`knet ${op}: axis ${axis} is out of range for ${describe(x)} (rank ${x.ndim})`);
  }
  return axis < 0 ? axis + x.ndim : axis;
}

/**
 * x with axis `axis` restricted to [start, end): 0-based, end excluded (default: the
 * axis' size), negative bounds count from the end. A view when the range is contiguous
 * in x (axis 0, or all axes before `axis` of size 1), else a copy.
 *   slice(gates, 1, 0, H)        // Knet: gates[:, 1:H]
 */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  arg('slice', x, 'x', null);
  const ax = checkAxis('slice', x, axis);
  const [s, e] = range('slice', x, ax, start, end);
  const starts = x.shape.map(() => 0), sizes = [...x.shape];
  starts[ax] = s; sizes[ax] = e - s;
  return region('slice', x, starts, sizes);
}

/**
 * One entry of an index() spec, per axis:
 *   null (or ':')           the whole axis
 *   k                        position k (negative from the end); the axis is dropped
 *   [start, end]            the range [start, end): end excluded, null for "to the end"
 *   Int32Array or int32 Tensor  those positions, in order, repeats allowed (a gather)
 */
export type IndexEntry = null | undefined | ':' | number | readonly [number | null, number | null] | Int32Array | Tensor;

/**
 * Knet's `a[:, 3:5]`: index(a, [null, [2, 5]]) (0-based, end excluded). Entries apply to
 * the leading axes, and the axes not mentioned are whole. Ranges and single positions make
 * one slice (a view when contiguous); integer lists gather along their axis, each axis on
 * its own (Julia's and MATLAB's rule, not NumPy's pointwise one). Gradients flow through all.
 *   index(x, [0])             // x[0, ...]: the first row, one axis fewer
 *   index(x, [null, [-2, null]])  // the last two columns
 *   index(emb, [Int32Array.of(3, 1, 3)])  // rows 3, 1, 3
 */
export function index(x: Tensor, spec: readonly IndexEntry[]): Tensor {
  arg('index', x, 'x', null);
  if (!Array.isArray(spec)) {
    throw new Error(`knet index: the spec must be an array with one entry per leading axis, e.g. [null, [0, 3]] for x[:, 0:3]`);
  }
  if (spec.length > x.ndim) {
    throw new Error(`knet index: ${spec.length} entries for ${describe(x)}, which has ${x.ndim} axes`);
  }
  const starts = x.shape.map(() => 0), sizes = [...x.shape];
  const drop: number[] = [];
  const lists: [number, Int32Array | Tensor][] = [];
  spec.forEach((e, ax) => {
    if (e === null || e === undefined || e === ':') return;
    if (typeof e === 'number') {
      if (!Number.isInteger(e) || e < -x.shape[ax] || e >= x.shape[ax]) {
        throw new Error(`knet index: position ${e} is outside axis ${ax} of ${describe(x)} (size ${x.shape[ax]}); positions are 0-based`);
      }
      starts[ax] = e < 0 ? e + x.shape[ax] : e; sizes[ax] = 1; drop.push(ax);
    } else if (e instanceof Int32Array || e instanceof Tensor) {
      if (e instanceof Tensor && (e.dtype !== 'int32' || e.ndim !== 1)) {
        throw new Error(`knet index: a list of positions must be a 1-d int32 tensor or an Int32Array; axis ${ax} got ${describe(e)}`);
      }
      lists.push([ax, e]);
    } else if (Array.isArray(e) && e.length === 2) {
      const [s, t] = range('index', x, ax, e[0], e[1]);
      starts[ax] = s; sizes[ax] = t - s;
    } else {
      throw new Error(`knet index: entry ${ax} (${Array.isArray(e) ? `an array of length ${e.length}` : JSON.stringify(e)}) is not ` +
        `null, a position, a [start, end] range or an Int32Array of positions (a plain number array of length 2 ` +
        `is a range; wrap lists of positions in Int32Array.from(...))`);
    }
  });
  const whole = sizes.every((d, i) => d === x.shape[i]);
  let y = whole ? reshape(x, x.shape) : region('index', x, starts, sizes);
  for (const [ax, ids] of lists) y = gather(y, ids, ax);
  if (drop.length) y = reshape(y, y.shape.filter((_, i) => !drop.includes(i)));
  return y;
}

