// Argument checks shared by every op, so bad input fails before any kernel runs with a
// message that names the op, the shapes and devices involved, and what to do.

import type { Device, DType } from '../device/device.js';
import { disposedError, fmtShape, type Shape, Tensor } from '../tensor.js';

export function describe(t: Tensor): string { return `${t.dtype} ${fmtShape(t.shape)}`; }

/** Checks that x is a live tensor of the wanted dtype; returns it. */
export function arg(op: string, x: unknown, name = 'x', dtype: DType | null = 'float32'): Tensor {
  if (!(x instanceof Tensor)) {
    throw new Error(`knet ${op}: ${name} must be a Tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array (wrap it with tensor())' : typeof x}`);
  }
  if (x.disposed) throw disposedError(x, op);
  if (dtype && x.dtype !== dtype) {
    throw new Error(`knet ${op}: ${name} must be ${dtype}, got ${describe(x)}` +
      (x.dtype === 'int32' ? '; int32 tensors hold labels and indices: convert with float32(x)' : ''));
  }
  return x;
}

/** The device all tensors share; mixing devices is an error naming both. */
export function sameDevice(op: string, ...ts: Tensor[]): Device {
  const d = ts[0].device;
  for (let i = 1; i < ts.length; i++) {
    const e = ts[i].device;
    if (e !== d) {
      throw new Error(`knet ${op}: inputs live on different devices: ${describe(ts[0])} on '${d.name}' and ` +
        `${describe(ts[i])} on '${e.name}'. Move one explicitly: gpu(x) (or x.to('gpu')) uploads to the gpu, ` +
        `\`await cpu(x)\` reads back to the cpu.`);
    }
  }
  return d;
}

/** Normalises axes (negative counts from the end); undefined means all axes. */
export function normAxes(op: string, shape: Shape, axes: number | readonly number[] | undefined): number[] {
  if (axes === undefined) return shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -shape.length || a >= Math.max(shape.length, 1)) {
      throw new Error(`knet ${op}: axis ${a} is out of range for shape ${fmtShape(shape)} (rank ${shape.length})`);
    }
    return a < 0 ? a + shape.length : a;
  });
  if (new Set(out).size !== out.length) throw new Error(`knet ${op}: repeated axis in [${list}]`);
  return out.sort((a, b) => a - b).filter((a) => a < shape.length);
}

/** Contiguous row-major strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** [outer, r, inner] sizes for a reduction over the consecutive axes [from, to). */
export function split3(shape: Shape, from: number, to: number): [number, number, number] {
  let outer = 1, r = 1, inner = 1;
  shape.forEach((d, i) => { if (i < from) outer *= d; else if (i < to) r *= d; else inner *= d; });
  return [outer, r, inner];
}

/** A device's optional kernel, bound; a device without it is a clear error naming the op. */
export function deviceKernel<K extends keyof Device>(op: string, dev: Device, name: K): NonNullable<Device[K]> {
  const f = dev[name];
  if (typeof f !== 'function') throw new Error(`knet ${op}: not implemented on the '${dev.name}' device yet`);
  return (f as Function).bind(dev) as NonNullable<Device[K]>;
}
