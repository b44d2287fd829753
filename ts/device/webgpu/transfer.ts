// gpu(x) and cpu(x): Knet's names for moving a tensor, or a whole model (arrays and plain
// objects of tensors, nested), between devices. Uploading is synchronous (x.to('gpu'));
// reading back from the gpu is asynchronous in WebGPU, so cpu() returns a Promise:
// `const w = await cpu(wgpu)`. Tensors already on the target are returned as they are;
// the sources are left alone (dispose them when they are no longer needed).

import { Tensor } from '../../tensor.js';

type Structure = Tensor | readonly Structure[] | { readonly [k: string]: Structure } | null | undefined | number | string | boolean;

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

function mapStructure(v: unknown, f: (t: Tensor) => unknown): unknown {
  if (v instanceof Tensor) return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStructure(x, f));
  if (isPlain(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = mapStructure(v[k], f);
    return o;
  }
  return v;
}

/** Copies tensors (or a structure of them) to the gpu device; needs `await initGpu()` first. */
export function gpu<T extends Structure>(x: T): T {
  return mapStructure(x, (t) => t.to('gpu')) as T;
}

/** Copies tensors (or a structure of them) to the cpu device: `await cpu(x)`. */
export async function cpu<T extends Structure>(x: T): Promise<T> {
  const moved = new Map<Tensor, Promise<Tensor>>();
  mapStructure(x, (t) => { if (!moved.has(t)) moved.set(t, t.toAsync('cpu')); });
  const outs = await Promise.all(moved.values());
  const done = new Map([...moved.keys()].map((t, i) => [t, outs[i]]));
  return mapStructure(x, (t) => done.get(t)) as T;
}
