// Downloading datasets from a mirror: a local HTTP server on 127.0.0.1 serves copies of the
// bundled files (good, corrupted, cut short or missing), the loaders get a nonexistent data
// folder and an empty temporary cache, and we check what arrives and what is left behind.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { download, housing, mnist, text, MNIST, HOUSING } from '../ts/data/index.js';

const DATA = fileURLToPath(new URL('../data/', import.meta.url));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: Server;
let base: string;
let tmp: string;
const requests: string[] = [];

/**
 * Routes: /good/<folder>/<file> serves the bundled file, /bad/... the same with one byte
 * flipped, /short/... announces the full length but hangs up halfway; anything else is a 404.
 */
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'knet-download-'));
  server = createServer(async (req, res) => {
    requests.push(req.url!);
    const m = /^\/(good|bad|short)\/([\w-]+)\/([\w.-]+)$/.exec(req.url!);
    const file = m && join(DATA, m[2], m[3]);
    if (!m || !existsSync(file!)) { res.writeHead(404).end('not here'); return; }
    const body = Buffer.from(await readFile(file!));
    if (m[1] === 'bad') body[body.length >> 1] ^= 0xff;
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
    if (m[1] === 'short') {
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh empty cache and a data folder that does not exist. */
async function fresh(name: string) {
  const cache = join(tmp, name, 'cache');
  await mkdir(cache, { recursive: true });
  return { cache, dir: join(tmp, name, 'no-data-here'), progress: false };
}

async function listAll(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('download from a mirror', () => {
  it('fetches MNIST into the cache, verified, then reads it from the cache', async () => {
    const opts = { ...(await fresh('mnist')), mirror: `${base}/good/` };
    const before = requests.length;
    const m = await mnist(opts);
    expect(requests.length - before).toBe(4);
    expect(m.shape.xtrn).toEqual([60000, 28, 28]);
    expect(Array.from(m.ytrn.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    const local = await mnist({ dir: DATA, download: false });
    expect(Buffer.from(m.ytst.buffer).equals(Buffer.from(local.ytst.buffer))).toBe(true);
    expect(Buffer.from(m.xtst.buffer).equals(Buffer.from(local.xtst.buffer))).toBe(true);

    for (const f of Object.values(MNIST)) {
      const cached = await readFile(join(opts.cache, 'mnist', f.name));
      expect(f.sha256).toContain(sha(cached));
    }
    expect(await listAll(opts.cache)).toEqual(['mnist', ...Object.values(MNIST).map((f) => `mnist/${f.name}`)].sort());

    const again = await mnist(opts);
    expect(requests.length - before).toBe(4);
    expect(again.ytrn).toEqual(m.ytrn);
  });

  it('throws on a checksum mismatch and leaves nothing in the cache', async () => {
    const opts = { ...(await fresh('bad')), mirror: `${base}/bad/` };
    const err = housing(opts);
    await expect(err).rejects.toThrow(/checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/bad\/housing\/housing\.data/);
    await expect(err).rejects.toThrow(new RegExp(`expected sha256 ${HOUSING.sha256[0]}, got [0-9a-f]{64}; the file was not saved`));
    expect(await listAll(opts.cache)).toEqual([]);
  });

  it('throws when the connection breaks off and leaves nothing in the cache', async () => {
    const opts = { ...(await fresh('short')), mirror: `${base}/short/` };
    await expect(housing(opts)).rejects.toThrow(/housing\.data[\s\S]*(broke off|incomplete)/);
    expect(await listAll(opts.cache)).toEqual([]);
  });

  it('explains a 404 with the file, the URL and KNET_DATA', async () => {
    const opts = { ...(await fresh('missing')), mirror: `${base}/nothing-here/` };
    const err = mnist(opts);
    await expect(err).rejects.toThrow(/cannot find MNIST training labels \(mnist\/train-labels-idx1-ubyte\.gz\)/);
    await expect(err).rejects.toThrow(/HTTP 404/);
    await expect(err).rejects.toThrow(/no-data-here/);
    await expect(err).rejects.toThrow(/storage\.googleapis\.com[\s\S]*KNET_DATA/);
    expect(await listAll(opts.cache)).toEqual([]);
  });

  it('replaces a damaged cached file', async () => {
    const opts = { ...(await fresh('damaged')), mirror: `${base}/good/` };
    await mkdir(join(opts.cache, 'housing'));
    await writeFile(join(opts.cache, 'housing', 'housing.data'), 'garbage\n');
    const h = await housing(opts);
    expect(h.y.length).toBe(506);
    expect(sha(await readFile(join(opts.cache, 'housing', 'housing.data')))).toBe(HOUSING.sha256[0]);
  });

  it('takes the mirror and the cache from KNET_MIRROR and KNET_CACHE', async () => {
    const { cache, dir } = await fresh('env');
    const saved = { mirror: process.env.KNET_MIRROR, cache: process.env.KNET_CACHE };
    process.env.KNET_MIRROR = `${base}/good`;
    process.env.KNET_CACHE = cache;
    try {
      const s = await text('tinyshakespeare', { dir, progress: false });
      expect(s.startsWith('First Citizen:')).toBe(true);
      expect(existsSync(join(cache, 'text', 'tinyshakespeare.txt'))).toBe(true);
    } finally {
      for (const [k, v] of [['KNET_MIRROR', saved.mirror], ['KNET_CACHE', saved.cache]] as const) {
        if (v === undefined) delete process.env[k]; else process.env[k] = v;
      }
    }
  });

  it('draws a progress line on stderr, redrawn in place on a terminal', async () => {
    const capture = async (tty: boolean) => {
      const opts = { ...(await fresh(`progress-${tty}`)), mirror: `${base}/good/`, progress: true };
      let out = '';
      const wasTTY = process.stderr.isTTY;
      process.stderr.isTTY = tty;
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => { out += String(chunk); return true; });
      try {
        await housing(opts);
      } finally {
        spy.mockRestore();
        process.stderr.isTTY = wasTTY;
      }
      return out;
    };
    const done = /knet: housing\/housing\.data\s+\[#{20}\]\s+49\.1 kB \/ 49\.1 kB\s+100%/;
    const log = await capture(false);
    expect(log).toMatch(/^knet: downloading housing\/housing\.data \(49\.1 kB\)\n/);
    expect(log).toMatch(done);
    expect(log).not.toContain('\r');
    const tty = await capture(true);
    expect(tty).toMatch(done);
    expect(tty.startsWith('\r')).toBe(true);
    expect(tty.endsWith('\x1b[K\n')).toBe(true);
    expect(tty.split('\n')).toHaveLength(2);
  });

  it('download() saves a verified file where asked', async () => {
    const dest = join(tmp, 'direct', 'sub', 'housing.data');
    const bytes = await download(`${base}/good/housing/housing.data`, dest, { sha256: HOUSING.sha256, progress: false });
    expect(bytes.length).toBe(49083);
    expect(sha(await readFile(dest))).toBe(HOUSING.sha256[0]);
    await expect(download(`${base}/bad/housing/housing.data`, join(tmp, 'direct', 'bad.data'), { sha256: HOUSING.sha256, progress: false }))
      .rejects.toThrow(/checksum mismatch/);
    expect(existsSync(join(tmp, 'direct', 'bad.data'))).toBe(false);
  });
});
