// Data loaders on the bundled files (MNIST, housing, texts), the IDX and numeric-text parsers
// on synthetic input, and the errors that corrupt or truncated copies must produce.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  fashionMnist, housing, loadIdx, mnist, normalize, readIdx, readNumericText, text,
  HOUSING_COLUMNS, type MnistData,
} from '../ts/data/index.js';
import * as K from '../ts/index.js';
import { gunzip, gunzipStream, isGzip } from '../ts/data/gzip.js';

const DATA = fileURLToPath(new URL('../data/', import.meta.url));
const MNIST_DIR = join(DATA, 'mnist');
const DEBIAN_FASHION = '/usr/share/datasets/fashion-mnist';

/** An IDX file: header for `type` and `shape`, then `payload`. */
function idx(type: number, shape: number[], payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(head.buffer);
  head[2] = type;
  head[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

function histogram(labels: Int32Array): number[] {
  const h = new Array(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

describe('readIdx', () => {
  it('reads uint8 data with its shape, copying it', () => {
    const bytes = idx(0x08, [2, 3], Uint8Array.of(1, 2, 3, 4, 5, 6));
    const { data, shape } = readIdx(bytes);
    expect(shape).toEqual([2, 3]);
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 6]);
    bytes[bytes.length - 1] = 99;
    expect(data[5]).toBe(6);
  });

  it('reads the big-endian multi-byte types', () => {
    const cases: [number, any, number, (v: DataView, o: number, x: number) => void, number[]][] = [
      [0x09, Int8Array, 1, (v, o, x) => v.setInt8(o, x), [-128, -1, 0, 127]],
      [0x0b, Int16Array, 2, (v, o, x) => v.setInt16(o, x), [-32768, -2, 300, 32767]],
      [0x0c, Int32Array, 4, (v, o, x) => v.setInt32(o, x), [-2147483648, -5, 70000, 2147483647]],
      [0x0d, Float32Array, 4, (v, o, x) => v.setFloat32(o, x), [-1.5, 0, 0.25, 2 ** 100]],
      [0x0e, Float64Array, 8, (v, o, x) => v.setFloat64(o, x), [-1e-300, Math.PI, 0.1, 1e300]],
    ];
    for (const [code, Ctor, size, set, values] of cases) {
      const payload = new Uint8Array(values.length * size);
      const view = new DataView(payload.buffer);
      values.forEach((x, i) => set(view, i * size, x));
      const { data, shape } = readIdx(idx(code, [2, 1, 2], payload));
      expect(shape).toEqual([2, 1, 2]);
      expect(data).toBeInstanceOf(Ctor);
      expect(Array.from(data)).toEqual(values);
    }
  });

  it('names the problem and the file', () => {
    const good = idx(0x08, [3], Uint8Array.of(1, 2, 3));
    const bad = (bytes: Uint8Array) => () => readIdx(bytes, 'x.idx');
    expect(bad(Uint8Array.of(0x12, 0x34, 8, 1, 0, 0, 0, 0))).toThrow(/x\.idx is not an IDX file: expected magic bytes 0x00 0x00/);
    expect(bad(Uint8Array.of(0, 0))).toThrow(/x\.idx.*4-byte header/);
    const badType = good.slice(); badType[2] = 0x0a;
    expect(bad(badType)).toThrow(/x\.idx: unknown IDX type code 0x0a; expected one of 0x08 \(uint8\)/);
    expect(bad(good.subarray(0, 6))).toThrow(/declares 1 dimensions/);
    expect(bad(good.subarray(0, good.length - 1))).toThrow(/payload is 2 bytes; expected 3 uint8 elements = 3 bytes \(the file is truncated\)/);
    expect(bad(Uint8Array.from([...good, 0]))).toThrow(/extra bytes/);
    expect(bad(gzipSync(good))).toThrow(/gzip-compressed.*loadIdx/);
  });
});

describe('gzip', () => {
  it('inflates with node:zlib and with DecompressionStream alike', async () => {
    const gz = new Uint8Array(await readFile(join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz')));
    expect(isGzip(gz)).toBe(true);
    const a = await gunzip(gz);
    const b = await gunzipStream(gz);
    expect(a.length).toBe(10008);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
  });

  it('rejects truncated gzip on both paths', async () => {
    const gz = new Uint8Array(await readFile(join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz')));
    const cut = gz.subarray(0, gz.length >> 1);
    await expect(gunzip(cut)).rejects.toThrow();
    await expect(gunzipStream(cut)).rejects.toThrow();
  });
});

describe('loadIdx', () => {
  it('loads gzipped files by path, URL and bytes', async () => {
    const path = join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz');
    const byPath = await loadIdx(path);
    const byUrl = await loadIdx(new URL('../data/mnist/t10k-labels-idx1-ubyte.gz', import.meta.url));
    const byBytes = await loadIdx(new Uint8Array(await readFile(path)));
    for (const r of [byPath, byUrl, byBytes]) {
      expect(r.shape).toEqual([10000]);
      expect(Array.from(r.data.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    }
  });

  it('reports a missing file by name', async () => {
    await expect(loadIdx('/nonexistent/knet/x-idx1-ubyte.gz')).rejects.toThrow(/cannot find .*x-idx1-ubyte\.gz/);
  });
});

describe('mnist (bundled)', () => {
  let m: MnistData;
  beforeAll(async () => { m = await mnist(DATA); });

  it('has the published counts and shapes', () => {
    expect(m.shape).toEqual({ xtrn: [60000, 28, 28], ytrn: [60000], xtst: [10000, 28, 28], ytst: [10000] });
    expect(m.xtrn).toBeInstanceOf(Float32Array);
    expect(m.ytrn).toBeInstanceOf(Int32Array);
    expect(m.xtrn.length).toBe(60000 * 784);
    expect(m.xtst.length).toBe(10000 * 784);
    expect(m.ytrn.length).toBe(60000);
    expect(m.ytst.length).toBe(10000);
    expect(m.classes).toHaveLength(10);
  });

  it('has the known training label histogram and first labels', () => {
    expect(histogram(m.ytrn)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(histogram(m.ytst).reduce((a, b) => a + b)).toBe(10000);
    expect(Array.from(m.ytrn.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(m.ytst.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it('has pixels in [0, 1] with the usual mean and std', () => {
    let sum = 0, sq = 0, min = Infinity, max = -Infinity;
    for (const v of m.xtrn) { sum += v; sq += v * v; if (v < min) min = v; if (v > max) max = v; }
    const mean = sum / m.xtrn.length;
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(mean).toBeCloseTo(0.1307, 4);
    expect(Math.sqrt(sq / m.xtrn.length - mean * mean)).toBeCloseTo(0.3081, 4);
  });

  it('has the pixels and labels of the raw IDX bytes (gunzipped here, not by the loader)', async () => {
    const raw = async (f: string) => new Uint8Array(gunzipSync(await readFile(join(MNIST_DIR, f))));
    const be32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o);
    for (const [set, x, y, n] of [['train', m.xtrn, m.ytrn, 60000], ['t10k', m.xtst, m.ytst, 10000]] as const) {
      const img = await raw(`${set}-images-idx3-ubyte.gz`), lab = await raw(`${set}-labels-idx1-ubyte.gz`);
      // the IDX headers: magic 0x0803 / 0x0801, then the dimensions
      expect([be32(img, 0), be32(img, 4), be32(img, 8), be32(img, 12)]).toEqual([0x803, n, 28, 28]);
      expect([be32(lab, 0), be32(lab, 4)]).toEqual([0x801, n]);
      // pixel (i, r, c) is byte 16 + 784 i + 28 r + c, scaled by 1/255; label i is byte 8 + i
      const places: [number, number, number][] = [[0, 14, 14], [0, 5, 12], [1, 10, 10], [7, 20, 9], [n - 1, 13, 15], [n - 1, 27, 27], [n >> 1, 8, 20]];
      // and the first and last nonzero pixels of a few images (the digit, not the background)
      for (const i of [0, 1, n - 1]) {
        const pixels = img.subarray(16 + 784 * i, 16 + 784 * (i + 1));
        for (const k of [pixels.findIndex((v) => v !== 0), pixels.findLastIndex((v) => v !== 0)]) places.push([i, Math.floor(k / 28), k % 28]);
      }
      let nonzero = 0;
      for (const [i, r, c] of places) {
        const byte = img[16 + 784 * i + 28 * r + c];
        if (byte) nonzero++;
        expect(x[784 * i + 28 * r + c], `${set} image ${i} pixel (${r}, ${c})`).toBe(Math.fround(byte / 255));
      }
      expect(nonzero).toBeGreaterThanOrEqual(6); // not only background
      for (const i of [0, 1, 2, 1000, n >> 1, n - 2, n - 1]) expect(y[i], `${set} label ${i}`).toBe(lab[8 + i]);
    }
  });

  it('accepts the dataset folder itself as well as a data root', async () => {
    const direct = await mnist({ dir: MNIST_DIR, download: false });
    expect(Array.from(direct.ytst.subarray(0, 10))).toEqual(Array.from(m.ytst.subarray(0, 10)));
  });
});

describe.skipIf(!existsSync(DEBIAN_FASHION))('fashionMnist (Debian package)', () => {
  it('loads with the MNIST counts and balanced classes', async () => {
    const f = await fashionMnist({ download: false });
    expect(f.shape.xtrn).toEqual([60000, 28, 28]);
    expect(f.shape.xtst).toEqual([10000, 28, 28]);
    expect(histogram(f.ytrn)).toEqual(new Array(10).fill(6000));
    expect(histogram(f.ytst)).toEqual(new Array(10).fill(1000));
    expect(f.classes[9]).toBe('Ankle boot');
  });
});

describe('housing', () => {
  it('has 506 rows of 13 features and MEDV', async () => {
    const h = await housing(DATA);
    expect(h.shape).toEqual({ x: [506, 13], y: [506] });
    expect(h.x.length).toBe(506 * 13);
    expect(h.columns).toEqual(HOUSING_COLUMNS);
    expect(h.target).toBe('MEDV');
    const mean = h.y.reduce((a, b) => a + b) / 506;
    expect(mean).toBeCloseTo(22.5328, 4);
    expect(Math.min(...h.y)).toBe(5);
    expect(Math.max(...h.y)).toBe(50);
    expect(Array.from(h.x.subarray(0, 3))).toEqual([0.00632, 18, 2.31]);
    expect(h.y[0]).toBe(24);
  });

  it('loads from the project folder by default', async () => {
    const h = await housing({ download: false });
    expect(h.y.length).toBe(506);
  });

  it('normalize gives zero-mean unit-variance columns', async () => {
    const h = await housing(DATA);
    for (const x of [h.x, Float32Array.from(h.x)]) {
      const z = normalize(x, 506, 13);
      expect(z.constructor).toBe(x.constructor);
      for (let j = 0; j < 13; j++) {
        let s = 0, ss = 0;
        for (let i = 0; i < 506; i++) s += z[i * 13 + j];
        const mean = s / 506;
        for (let i = 0; i < 506; i++) ss += (z[i * 13 + j] - mean) ** 2;
        expect(Math.abs(mean)).toBeLessThan(1e-6);
        expect(Math.sqrt(ss / 506)).toBeCloseTo(1, 5);
      }
    }
    expect(h.x[0]).toBe(0.00632);
  });

  it('normalize maps a constant column to zeros and checks the size', () => {
    expect(Array.from(normalize(Float64Array.of(1, 7, 2, 7), 2, 2))).toEqual([-1, 0, 1, 0]);
    expect(() => normalize(new Float64Array(5), 2, 2)).toThrow(/5 values do not make a 2 x 2 table/);
  });
});

describe('KNET_DATA', () => {
  let tmp: string;
  const saved = process.env.KNET_DATA;
  beforeAll(async () => {
    // a copy of the housing data whose first value differs from the bundled file's
    tmp = await mkdtemp(join(tmpdir(), 'knet-data-root-'));
    await mkdir(join(tmp, 'housing'));
    const text = await readFile(join(DATA, 'housing', 'housing.data'), 'latin1');
    expect(text.startsWith(' 0.00632 ')).toBe(true);
    await writeFile(join(tmp, 'housing', 'housing.data'), text.replace(' 0.00632 ', ' 0.12345 '), 'latin1');
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.KNET_DATA; else process.env.KNET_DATA = saved;
    await rm(tmp, { recursive: true, force: true });
  });

  it('is read before the bundled data/', async () => {
    process.env.KNET_DATA = tmp;
    const h = await housing({ download: false });
    expect(h.x[0]).toBe(0.12345);
    expect(h.x[1]).toBe(18);
    expect(h.y.length).toBe(506);
  });

  it('a dataset missing there falls back to the bundled data/', async () => {
    process.env.KNET_DATA = tmp; // holds housing only
    const t = await text('hiawatha', { download: false });
    expect(t.length).toBe(206847);
  });

  it('a dir argument replaces it: the loader uses only that folder', async () => {
    process.env.KNET_DATA = tmp;
    expect((await housing({ dir: DATA, download: false })).x[0]).toBe(0.00632);
    expect((await housing({ dir: join(DATA, 'housing'), download: false })).x[0]).toBe(0.00632);
    // a dir without the file fails (here: no download, empty cache) rather than reading KNET_DATA
    const empty = join(tmp, 'empty');
    await mkdir(empty, { recursive: true });
    const msg = await housing({ dir: empty, download: false, cache: join(tmp, 'cache') }).then(() => '', (e: Error) => e.message);
    expect(msg).toMatch(/cannot find Boston Housing data/);
    expect(msg).toContain(`Looked in: ${join(empty, 'housing.data')} (not found); ${join(empty, 'housing', 'housing.data')} (not found); ${join(tmp, 'cache', 'housing', 'housing.data')} (not found).`);
    expect(msg).not.toContain(join(tmp, 'housing', 'housing.data'));
    delete process.env.KNET_DATA;
    expect((await housing({ download: false })).x[0]).toBe(0.00632);
  });
});

describe('minibatch shuffles', () => {
  const x = { data: Float32Array.from({ length: 40 }, (_, i) => i), shape: [2, 20] };
  const y = { data: Int32Array.from({ length: 20 }, (_, i) => i), shape: [20] };
  /** The labels of each batch, over `epochs` passes. */
  const epochs = (b: K.Batches, n: number) => Array.from({ length: n }, () => [...b].map(([, yb]) => Array.from(yb.dataSync())));

  it('with a seed: its own generator, so the global stream is untouched', () => {
    K.setSeed(5);
    const want = Array.from(K.rand(8).dataSync());
    K.setSeed(5);
    const b = K.minibatch(x, y, 4, { shuffle: true, seed: 1 });
    epochs(b, 3);
    expect(Array.from(K.rand(8).dataSync())).toEqual(want);
    b.dispose();
  });

  it('with a seed: the same batches and epoch orders whatever the global state', () => {
    K.setSeed(11);
    const a = K.minibatch(x, y, 4, { shuffle: true, seed: 1 });
    const ea = epochs(a, 3);
    K.setSeed(12);
    K.rand(3);
    const b = K.minibatch(x, y, 4, { shuffle: true, seed: 1 });
    expect(epochs(b, 3)).toEqual(ea);
    // shuffled: not the identity order, and each epoch visits the batches in a new order
    expect(ea[0].flat()).not.toEqual(y.data.map(Number).slice());
    expect(ea[0].flat().sort((p, q) => p - q)).toEqual(Array.from(y.data));
    expect(new Set(ea.map((e) => JSON.stringify(e))).size).toBeGreaterThan(1);
    // another seed, other batches
    const c = K.minibatch(x, y, 4, { shuffle: true, seed: 2 });
    expect(epochs(c, 1)[0]).not.toEqual(ea[0]);
    for (const t of [a, b, c]) t.dispose();
  });

  it('without a seed: drawn from the global stream, so setSeed reproduces them', () => {
    K.setSeed(3);
    const a = epochs(K.minibatch(x, y, 4, { shuffle: true }), 2);
    K.setSeed(3);
    const b = epochs(K.minibatch(x, y, 4, { shuffle: true }), 2);
    expect(b).toEqual(a);
    expect(() => K.minibatch(x, y, 4, { seed: NaN })).toThrow(/knet minibatch: seed must be a number, got NaN/);
  });
});

describe('readNumericText', () => {
  it('parses rows of whitespace-separated numbers', () => {
    const t = readNumericText(' 1  2.5\t-3e2\r\n\n.5 +4 0\n');
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2.5, -300, 0.5, 4, 0]);
  });

  it('names the line of a ragged row or a non-number', () => {
    expect(() => readNumericText('1 2\n3 4\n5\n', 'f.txt')).toThrow(/f\.txt, line 3: 1 fields, expected 2 as on line 1/);
    expect(() => readNumericText('1 2\n3 x\n', 'f.txt')).toThrow(/f\.txt, line 2: field 2 is 'x', expected a number/);
    expect(() => readNumericText('0x10\n')).toThrow(/line 1/);
  });
});

describe('text', () => {
  it('loads the bundled texts by name', async () => {
    const h = await text('hiawatha', DATA);
    expect(h.charCodeAt(0)).not.toBe(0xfeff);
    expect(h.startsWith('The Project Gutenberg eBook of The Song of Hiawatha')).toBe(true);
    expect(h.length).toBe(206847);
    const s = await text('tinyshakespeare');
    expect(s.length).toBe(1115394);
    expect(s.startsWith('First Citizen:')).toBe(true);
  });

  it('loads any file by path, and names a missing one', async () => {
    const s = await text(join(DATA, 'housing', 'housing.names'));
    expect(s).toContain('MEDV');
    await expect(text('/nonexistent/knet/book.txt')).rejects.toThrow(/book\.txt[\s\S]*hiawatha, tinyshakespeare/);
  });
});

describe('corrupt and missing files', () => {
  let tmp: string;
  let labels: Uint8Array; // uncompressed train labels
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'knet-data-'));
    labels = new Uint8Array(gunzipSync(await readFile(join(MNIST_DIR, 'train-labels-idx1-ubyte.gz'))));
  });
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }); });

  /** A folder whose train-labels file has the given content; labels are read first, so that is enough. */
  async function withLabels(name: string, content: Uint8Array): Promise<string> {
    const dir = join(tmp, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), content);
    return dir;
  }

  const fileName = /train-labels-idx1-ubyte\.gz/;
  const hint = /storage\.googleapis\.com\/cvdf-datasets\/mnist\/train-labels-idx1-ubyte\.gz[\s\S]*KNET_DATA/;

  it('bad magic', async () => {
    const bad = labels.slice(); bad[0] = 0x12;
    const err = mnist({ dir: await withLabels('magic', gzipSync(bad)), download: false });
    await expect(err).rejects.toThrow(fileName);
    await expect(err).rejects.toThrow(/not an IDX file: expected magic bytes/);
    await expect(err).rejects.toThrow(hint);
  });

  it('truncated payload (uncompressed file)', async () => {
    const err = mnist({ dir: await withLabels('payload', labels.subarray(0, labels.length - 100)), download: false });
    await expect(err).rejects.toThrow(fileName);
    await expect(err).rejects.toThrow(/payload is 59900 bytes; expected 60000 uint8 elements = 60000 bytes \(the file is truncated\)/);
  });

  it('truncated gzip', async () => {
    const gz = await readFile(join(MNIST_DIR, 'train-labels-idx1-ubyte.gz'));
    const err = mnist({ dir: await withLabels('gzip', gz.subarray(0, gz.length >> 1)), download: false });
    await expect(err).rejects.toThrow(fileName);
    await expect(err).rejects.toThrow(/gzip data is truncated or corrupt/);
  });

  it('wrong count', async () => {
    const err = mnist({ dir: await withLabels('count', idx(0x08, [59999], labels.subarray(8, 8 + 59999))), download: false });
    await expect(err).rejects.toThrow(fileName);
    await expect(err).rejects.toThrow(/expected 60000 labels, the file has 59999/);
  });

  it('label out of range', async () => {
    const bad = labels.slice(); bad[8 + 3] = 12;
    const err = mnist({ dir: await withLabels('label', gzipSync(bad)), download: false });
    await expect(err).rejects.toThrow(fileName);
    await expect(err).rejects.toThrow(/label 12 at index 3 is outside 0\.\.9/);
  });

  it('wrong image count in a later file', async () => {
    const dir = join(tmp, 'images');
    await mkdir(dir, { recursive: true });
    for (const f of ['train-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      await copyFile(join(MNIST_DIR, f), join(dir, f));
    }
    const images = gunzipSync(await readFile(join(MNIST_DIR, 't10k-images-idx3-ubyte.gz')));
    await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), idx(0x08, [9999, 28, 28], images.subarray(16, 16 + 9999 * 784)));
    const err = mnist({ dir, download: false });
    await expect(err).rejects.toThrow(/t10k-images-idx3-ubyte\.gz: expected 10000 images, the file has 9999/);
  });

  it('missing file names the file, where it looked, the URL and KNET_DATA', async () => {
    const dir = join(tmp, 'empty');
    const err = mnist({ dir, download: false, cache: join(tmp, 'cache') });
    await expect(err).rejects.toThrow(/cannot find MNIST training labels \(mnist\/train-labels-idx1-ubyte\.gz\)/);
    await expect(err).rejects.toThrow(/knet-data-.*empty.*train-labels-idx1-ubyte\.gz \(not found\)/);
    await expect(err).rejects.toThrow(/downloads are turned off/);
    await expect(err).rejects.toThrow(hint);
  });

  it('ragged housing file names the file and line', async () => {
    const dir = join(tmp, 'housing');
    await mkdir(dir, { recursive: true });
    const lines = (await readFile(join(DATA, 'housing', 'housing.data'), 'latin1')).split('\n');
    lines[6] = lines[6].replace(/\s+\S+\s*$/, '');
    await writeFile(join(dir, 'housing.data'), lines.join('\n'));
    const err = housing({ dir, download: false });
    await expect(err).rejects.toThrow(/housing\.data, line 7: 13 fields, expected 14 as on line 1/);
    await expect(err).rejects.toThrow(/archive\.ics\.uci\.edu/);
  });

  it('short housing file', async () => {
    const dir = join(tmp, 'housing-short');
    await mkdir(dir, { recursive: true });
    const lines = (await readFile(join(DATA, 'housing', 'housing.data'), 'latin1')).split('\n');
    await writeFile(join(dir, 'housing.data'), lines.slice(0, 500).join('\n'));
    await expect(housing({ dir, download: false })).rejects.toThrow(/housing\.data: expected 506 rows of 14 numbers, got 500 rows of 14/);
  });
});
