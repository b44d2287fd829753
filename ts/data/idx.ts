// The IDX file format (MNIST and friends): a parser for raw bytes and an async loader that
// reads a file or URL and inflates gzip first.
//
// Layout: two zero bytes, a type code, the number of dimensions, then each dimension as a
// big-endian uint32, then the elements in row-major order, big-endian.

import { gunzip, isGzip } from './gzip.js';
import { displayName, readBytes, toUrl } from './files.js';

export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface Idx {
  data: IdxArray;
  shape: number[];
}

interface IdxType {
  name: string;
  size: number;
  make(n: number): IdxArray;
  get(view: DataView, offset: number): number;
}

const TYPES: Record<number, IdxType> = {
  0x08: { name: 'uint8', size: 1, make: (n) => new Uint8Array(n), get: (v, o) => v.getUint8(o) },
  0x09: { name: 'int8', size: 1, make: (n) => new Int8Array(n), get: (v, o) => v.getInt8(o) },
  0x0b: { name: 'int16', size: 2, make: (n) => new Int16Array(n), get: (v, o) => v.getInt16(o) },
  0x0c: { name: 'int32', size: 4, make: (n) => new Int32Array(n), get: (v, o) => v.getInt32(o) },
  0x0d: { name: 'float32', size: 4, make: (n) => new Float32Array(n), get: (v, o) => v.getFloat32(o) },
  0x0e: { name: 'float64', size: 8, make: (n) => new Float64Array(n), get: (v, o) => v.getFloat64(o) },
};

const hex = (b: number) => '0x' + b.toString(16).padStart(2, '0');
const typeList = Object.entries(TYPES).map(([c, t]) => `${hex(+c)} (${t.name})`).join(', ');

/**
 * Parses uncompressed IDX bytes. `name` (a file name) is used in error messages.
 * Gzipped bytes are refused here because inflating is async in browsers; use loadIdx.
 */
export function readIdx(bytes: Uint8Array, name = 'IDX data'): Idx {
  if (isGzip(bytes)) {
    throw new Error(`knet: ${name} is gzip-compressed; inflate it first (loadIdx does this)`);
  }
  if (bytes.length < 4) {
    throw new Error(`knet: ${name} is not an IDX file: expected a 4-byte header, got ${bytes.length} bytes`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const got = Array.from(bytes.subarray(0, 4), hex).join(' ');
    throw new Error(`knet: ${name} is not an IDX file: expected magic bytes 0x00 0x00 <type> <ndim>, got ${got}`);
  }
  const type = TYPES[bytes[2]];
  if (!type) {
    throw new Error(`knet: ${name}: unknown IDX type code ${hex(bytes[2])}; expected one of ${typeList}`);
  }
  const ndim = bytes[3];
  const start = 4 + 4 * ndim;
  if (bytes.length < start) {
    throw new Error(`knet: ${name}: the IDX header declares ${ndim} dimensions (${start} header bytes) but the file has only ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * type.size;
  const actual = bytes.length - start;
  if (actual !== expected) {
    throw new Error(
      `knet: ${name}: IDX payload is ${actual} bytes; expected ${shape.join(' x ')} ${type.name} elements = ${expected} bytes` +
      (actual < expected ? ' (the file is truncated)' : ' (the file has extra bytes)'));
  }
  let data: IdxArray;
  if (type.size === 1) {
    // A copy, so the result does not pin (or alias) the caller's buffer.
    const src = bytes.subarray(start);
    data = bytes[2] === 0x08 ? src.slice() : new Int8Array(src.buffer, src.byteOffset, src.length).slice();
  } else {
    // Multi-byte elements are big-endian and the payload may be unaligned, so read them one by one.
    data = type.make(count);
    for (let i = 0, o = start; i < count; i++, o += type.size) data[i] = type.get(view, o);
  }
  return { data, shape };
}

/**
 * Reads an IDX file (a path, a URL, or bytes already in memory), inflating it first when it
 * starts with the gzip header.
 */
export async function loadIdx(source: string | URL | Uint8Array | ArrayBuffer, name?: string): Promise<Idx> {
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else {
    const url = await toUrl(source);
    name ??= await displayName(url);
    bytes = await readBytes(url);
  }
  name ??= 'IDX data';
  return readIdx(await inflate(bytes, name), name);
}

/** Inflates gzip input (leaving other input as is), with an error that names the file. */
export async function inflate(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzip(bytes);
  } catch (e) {
    throw new Error(`knet: ${name}: gzip data is truncated or corrupt (${(e as Error).message})`);
  }
}
