// NumPy broadcasting: the output shape, per-input strides with 0 on broadcast axes, and
// adjacent axes merged so kernels see as few dimensions as possible.

import type { Broadcast } from '../device/device.js';
import { fmtShape, type Shape } from '../tensor.js';
import { stridesOf } from './check.js';
import { mergeAxes } from '../device/axes.js';

export function broadcastShape(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`knet ${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast: ` +
        `axis ${i} of the result would need ${da} and ${db}. Sizes must match or be 1 (NumPy rules); ` +
        `reshape one operand (e.g. to a column [n,1]) to say which axes line up.`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` read as `out` (right-aligned), 0 where it is broadcast. */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const s = stridesOf(shape);
  const k = out.length - shape.length;
  return out.map((d, i) => (i < k || shape[i - k] === 1 ? 0 : s[i - k]));
}

export function plan(op: string, a: Shape, b: Shape): Broadcast {
  const shape = broadcastShape(op, a, b);
  return collapse(shape, broadcastStrides(a, shape), broadcastStrides(b, shape));
}

/** Drops size-1 axes and merges neighbours that are contiguous in every operand. */
export function collapse(shape: number[], as: number[], bs: number[]): Broadcast {
  const [S, A, B] = mergeAxes(shape, as, bs);
  return { shape: S, astrides: A, bstrides: B };
}
