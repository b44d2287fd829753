// Making tensors: from JavaScript data, constants and random draws.

import type { Device, DeviceName, DType } from './device/device.js';
import { fillNormal, uniform } from './random.js';
import { empty, fmtShape, sizeOf, type Shape, Tensor } from './tensor.js';

export interface CreateOptions { dtype?: DType; device?: DeviceName | Device }

type Nested = number | readonly Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let d: Nested = data;
  while (Array.isArray(d)) { shape.push(d.length); d = d[0]; }
  return shape;
}

/**
 * A tensor from a number, nested arrays or a typed array (with a shape).
 * Int32Array data gives int32; everything else float32 unless `dtype` says otherwise.
 */
export function tensor(data: Nested | Float32Array | Int32Array | ArrayLike<number>, shape?: Shape, opts: CreateOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  if (typeof data === 'number') {
    flat = [data];
    shape ??= [];
  } else if (ArrayBuffer.isView(data) || !Array.isArray(data) || !Array.isArray((data as any[])[0])) {
    flat = data as ArrayLike<number>;
    shape ??= inferShape(data as Nested).length ? inferShape(data as Nested) : [flat.length];
  } else {
    const inferred = inferShape(data as Nested);
    flat = (data as any[]).flat(Infinity) as number[];
    if (flat.length !== sizeOf(inferred)) throw new Error(`knet tensor: ragged nested array (expected shape ${fmtShape(inferred)})`);
    shape ??= inferred;
  }
  if (flat.length !== sizeOf(shape)) {
    throw new Error(`knet tensor: ${flat.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`);
  }
  const dtype = opts.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  const t = empty(shape, dtype, opts.device);
  t.device.write(t, dtype === 'int32' ? Int32Array.from(flat) : (flat instanceof Float32Array ? flat : Float32Array.from(flat)));
  return t;
}

/** Accepts `zeros(2, 3)`, `zeros([2, 3])`, and options last: `zeros([2, 3], { device: 'gpu' })`. */
function parse(args: (number | Shape | CreateOptions)[]): [number[], CreateOptions] {
  let opts: CreateOptions = {};
  const last = args[args.length - 1];
  if (last && typeof last === 'object' && !Array.isArray(last)) { opts = last as CreateOptions; args = args.slice(0, -1); }
  const shape = args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as Shape)] : (args as number[]);
  return [shape, opts];
}

export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  const t = empty(shape, opts.dtype ?? 'float32', opts.device);
  t.device.fill(t, value);
  return t;
}
export function zeros(...args: (number | Shape | CreateOptions)[]): Tensor { const [s, o] = parse(args); return full(s, 0, o); }
export function ones(...args: (number | Shape | CreateOptions)[]): Tensor { const [s, o] = parse(args); return full(s, 1, o); }

/** Uniform draws in [0, 1) from the seedable generator (setSeed). */
export function rand(...args: (number | Shape | CreateOptions)[]): Tensor {
  const [s, o] = parse(args);
  const a = new Float32Array(sizeOf(s));
  for (let i = 0; i < a.length; i++) a[i] = uniform();
  return tensor(a, s, o);
}
/** Standard normal draws from the seedable generator (setSeed). */
export function randn(...args: (number | Shape | CreateOptions)[]): Tensor {
  const [s, o] = parse(args);
  const a = new Float32Array(sizeOf(s));
  fillNormal(a);
  return tensor(a, s, o);
}
