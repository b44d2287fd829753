// The named datasets: MNIST, Fashion-MNIST, Boston Housing and the bundled texts, returned as
// plain typed arrays with their shapes (no tensors here), each checked against what the
// format and the dataset promise.

import { displayName, readBytes, toUrl } from './files.js';
import { inflate, readIdx, type Idx } from './idx.js';
import { dataOptions, locate, whereToGet, type DataArg, type DataOptions } from './locate.js';
import { FASHION_MNIST, HOUSING, MNIST, TEXTS, type DataFile } from './registry.js';
import { readNumericText } from './text.js';

export interface MnistData {
  /** Training images, row-major, one 28x28 image after another, pixels scaled to [0, 1]. */
  xtrn: Float32Array;
  /** Training labels 0..9. */
  ytrn: Int32Array;
  xtst: Float32Array;
  ytst: Int32Array;
  shape: {
    xtrn: [n: number, height: number, width: number];
    ytrn: [n: number];
    xtst: [n: number, height: number, width: number];
    ytst: [n: number];
  };
  /** Class names by label. */
  classes: readonly string[];
}

const SIDE = 28;
const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
const FASHION_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** MNIST handwritten digits: 60,000 training and 10,000 test images. */
export function mnist(arg?: DataArg): Promise<MnistData> {
  return idxDataset(MNIST, MNIST_CLASSES, dataOptions(arg));
}

/** Fashion-MNIST (Zalando Research): the same format and sizes as MNIST, ten clothing classes. */
export function fashionMnist(arg?: DataArg): Promise<MnistData> {
  return idxDataset(FASHION_MNIST, FASHION_CLASSES, dataOptions(arg));
}

type IdxFiles = typeof MNIST;

async function idxDataset(files: IdxFiles, classes: readonly string[], opts: DataOptions): Promise<MnistData> {
  // Labels first: they are small, so a wrong file fails fast.
  const ytrn = await labels(files.trainLabels, 60000, classes.length, opts);
  const xtrn = await images(files.trainImages, 60000, opts);
  const ytst = await labels(files.testLabels, 10000, classes.length, opts);
  const xtst = await images(files.testImages, 10000, opts);
  return {
    xtrn, ytrn, xtst, ytst, classes,
    shape: { xtrn: [60000, SIDE, SIDE], ytrn: [60000], xtst: [10000, SIDE, SIDE], ytst: [10000] },
  };
}

/** Locates a known file and parses it; parse errors get the "where to get it" hint appended. */
async function parseKnown<T>(file: DataFile, opts: DataOptions, parse: (bytes: Uint8Array, name: string) => T | Promise<T>): Promise<T> {
  const { bytes, name } = await locate(file, opts);
  try {
    return await parse(bytes, name);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n  ${whereToGet(file)}`);
  }
}

async function idxOf(bytes: Uint8Array, name: string): Promise<Idx> {
  return readIdx(await inflate(bytes, name), name);
}

function labels(file: DataFile, count: number, nclass: number, opts: DataOptions): Promise<Int32Array> {
  return parseKnown(file, opts, async (bytes, name) => {
    const { data, shape } = await idxOf(bytes, name);
    if (!(data instanceof Uint8Array) || shape.length !== 1) {
      throw new Error(`knet: ${name}: expected a 1-d uint8 IDX label file, got ${shape.length}-d ${data.constructor.name}`);
    }
    if (shape[0] !== count) {
      throw new Error(`knet: ${name}: expected ${count} labels, the file has ${shape[0]}`);
    }
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      if (data[i] >= nclass) {
        throw new Error(`knet: ${name}: label ${data[i]} at index ${i} is outside 0..${nclass - 1}`);
      }
      out[i] = data[i];
    }
    return out;
  });
}

function images(file: DataFile, count: number, opts: DataOptions): Promise<Float32Array> {
  return parseKnown(file, opts, async (bytes, name) => {
    const { data, shape } = await idxOf(bytes, name);
    if (!(data instanceof Uint8Array) || shape.length !== 3 || shape[1] !== SIDE || shape[2] !== SIDE) {
      throw new Error(`knet: ${name}: expected uint8 images of shape N x ${SIDE} x ${SIDE}, got ${data.constructor.name} of shape ${shape.join(' x ')}`);
    }
    if (shape[0] !== count) {
      throw new Error(`knet: ${name}: expected ${count} images, the file has ${shape[0]}`);
    }
    // A 256-entry table is faster than dividing 47 million times and gives the same floats.
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = v / 255;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = table[data[i]];
    return out;
  });
}

export interface HousingData {
  /** Features, row-major: 506 rows (towns) of 13 columns, as in the file (not normalised). */
  x: Float64Array;
  /** MEDV, the median home value in $1000s, one per row. */
  y: Float64Array;
  shape: { x: [rows: number, cols: number]; y: [rows: number] };
  /** Names of the 13 feature columns, in order. */
  columns: readonly string[];
  /** Name of the target column. */
  target: string;
}

export const HOUSING_COLUMNS = [
  'CRIM', 'ZN', 'INDUS', 'CHAS', 'NOX', 'RM', 'AGE', 'DIS', 'RAD', 'TAX', 'PTRATIO', 'B', 'LSTAT',
] as const;

/** Boston Housing (UCI): 506 towns, 13 features and the median home value. */
export function housing(arg?: DataArg): Promise<HousingData> {
  return parseKnown(HOUSING, dataOptions(arg), (bytes, name) => {
    const { data, shape: [rows, cols] } = readNumericText(decodeUtf8(bytes, name), name);
    const ncol = HOUSING_COLUMNS.length + 1;
    if (rows !== 506 || cols !== ncol) {
      throw new Error(`knet: ${name}: expected 506 rows of ${ncol} numbers, got ${rows} rows of ${cols}`);
    }
    const x = new Float64Array(rows * (ncol - 1));
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      x.set(data.subarray(i * ncol, i * ncol + ncol - 1), i * (ncol - 1));
      y[i] = data[i * ncol + ncol - 1];
    }
    return { x, y, shape: { x: [rows, ncol - 1], y: [rows] }, columns: HOUSING_COLUMNS, target: 'MEDV' };
  });
}

/** The names text() knows besides paths. */
export const TEXT_NAMES = Object.keys(TEXTS);

/**
 * A bundled text by name ('hiawatha', 'tinyshakespeare'), or any UTF-8 file by path or URL,
 * as a string. A leading byte-order mark is dropped (hiawatha.txt has one), so that it does
 * not become a character of the vocabulary.
 */
export async function text(nameOrPath: string | URL, arg?: DataArg): Promise<string> {
  const known = typeof nameOrPath === 'string' ? TEXTS[nameOrPath] : undefined;
  if (known) return parseKnown(known, dataOptions(arg), decodeUtf8);
  const url = await toUrl(nameOrPath);
  const name = await displayName(url);
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(url);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n  text() takes a file path or URL, or one of the bundled names: ${TEXT_NAMES.join(', ')}`);
  }
  return decodeUtf8(bytes, name);
}

function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`knet: ${name} is not valid UTF-8 text`);
  }
}
