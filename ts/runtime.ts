// Which JavaScript runtime we are in, and how to read a file shipped beside the package.
// Deno defines `process` too, so it is tested first.

declare const Deno: any;

export type Runtime = 'deno' | 'node' | 'browser';

export const runtime: Runtime =
  typeof Deno !== 'undefined' ? 'deno'
  : typeof process !== 'undefined' && !!(process as any).versions?.node ? 'node'
  : 'browser';

/** Reads an asset (a .wasm or .wgsl file) given as a URL relative to a module. */
export async function readAsset(url: URL): Promise<Uint8Array> {
  if (url.protocol === 'file:') {
    if (runtime === 'deno') return await Deno.readFile(url);
    if (runtime === 'node') {
      const { readFile } = await import('node:fs/promises');
      return new Uint8Array(await readFile(url));
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`knet: cannot load ${url.href}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
