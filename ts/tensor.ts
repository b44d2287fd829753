// Tensor: a shape, a dtype and a view (offset) into reference-counted device storage.
// Views made by reshape share storage; dispose() drops one reference, and the storage
// returns to its device's pool when the last one goes. A FinalizationRegistry returns
// storage of tensors that were forgotten without dispose().

import type { Device, DeviceName, DType, Storage } from './device/device.js';
import { getDevice } from './device/index.js';
import { track } from './scope.js';
import type { Node } from './autograd/tape.js';

function dropRef(s: Storage): void {
  if (--s.refs === 0) s.device.release(s);
}

/**
 * What the FinalizationRegistry holds for a tensor: its storage, until dispose() takes it.
 * Registering without an unregister token (and emptying the holder on dispose instead of
 * unregistering) skips V8's token table, which cost more than the rest of a tensor's making.
 */
interface Held { s: Storage | null }
const finalizer = new FinalizationRegistry<Held>((h) => { if (h.s) dropRef(h.s); });

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Same dimensions (without formatting either: this runs on every op). */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function fmtShape(shape: Shape): string { return `[${shape.join(',')}]`; }

export class Tensor {
  readonly __knetTensor = true;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** First element's index within the storage. */
  readonly offset: number;
  /** null once disposed. */
  storage: Storage | null;
  /** Autograd nodes, one per active tape that recorded this tensor. */
  nodes: Node[] | null = null;
  /** What the FinalizationRegistry holds for this tensor, once registered (see `unscoped`). */
  private held: Held | null = null;

  constructor(storage: Storage, shape: Shape, dtype: DType, offset = 0) {
    this.storage = storage;
    // A private copy, typed readonly but not frozen (as TensorFlow.js's): reading a frozen
    // array's elements took V8 off its fast paths, a quarter of a small step's JS time.
    this.shape = shape.slice();
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.offset = offset;
    // A tensor made inside tidy() or grad() is disposed by its scope unless the scope hands
    // it on; the safety net is only needed once it leaves every scope. Registering every
    // tape intermediate cost about a tenth of a small training step.
    if (!track(this)) this.unscoped();
  }

  /** The tensor belongs to no scope any more: the FinalizationRegistry now covers it. */
  unscoped(): void {
    if (this.held || !this.storage) return;
    this.held = { s: this.storage };
    finalizer.register(this, this.held);
  }

  get device(): Device {
    if (!this.storage) throw disposedError(this, 'device');
    return this.storage.device;
  }
  get ndim(): number { return this.shape.length; }
  get disposed(): boolean { return this.storage === null; }

  /** A new tensor object over the same storage (reshape, mat, autograd boxing). */
  view(shape: Shape = this.shape): Tensor {
    if (!this.storage) throw disposedError(this, 'view');
    this.storage.refs++;
    return new Tensor(this.storage, shape, this.dtype, this.offset);
  }

  dispose(): void {
    const s = this.storage;
    if (!s) return;
    this.storage = null;
    this.nodes = null;
    if (this.held) this.held.s = null;
    dropRef(s);
  }
  [Symbol.dispose](): void { this.dispose(); }

