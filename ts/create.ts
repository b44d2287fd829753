// Making tensors: from JavaScript data, constants and random draws.

import type { Device, DeviceName, DType } from './device/device.js';
import { fillNormal, uniform } from './random.js';
import { empty, fmtShape, sizeOf, type Shape, Tensor } from './tensor.js';

export interface CreateOptions { dtype?: DType; device?: DeviceName | Device }

const OPTION_KEYS = ['dtype', 'device'];
const DTYPES: readonly DType[] = ['float32', 'int32'];

/** Unknown keys and bad values are errors naming the function: a misspelt `device` would
 *  otherwise put the tensor on the cpu without a word. Returns the dtype to use. */
function checkOptions(fn: string, opts: unknown, dtypes: readonly DType[] = DTYPES): CreateOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`knet ${fn}: options must be an object such as { dtype: 'int32', device: 'gpu' }, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const k of Object.keys(opts)) {
    if (!OPTION_KEYS.includes(k)) {
      throw new Error(`knet ${fn}: unknown option '${k}'${hint(k, OPTION_KEYS)}; valid options: ${OPTION_KEYS.join(', ')}`);
    }
  }
  const { dtype, device } = opts as CreateOptions;
  if (dtype !== undefined && !dtypes.includes(dtype)) {
    throw new Error(`knet ${fn}: dtype ${fmtValue(dtype)} is not supported; valid dtypes${fn === 'rand' || fn === 'randn' ? ` for ${fn}` : ''}: ` +
      `${dtypes.map((d) => `'${d}'`).join(', ')}` +
      (dtypes.length < DTYPES.length ? ` (its draws are not integers; use tensor() with integer data for int32)` : ''));
  }
  if (device !== undefined && typeof device !== 'string' && !(device && typeof device === 'object' && typeof (device as Device).alloc === 'function')) {
    throw new Error(`knet ${fn}: device must be a device name such as 'cpu' or 'gpu', got ${fmtValue(device)}`);
  }
  return opts as CreateOptions;
}

function fmtValue(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : v === null ? 'null' : typeof v === 'object' ? Object.prototype.toString.call(v) : String(v);
}

/** "; did you mean 'device'?" for a key within two edits of a known one. */
function hint(k: string, known: readonly string[]): string {
  const near = known.find((w) => editDistance(k.toLowerCase(), w.toLowerCase()) <= 2);
  return near ? ` (did you mean '${near}'?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** int32 data must be integers in range; truncating 0.5 to 0 silently would hide a bug. */
function checkInt32(fn: string, flat: ArrayLike<number>): void {
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new Error(`knet ${fn}: dtype 'int32' needs integers in [-2^31, 2^31), but the value at index ${i} is ${v}; ` +
        `round the data first (e.g. Math.round) or leave dtype as 'float32'`);
    }
  }
}

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
export function tensor(data: Nested | Float32Array | Int32Array | ArrayLike<number>, shape?: Shape, opts?: CreateOptions): Tensor {
  opts = checkOptions('tensor', opts);
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
  if (dtype === 'int32' && !(flat instanceof Int32Array)) checkInt32('tensor', flat);
  const t = empty(shape, dtype, opts.device);
  t.device.write(t, dtype === 'int32' ? Int32Array.from(flat) : (flat instanceof Float32Array ? flat : Float32Array.from(flat)));
  return t;
}

/** Accepts `zeros(2, 3)`, `zeros([2, 3])`, and options last: `zeros([2, 3], { device: 'gpu' })`. */
function parse(fn: string, args: (number | Shape | CreateOptions)[], dtypes?: readonly DType[]): [number[], CreateOptions] {
  let opts: CreateOptions = {};
  const last = args[args.length - 1];
  if (last !== null && typeof last === 'object' && !Array.isArray(last)) { opts = checkOptions(fn, last, dtypes); args = args.slice(0, -1); }
  const shape = args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as Shape)] : (args as number[]);
  return [shape, opts];
}

function fill(fn: string, shape: Shape, value: number, opts: CreateOptions): Tensor {
  const dtype = opts.dtype ?? 'float32';
  if (dtype === 'int32') checkInt32(fn, [value]);
  const t = empty(shape, dtype, opts.device);
  t.device.fill(t, value);
  return t;
}
export function full(shape: Shape, value: number, opts?: CreateOptions): Tensor { return fill('full', shape, value, checkOptions('full', opts)); }
export function zeros(...args: (number | Shape | CreateOptions)[]): Tensor { const [s, o] = parse('zeros', args); return fill('zeros', s, 0, o); }
export function ones(...args: (number | Shape | CreateOptions)[]): Tensor { const [s, o] = parse('ones', args); return fill('ones', s, 1, o); }

/** Uniform draws in [0, 1) from the seedable generator (setSeed). */
export function rand(...args: (number | Shape | CreateOptions)[]): Tensor {
  const [s, o] = parse('rand', args, ['float32']);
  const a = new Float32Array(sizeOf(s));
  for (let i = 0; i < a.length; i++) a[i] = uniform();
  return tensor(a, s, o);
}
/** Standard normal draws from the seedable generator (setSeed). */
export function randn(...args: (number | Shape | CreateOptions)[]): Tensor {
  const [s, o] = parse('randn', args, ['float32']);
  const a = new Float32Array(sizeOf(s));
  fillNormal(a);
  return tensor(a, s, o);
}
