// Runtime-neutral file access for the data loaders: paths to URLs and back, reading a file
// that may be absent, atomic writes, environment variables and the download cache folder.
// Local files are file: URLs throughout so that Node, Deno and browsers share one code path.

import { runtime } from '../runtime.js';

declare const Deno: any;

/** An environment variable, or undefined when unset, empty, or unreadable (browsers, Deno without --allow-env). */
export function env(name: string): string | undefined {
  try {
    if (runtime === 'deno') return Deno.env.get(name) || undefined;
    if (runtime === 'node') return process.env[name] || undefined;
  } catch {
    // Deno throws without the env permission; that is the same as unset for us.
  }
  return undefined;
}

// A scheme followed by "//" (http://, file://). Windows drive letters (C:\) do not match.
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A path, URL string or URL as a URL. With `dir`, the result ends in '/' so that file names
 * resolve inside it. Relative paths resolve against the working directory (the page in browsers).
 */
export async function toUrl(where: string | URL, dir = false): Promise<URL> {
  let url: URL;
  if (where instanceof URL) url = new URL(where.href);
  else if (URL_LIKE.test(where)) url = new URL(where);
  else if (runtime === 'browser') url = new URL(where, (globalThis as any).location?.href);
  else url = (await import('node:url')).pathToFileURL(where);
  if (dir && !url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** How a URL is shown in messages: a local path for file: URLs, else the URL. */
export async function displayName(url: URL): Promise<string> {
  if (url.protocol === 'file:' && runtime !== 'browser') {
    return (await import('node:url')).fileURLToPath(url);
  }
  return url.href;
}

function isNotFound(e: any): boolean {
  return e?.code === 'ENOENT' || e?.code === 'ENOTDIR' || e?.name === 'NotFound' || e?.name === 'NotADirectory';
}

/** Reads a file or URL; null when it does not exist (no such file, HTTP 404 or 410). */
export async function readIfExists(url: URL): Promise<Uint8Array | null> {
  if (url.protocol === 'file:' && runtime !== 'browser') {
    try {
      if (runtime === 'deno') return await Deno.readFile(url);
      const { readFile } = await import('node:fs/promises');
      const buf = await readFile(url);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }
  const res = await fetch(url);
  if (res.status === 404 || res.status === 410) return null;
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText} from ${url.href}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Reads a file or URL; a missing one is an error naming it. */
export async function readBytes(url: URL): Promise<Uint8Array> {
  const bytes = await readIfExists(url);
  if (!bytes) throw new Error(`knet: cannot find ${await displayName(url)}`);
  return bytes;
}

/**
 * Writes a file by writing a temporary file beside it and renaming, so that an interrupted
 * write never leaves a partial file under the final name. Creates the folder if needed.
 */
export async function writeAtomic(url: URL, bytes: Uint8Array): Promise<void> {
  const tmp = new URL(`${url.href}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.part`);
  const folder = new URL('.', url);
  if (runtime === 'deno') {
    await Deno.mkdir(folder, { recursive: true });
    try {
      await Deno.writeFile(tmp, bytes);
      await Deno.rename(tmp, url);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
    return;
  }
  if (runtime !== 'node') throw new Error('knet: writing files needs Node or Deno');
  const fs = await import('node:fs/promises');
  await fs.mkdir(folder, { recursive: true });
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, url);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

/** The download cache: the option, else KNET_CACHE, else ~/.cache/knet. Null in browsers. */
export async function cacheDir(option?: string | URL): Promise<URL | null> {
  const where = option ?? env('KNET_CACHE');
  if (where) return toUrl(where, true);
  if (runtime === 'browser') return null;
  let home: string | undefined;
  if (runtime === 'node') home = (await import('node:os')).homedir();
  else home = env('HOME') ?? env('USERPROFILE');
  if (!home) return null;
  return new URL('.cache/knet/', await toUrl(home, true));
}
