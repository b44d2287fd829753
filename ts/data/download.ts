// Downloading a file over HTTP(S) with a progress line on stderr and a SHA-256 check; the file
// is saved (atomically) only after the check passes, so the cache never holds a bad copy.

import { runtime } from '../runtime.js';
import { displayName, toUrl, writeAtomic } from './files.js';
import { sha256 } from './sha256.js';

declare const Deno: any;

export interface DownloadOptions {
  /** Accepted SHA-256 checksums (lowercase hex); the download must match one. None: no check. */
  sha256?: readonly string[];
  /** Show a progress line on stderr (Node and Deno). Default true. */
  progress?: boolean;
  /** What the progress line calls the file; default the URL. */
  label?: string;
}

/** Fetches a URL completely and checks its checksum. Nothing is written. */
export async function fetchVerified(url: string | URL, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const href = (await toUrl(url)).href;
  let res: Response;
  try {
    res = await fetch(href);
  } catch (e) {
    const cause = (e as any)?.cause?.message ?? (e as Error).message;
    throw new Error(`knet: cannot download ${href}: ${cause}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`knet: cannot download ${href}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  }
  const total = Number(res.headers.get('content-length')) || 0;
  const bar = new Progress(opts.label ?? href, total, opts.progress ?? true);
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      bar.update(received);
    }
  } catch (e) {
    bar.end(received, false);
    throw new Error(`knet: download of ${href} broke off after ${received} bytes: ${(e as Error).message}`);
  }
  bar.end(received, true);
  if (total && received !== total) {
    throw new Error(`knet: download of ${href} is incomplete: got ${received} of ${total} bytes`);
  }
  const bytes = concat(chunks, received);
  const accepted = opts.sha256 ?? [];
  if (accepted.length) {
    const got = await sha256(bytes);
    if (!accepted.includes(got)) {
      throw new Error(
        `knet: checksum mismatch for ${href}: expected sha256 ${accepted.join(' or ')}, got ${got}; the file was not saved`);
    }
  }
  return bytes;
}

/** Downloads a URL into a file, verified as in fetchVerified, and returns the bytes. */
export async function download(url: string | URL, dest: string | URL, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const bytes = await fetchVerified(url, opts);
  const target = await toUrl(dest);
  try {
    await writeAtomic(target, bytes);
  } catch (e) {
    throw new Error(`knet: cannot save ${await displayName(target)}: ${(e as Error).message}`);
  }
  return bytes;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

const size = (n: number) =>
  n < 1e3 ? `${n} B` : n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;

/**
 * One progress line on stderr, redrawn in place on a terminal (at most 10 times a second).
 * When stderr is not a terminal (CI logs) only the start and the end are printed, so logs do
 * not fill with carriage returns.
 */
class Progress {
  private last = 0;
  private readonly tty: boolean;
  private readonly on: boolean;

  constructor(private label: string, private total: number, enabled: boolean) {
    this.on = enabled && runtime !== 'browser';
    this.tty = this.on && isTerminal();
    if (this.on && !this.tty) writeStderr(`knet: downloading ${label}${total ? ` (${size(total)})` : ''}\n`);
  }

  update(received: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    writeStderr('\r' + this.line(received) + '\x1b[K');
  }

  end(received: number, ok: boolean): void {
    if (!this.on) return;
    const line = this.line(received) + (ok ? '' : '  failed');
    writeStderr(this.tty ? '\r' + line + '\x1b[K\n' : line + '\n');
  }

  private line(received: number): string {
    if (!this.total) return `knet: ${this.label}  ${size(received)}`;
    const frac = Math.min(1, received / this.total);
    const width = 20;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    return `knet: ${this.label}  [${bar}]  ${size(received)} / ${size(this.total)}  ${Math.floor(frac * 100)}%`;
  }
}

function isTerminal(): boolean {
  if (runtime === 'node') return !!process.stderr.isTTY;
  if (runtime === 'deno') return !!Deno.stderr.isTerminal?.();
  return false;
}

function writeStderr(text: string): void {
  if (runtime === 'node') process.stderr.write(text);
  else if (runtime === 'deno') Deno.stderr.writeSync(new TextEncoder().encode(text));
}
