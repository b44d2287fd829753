// Finding a known data file: the caller's folder, KNET_DATA, the project's data/ folder and
// system package folders, then the download cache, then a verified download into the cache.

import { runtime } from '../runtime.js';
import { cacheDir, displayName, env, readIfExists, toUrl } from './files.js';
import { download, fetchVerified } from './download.js';
import type { DataFile } from './registry.js';
import { sha256 } from './sha256.js';

export interface DataOptions {
  /**
   * The folder holding the files: either the dataset's own folder (with the files directly
   * in it) or a data root with the dataset in a sub-folder (mnist/, housing/, ...). When given,
   * it replaces KNET_DATA, the project's data/ and system folders, so that an explicit choice
   * is never silently served from somewhere else; the cache and a download still apply.
   * In browsers a URL (or a path relative to the page).
   */
  dir?: string | URL;
  /** Download cache (Node and Deno). Default: KNET_CACHE, else ~/.cache/knet. */
  cache?: string | URL;
  /** Base URL to download from instead of the public sources, laid out as <mirror>/<folder>/<file>. Default: KNET_MIRROR. */
  mirror?: string | URL;
  /** Set false to never use the network. Default true. */
  download?: boolean;
  /** Progress line on stderr while downloading. Default true. */
  progress?: boolean;
}

/** A directory argument or full options, as the dataset functions accept them. */
export type DataArg = string | URL | DataOptions | undefined;

export function dataOptions(arg: DataArg): DataOptions {
  return typeof arg === 'string' || arg instanceof URL ? { dir: arg } : { ...arg };
}

/** The project's bundled data folder; ts/data/ and dist/data/ are both two levels below the root. */
export const projectData = new URL('../../data/', import.meta.url);

export interface Located {
  bytes: Uint8Array;
  /** Where the bytes came from (a path or URL), for messages. */
  name: string;
}

/** The sentence every "missing or bad file" error ends with: where to get a good copy. */
export function whereToGet(file: DataFile): string {
  const from = file.url ?? file.source ?? 'its public source';
  return `Get ${file.name} from ${from} and put it in a folder passed as the \`dir\` argument, ` +
    `or in $KNET_DATA/${file.folder}/ (the KNET_DATA environment variable names a data root).`;
}

export async function locate(file: DataFile, opts: DataOptions = {}): Promise<Located> {
  const tried: string[] = [];
  const attempt = async (url: URL): Promise<Located | null> => {
    const name = await displayName(url);
    try {
      const bytes = await readIfExists(url);
      if (bytes) return { bytes, name };
      tried.push(`${name} (not found)`);
    } catch (e) {
      tried.push(`${name} (${(e as Error).message})`);
    }
    return null;
  };

  for (const url of await localCandidates(file, opts)) {
    const hit = await attempt(url);
    if (hit) return hit;
  }

  const cache = runtime === 'browser' ? null : await cacheDir(opts.cache);
  const cached = cache && new URL(`${file.folder}/${file.name}`, cache);
  if (cached) {
    const hit = await attempt(cached);
    // Cached files came from the network, so they are checked again (cheap next to parsing):
    // a damaged one is replaced rather than reported as a parse error.
    if (hit && file.sha256.includes(await sha256(hit.bytes))) return hit;
    if (hit) tried.push(`${hit.name} (checksum mismatch, downloading again)`);
  }

  let failure = 'downloads are turned off (download: false)';
  if (opts.download !== false) {
    const mirror = opts.mirror ?? env('KNET_MIRROR');
    const url = mirror ? new URL(`${file.folder}/${file.name}`, await toUrl(mirror, true)) : file.url && new URL(file.url);
    if (!url) failure = 'it has no public download URL';
    else {
      const dl = { sha256: file.sha256, progress: opts.progress, label: `${file.folder}/${file.name}` };
      try {
        if (cached) return { bytes: await download(url, cached, dl), name: await displayName(cached) };
        return { bytes: await fetchVerified(url, dl), name: url.href };
      } catch (e) {
        failure = (e as Error).message.replace(/^knet: /, '');
      }
    }
  }
  throw new Error(
    `knet: cannot find ${file.what} (${file.folder}/${file.name}).\n` +
    `  Looked in: ${tried.join('; ') || 'nowhere'}.\n` +
    `  Download: ${failure}.\n` +
    `  ${whereToGet(file)}`);
}

async function localCandidates(file: DataFile, opts: DataOptions): Promise<URL[]> {
  const inFolder = (root: URL) => new URL(`${file.folder}/${file.name}`, root);
  if (opts.dir !== undefined) {
    const dir = await toUrl(opts.dir, true);
    return [new URL(file.name, dir), inFolder(dir)];
  }
  const out: URL[] = [];
  // KNET_DATA is a root shared by all datasets; a flat folder is not searched there because
  // MNIST and Fashion-MNIST use the same file names.
  const root = env('KNET_DATA');
  if (root) out.push(inFolder(await toUrl(root, true)));
  out.push(inFolder(projectData));
  if (runtime !== 'browser') {
    for (const dir of file.systemDirs ?? []) out.push(new URL(file.name, await toUrl(dir, true)));
  }
  return out;
}