  /** The values as a typed array copy (awaits GPU readback). */
  async data(): Promise<Float32Array | Int32Array> {
    return this.device.read(this);
  }
  /** The values as a typed array copy; cpu only (GPU readback is asynchronous). */
  dataSync(): Float32Array | Int32Array {
    const d = this.device;
    if (d.name !== 'cpu') {
      throw new Error(`knet dataSync: the tensor ${fmtShape(this.shape)} lives on '${d.name}', ` +
        `whose readback is asynchronous; use \`await x.data()\` instead.`);
    }
    return d.readSync(this);
  }
  /** The single value of a one-element tensor; cpu only (on the gpu: `await x.itemAsync()`). */
  item(): number {
    if (this.size !== 1) throw new Error(`knet item: the tensor has shape ${fmtShape(this.shape)} (${this.size} elements); item() needs exactly one. Reduce it first, e.g. sum(x).`);
    const d = this.device;
    if (d.name !== 'cpu') {
      throw new Error(`knet item: the tensor lives on '${d.name}', whose readback is asynchronous; ` +
        `use \`await x.itemAsync()\` instead (and read once per epoch rather than per batch where you can).`);
    }
    return this.dataSync()[0];
  }
  /** The single value of a one-element tensor, on any device (awaits GPU readback). */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new Error(`knet itemAsync: the tensor has shape ${fmtShape(this.shape)} (${this.size} elements); it needs exactly one. Reduce it first, e.g. sum(x).`);
    return (await this.data())[0];
  }
  /** Nested JavaScript arrays (a number for a 0-d tensor); cpu only. */
  toArray(): any {
    return nest(Array.from(this.dataSync()), this.shape);
  }
  /** Moves (copies) to a device: the only way data changes device. */
  to(device: DeviceName | Device): Tensor {
    const dev = getDevice(device);
    if (dev === this.device) return this;
    return transfer(this, dev);
  }
  /** Moves (copies) to a device, also from devices whose readback is asynchronous (the
   *  gpu): `await x.toAsync('cpu')`. Returns this tensor when it is already there. */
  async toAsync(device: DeviceName | Device): Promise<Tensor> {
    const dev = getDevice(device);
    if (dev === this.device) return this;
    if (this.device.name === 'cpu') return transfer(this, dev);
    const data = await this.data();
    const out = empty(this.shape, this.dtype, dev);
    dev.write(out, data);
    return out;
  }

  toString(): string {
    if (!this.storage) return `Tensor(${this.dtype} ${fmtShape(this.shape)}, disposed)`;
    const head = `Tensor(${this.dtype} ${fmtShape(this.shape)} on ${this.device.name})`;
    if (this.device.name !== 'cpu') return head;
    return `${head}\n${fmtValues(this.toArray(), this.dtype)}`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string { return this.toString(); }
}

function nest(flat: number[], shape: Shape): any {
  if (shape.length === 0) return flat[0];
  const [d, ...rest] = shape;
  const n = sizeOf(rest);
  return Array.from({ length: d }, (_, i) => nest(flat.slice(i * n, (i + 1) * n), rest));
}

function fmtValues(a: any, dtype: DType, depth = 0, maxItems = 8): string {
  if (!Array.isArray(a)) return dtype === 'int32' ? String(a) : Number(a).toPrecision(5).replace(/\.?0+$/, m => m.includes('e') ? m : '');
  const items = a.length > maxItems
    ? [...a.slice(0, maxItems / 2).map(x => fmtValues(x, dtype, depth + 1)), '...', ...a.slice(-maxItems / 2).map(x => fmtValues(x, dtype, depth + 1))]
    : a.map(x => fmtValues(x, dtype, depth + 1));
  const nested = Array.isArray(a[0]);
  return nested ? `[${items.join(',\n' + ' '.repeat(depth + 1))}]` : `[${items.join(', ')}]`;
}

export function disposedError(t: Tensor, op: string): Error {
  return new Error(`knet ${op}: a tensor of shape ${fmtShape(t.shape)} was already disposed ` +
    `(by dispose(), tidy(), update() or the end of grad()). Keep it with keep(), or make a new one.`);
}

/** An uninitialised tensor on a device. */
export function empty(shape: Shape, dtype: DType = 'float32', device?: DeviceName | Device): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`knet: invalid shape ${fmtShape(shape)}: dimensions must be non-negative integers`);
  }
  const dev = getDevice(device);
  return new Tensor(dev.alloc(sizeOf(shape) * 4), shape, dtype);
}

function transfer(t: Tensor, dev: Device): Tensor {
  if (t.device.name !== 'cpu' && dev.name !== 'cpu') {
    throw new Error(`knet to: move between '${t.device.name}' and '${dev.name}' through the cpu`);
  }
  if (t.device.name !== 'cpu') {
    throw new Error(`knet to('cpu'): reading from '${t.device.name}' is asynchronous; use \`await x.toAsync('cpu')\``);
  }
  const out = empty(t.shape, t.dtype, dev);
  dev.write(out, t.dataSync());
  return out;
}
