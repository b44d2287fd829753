// minibatch, as Knet's: split data into batches once, reuse them every epoch.
// Examples lie along the LAST axis by default (Knet's layout, the seed's x is
// [features, examples]); pass `axis: 0` for [examples, features].

import type { Device, DeviceName } from '../device/device.js';
import { tensor } from '../create.js';
import { generator, uniform } from '../random.js';
import { keep } from '../scope.js';
import { fmtShape, Tensor } from '../tensor.js';

type Source = Tensor | { data: ArrayLike<number> & { length: number }; shape: readonly number[] };

export interface MinibatchOptions {
  /** Permute the examples once when batching, and the batch order every epoch. */
  shuffle?: boolean;
  /** Seed for the shuffles: they then draw from a private generator, so the same seed gives
   *  the same batches and epoch orders, and the global stream (setSeed) is left untouched.
   *  Without it they draw from the global stream. */
  seed?: number;
  /** Keep a last, smaller batch (default false, as Knet). */
  partial?: boolean;
  /** The examples axis; default the last. */
  axis?: number;
  device?: DeviceName | Device;
}

export class Batches implements Iterable<[Tensor, Tensor]> {
  constructor(readonly batches: [Tensor, Tensor][], private shuffle: boolean, private draw: () => number = uniform) {}
  get length(): number { return this.batches.length; }
  *[Symbol.iterator](): Iterator<[Tensor, Tensor]> {
    const order = this.batches.map((_, i) => i);
    if (this.shuffle) shuffleInPlace(order, this.draw);
    for (const i of order) yield this.batches[i];
  }
  dispose(): void { for (const [x, y] of this.batches) { x.dispose(); y.dispose(); } }
}

function shuffleInPlace(a: number[], draw: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(draw() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}

function asArray(s: Source): { data: ArrayLike<number>; shape: readonly number[]; int: boolean } {
  if (s instanceof Tensor) return { data: s.dataSync(), shape: s.shape, int: s.dtype === 'int32' };
  return { data: s.data, shape: s.shape, int: s.data instanceof Int32Array || s.data instanceof Uint8Array };
}

/** Copies the examples `idx` (along `axis`) of a row-major array into a new tensor. */
function gather(src: { data: ArrayLike<number>; shape: readonly number[]; int: boolean }, axis: number, idx: number[], device?: DeviceName | Device): Tensor {
  const shape = [...src.shape];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = shape[axis];
  shape[axis] = idx.length;
  const out = src.int ? new Int32Array(outer * idx.length * inner) : new Float32Array(outer * idx.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idx.length; j++) {
      const from = (o * n + idx[j]) * inner, to = (o * idx.length + j) * inner;
      for (let i = 0; i < inner; i++) out[to + i] = src.data[from + i];
    }
  }
  return tensor(out, shape, { device, dtype: src.int ? 'int32' : 'float32' });
}

export function minibatch(x: Source, y: Source, batchsize: number, opts: MinibatchOptions = {}): Batches {
  const known = ['shuffle', 'seed', 'partial', 'axis', 'device'];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new Error(`knet minibatch: unknown option '${k}' (known: ${known.join(', ')})`);
  const X = asArray(x), Y = asArray(y);
  const ax = opts.axis ?? X.shape.length - 1;
  const ay = opts.axis === undefined ? Y.shape.length - 1 : Math.min(opts.axis, Y.shape.length - 1);
  const n = X.shape[ax];
  if (Y.shape[ay] !== n) {
    throw new Error(`knet minibatch: x ${fmtShape(X.shape)} has ${n} examples along axis ${ax} but y ${fmtShape(Y.shape)} has ${Y.shape[ay]} along axis ${ay}`);
  }
  if (!Number.isInteger(batchsize) || batchsize < 1) throw new Error(`knet minibatch: batch size must be a positive integer, got ${batchsize}`);
  if (batchsize > n) {
    throw new Error(`knet minibatch: batch size ${batchsize} is larger than the data (${n} examples along axis ${ax} of ${fmtShape(X.shape)})`);
  }
  if (opts.seed !== undefined && !Number.isFinite(opts.seed)) throw new Error(`knet minibatch: seed must be a number, got ${opts.seed}`);
  let draw = uniform;
  if (opts.seed !== undefined) { const g = generator(opts.seed); draw = () => g.uniform(); }
  const order = Array.from({ length: n }, (_, i) => i);
  if (opts.shuffle) shuffleInPlace(order, draw);
  const batches: [Tensor, Tensor][] = [];
  for (let s = 0; s + (opts.partial ? 1 : batchsize) <= n; s += batchsize) {
    const idx = order.slice(s, s + batchsize);
    batches.push(keep([gather(X, ax, idx, opts.device), gather(Y, ay, idx, opts.device)]) as [Tensor, Tensor]);
  }
  return new Batches(batches, !!opts.shuffle, draw);
}
