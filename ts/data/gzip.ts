// Gzip detection and inflation with the runtime's own implementation: node:zlib in Node,
// DecompressionStream in Deno and browsers. There is deliberately no hand-written inflate.

import { runtime } from '../runtime.js';

/** True when the bytes start with the gzip magic number 0x1f 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Inflates a gzip stream. Rejects on truncated or corrupt input. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (runtime === 'node') {
    const zlib = await import('node:zlib');
    // The callback form runs on libuv's thread pool, so a 10 MB file does not block the event loop.
    const out = await new Promise<Uint8Array>((resolve, reject) =>
      zlib.gunzip(bytes, (err, res) => (err ? reject(err) : resolve(res))));
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  return gunzipStream(bytes);
}

/** The Web Streams path (Deno, browsers); exported so that Node can test it too. */
export async function gunzipStream(bytes: Uint8Array): Promise<Uint8Array> {
  const input = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  const inflated = input.pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}
