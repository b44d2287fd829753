// Saving and loading parameters in the safetensors format (huggingface/safetensors), so
// files open in PyTorch, JAX and the safetensors tools as they are:
//   8 bytes   N, the header's length, unsigned little-endian
//   N bytes   JSON: { "__metadata__": { string: string }, name: { dtype, shape, data_offsets }, ... }
//             padded with spaces to a multiple of 8 bytes
//   the data  raw little-endian values; data_offsets = [begin, end) in bytes from here
// dtype is "F32" (float32) or "I32" (int32). A structure of tensors (arrays and plain objects,
// nested) is stored under dotted names: w[0] is "0", { layers: [{ w }] } gives "layers.0.w".
// Loading rebuilds the structure: a level whose keys are 0..n-1 becomes an array.

import { tensor } from '../create.js';
import type { Device, DeviceName, DType } from '../device/device.js';
import { runtime } from '../runtime.js';
import { sizeOf, Tensor } from '../tensor.js';

declare const Deno: any;

export type Metadata = Record<string, string>;
export interface LoadedParams { params: any; metadata: Metadata }

const DTYPES: Record<DType, string> = { float32: 'F32', int32: 'I32' };
const FROM: Record<string, DType> = { F32: 'float32', I32: 'int32' };

function littleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('knet safetensors: this host is big-endian; only little-endian hosts are supported');
  }
}

/** [name, tensor] for every tensor in a structure, in order (null and undefined are skipped). */
function flatten(v: unknown, path: string[], out: [string, Tensor][]): [string, Tensor][] {
  if (v === null || v === undefined) return out;
  if (v instanceof Tensor) {
    if (v.disposed) throw new Error(`knet saveParams: the tensor at '${path.join('.')}' was already disposed`);
    out.push([path.join('.'), v]);
  } else if (Array.isArray(v)) v.forEach((x, i) => flatten(x, [...path, String(i)], out));
  else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v as object)) {
      if (k.includes('.') || k === '' || k === '__metadata__') {
        throw new Error(`knet saveParams: the key '${k}' at '${path.join('.')}' cannot be stored: names are joined with dots`);
      }
      flatten(x, [...path, k], out);
    }
  } else {
    throw new Error(`knet saveParams: '${path.join('.') || '(the root)'}' holds ${typeof v}; only tensors, ` +
      `arrays and plain objects of them can be saved (put other values in the metadata)`);
  }
  return out;
}

/** The safetensors bytes of a structure of tensors (read from any device), with string metadata. */
export async function encodeSafetensors(params: unknown, metadata: Metadata = {}): Promise<Uint8Array> {
  littleEndian();
  const entries = flatten(params, [], []);
  const names = new Set<string>();
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`knet saveParams: metadata '${k}' must be a string (safetensors stores strings), got ${typeof v}`);
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (names.has(name)) throw new Error(`knet saveParams: two tensors are named '${name}'`);
    names.add(name);
    header[name] = { dtype: DTYPES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + t.size * 4] };
    offset += t.size * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of entries) {
    const data = await t.data();
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

function bad(name: string, why: string): Error {
  return new Error(`knet loadParams: ${name} is not a valid safetensors file: ${why}`);
}

/** Parses safetensors bytes into tensors on a device, rebuilding the dotted-name structure. */
export function decodeSafetensors(bytes: Uint8Array, opts: { device?: DeviceName | Device; name?: string } = {}): LoadedParams {
  littleEndian();
  const name = opts.name ?? 'the data';
  if (bytes.length < 8) throw bad(name, `${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) throw bad(name, `the header claims ${n} bytes, but only ${bytes.length - 8} follow`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw bad(name, `the header is not JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad(name, 'the header is not a JSON object');
  const dataStart = 8 + n, dataBytes = bytes.length - dataStart;
  const metadata: Metadata = header.__metadata__ ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata) || Object.values(metadata).some((x) => typeof x !== 'string')) {
    throw bad(name, '__metadata__ must map strings to strings');
  }
  const root: Record<string, any> = {};
  let single: Tensor | undefined;
  for (const [key, e] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const dtype = FROM[e?.dtype];
    if (!dtype) throw bad(name, `'${key}' has dtype ${JSON.stringify(e?.dtype)}; knet reads F32 and I32`);
    const shape: number[] = e.shape;
    const [b, end] = e.data_offsets ?? [];
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0) || !Number.isInteger(b) || !Number.isInteger(end) ||
        b < 0 || end > dataBytes || end - b !== sizeOf(shape) * 4) {
      throw bad(name, `'${key}' has shape ${JSON.stringify(shape)} and data_offsets ${JSON.stringify(e.data_offsets)}, ` +
        `which do not fit ${dataBytes} bytes of data`);
    }
    const raw = bytes.slice(dataStart + b, dataStart + end).buffer;
    const t = tensor(dtype === 'int32' ? new Int32Array(raw) : new Float32Array(raw), shape, { dtype, device: opts.device });
    if (key === '') { single = t; continue; }
    const parts = key.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      if (node[p] instanceof Tensor) throw bad(name, `'${key}' lies under the tensor '${p}'`);
      node = node[p] ??= {};
    }
    node[parts[parts.length - 1]] = t;
  }
  return { params: single ?? rebuild(root), metadata };
}

/** Objects whose keys are exactly 0..n-1 become arrays, recursively. */
function rebuild(v: any): any {
  if (v instanceof Tensor || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  for (const k of keys) v[k] = rebuild(v[k]);
  // JavaScript lists integer-like keys first, in ascending order
  if (!keys.length || !keys.every((k, i) => k === String(i))) return v;
  return keys.map((_, i) => v[String(i)]);
}

async function writeFile(path: string | URL, data: Uint8Array): Promise<void> {
  if (runtime === 'deno') return Deno.writeFile(path, data);
  if (runtime === 'node') {
    const fs = await import('node:fs/promises');
    return fs.writeFile(path, data);
  }
  throw new Error('knet saveParams: no file system in the browser; use encodeSafetensors() and save the bytes');
}

async function readFile(path: string | URL): Promise<Uint8Array> {
  if (runtime === 'deno') return Deno.readFile(path);
  if (runtime === 'node') {
    const fs = await import('node:fs/promises');
    return new Uint8Array(await fs.readFile(path));
  }
  const res = await fetch(path);
  if (!res.ok) throw new Error(`knet loadParams: cannot load ${String(path)}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Saves a structure of tensors (e.g. a model's parameters) to a .safetensors file, with
 * optional string metadata (e.g. a vocabulary as JSON). Values are written bit-exactly.
 */
export async function saveParams(path: string | URL, params: unknown, metadata: Metadata = {}): Promise<void> {
  await writeFile(path, await encodeSafetensors(params, metadata));
}

/** Loads a .safetensors file: { params (the saved structure), metadata }. */
export async function loadParams(path: string | URL, opts: { device?: DeviceName | Device } = {}): Promise<LoadedParams> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`knet loadParams: cannot read ${String(path)}: ${(e as Error).message}`);
  }
  return decodeSafetensors(bytes, { ...opts, name: String(path) });
}

