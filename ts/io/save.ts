// save() and load(): parameters (and optimizer state) in the safetensors format, to and
// from files in Node and Deno, and to downloads, file handles and bytes in the browser.
// The format itself lives in params.ts; this file picks where the bytes go.

import type { Device, DeviceName } from '../device/device.js';
import { tensor } from '../create.js';
import { Optimizer } from '../optim/optimizers.js';
import { runtime } from '../runtime.js';
import { fmtShape, Tensor } from '../tensor.js';
import { keep } from '../scope.js';
import { decodeSafetensors, encodeSafetensors, loadParams, type LoadedParams, type Metadata, saveParams } from './params.js';

/** Where save() writes: a path (Node, Deno), a FileSystemFileHandle, or a file name to download (browser). */
export type SaveTarget = string | URL | { createWritable(): Promise<any> };
/** What load() reads: a path or URL, bytes, a Blob/File, a Response or a FileSystemFileHandle. */
export type LoadSource = string | URL | Uint8Array | ArrayBuffer | { arrayBuffer(): Promise<ArrayBuffer> } | { getFile(): Promise<any> };

/**
 * Saves a structure of tensors in the safetensors format and returns the bytes written.
 * In a browser a string target is the name of a download.
 */
export async function save(target: SaveTarget, params: unknown, metadata: Metadata = {}): Promise<Uint8Array> {
  const bytes = await encodeSafetensors(params, metadata);
  if (typeof target === 'object' && target !== null && 'createWritable' in target) {
    const w = await target.createWritable();
    await w.write(bytes);
    await w.close();
  } else if (runtime === 'browser') {
    const name = String(target).split('/').pop() || 'params.safetensors';
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: name });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } else {
    await saveParams(target as string | URL, params, metadata);
  }
  return bytes;
}

/** Loads a safetensors file or bytes: { params (the saved structure), metadata }. */
export async function load(source: LoadSource, opts: { device?: DeviceName | Device } = {}): Promise<LoadedParams> {
  if (source instanceof Uint8Array) return decodeSafetensors(source, opts);
  if (source instanceof ArrayBuffer) return decodeSafetensors(new Uint8Array(source), opts);
  if (typeof source === 'object' && source !== null && !(source instanceof URL)) {
    const blob = 'getFile' in source ? await source.getFile() : source;
    return decodeSafetensors(new Uint8Array(await blob.arrayBuffer()), { ...opts, name: blob.name ?? 'the data' });
  }
  return loadParams(source, opts);
}

/**
 * The state of optimizers (a structure like the one optimizers() returns) as plain tensors,
 * ready to save(): each stateful optimizer gives { <state name>: tensor, t: int32 step count }.
 */
export function optimizerState(opts: unknown): unknown {
  if (opts instanceof Optimizer) {
    const out: Record<string, Tensor> = {};
    for (const k of opts.stateNames) {
      const s = (opts as any)[k] as Tensor | null;
      if (s) out[k] = s;
    }
    if ('t' in opts) out.t = keep(tensor(Int32Array.of((opts as any).t), [1]));
    return out;
  }
  if (Array.isArray(opts)) return opts.map(optimizerState);
  if (opts && typeof opts === 'object') return Object.fromEntries(Object.entries(opts).map(([k, v]) => [k, optimizerState(v)]));
  return null;
}

/** Puts saved state (from optimizerState, after save/load) back into matching optimizers. */
export async function restoreOptimizerState(opts: unknown, state: unknown, path = 'opts'): Promise<void> {
  if (opts instanceof Optimizer) {
    const s = (state ?? {}) as Record<string, Tensor>;
    for (const k of opts.stateNames) {
      const t = s[k];
      if (!t) continue;
      const old = (opts as any)[k] as Tensor | null;
      if (old && !old.disposed && fmtShape(old.shape) !== fmtShape(t.shape)) {
        throw new Error(`knet restoreOptimizerState: ${path}.${k} is ${fmtShape(t.shape)} in the saved state but ${fmtShape(old.shape)} here`);
      }
      old?.dispose();
      (opts as any)[k] = keep(t);
    }
    if ('t' in opts && s.t) (opts as any).t = (await s.t.data())[0];
    return;
  }
  if (Array.isArray(opts)) {
    for (let i = 0; i < opts.length; i++) await restoreOptimizerState(opts[i], (state as any)?.[i], `${path}[${i}]`);
  } else if (opts && typeof opts === 'object') {
    for (const [k, v] of Object.entries(opts)) await restoreOptimizerState(v, (state as any)?.[k], `${path}.${k}`);
  }
}
