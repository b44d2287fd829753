// The data files knet knows by name: where they live inside a data folder, their public
// sources, and the SHA-256 checksums a download must match.

export interface DataFile {
  /** Sub-folder of a data root ('mnist'), also the path below a mirror. */
  folder: string;
  /** File name inside the folder. */
  name: string;
  /** What it is, for messages. */
  what: string;
  /** Public download URL; absent when no stable public copy exists. */
  url?: string;
  /** Where to get it, for messages, when there is no url. */
  source?: string;
  /** Accepted SHA-256 checksums of the file as stored (lowercase hex). */
  sha256: readonly string[];
  /** Folders where a system package installs the file (checked in Node and Deno). */
  systemDirs?: readonly string[];
}

// The commonly used mirror of Yann LeCun's MNIST files (same names, same bytes).
const MNIST_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/';
const FASHION_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const UCI_HOUSING_URL = 'https://archive.ics.uci.edu/ml/machine-learning-databases/housing/';
// Debian's dataset-fashion-mnist package.
const DEBIAN_FASHION_DIR = '/usr/share/datasets/fashion-mnist/';

const mnistFile = (name: string, what: string, sha: string): DataFile =>
  ({ folder: 'mnist', name, what: `MNIST ${what}`, url: MNIST_URL + name, sha256: [sha] });

export const MNIST = {
  trainImages: mnistFile('train-images-idx3-ubyte.gz', 'training images',
    '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609'),
  trainLabels: mnistFile('train-labels-idx1-ubyte.gz', 'training labels',
    '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c'),
  testImages: mnistFile('t10k-images-idx3-ubyte.gz', 'test images',
    '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6'),
  testLabels: mnistFile('t10k-labels-idx1-ubyte.gz', 'test labels',
    'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6'),
};

// Two checksums each: the files published by Zalando Research, then Debian's copies, which
// were recompressed by the packager (different .gz bytes, same IDX content).
const fashionFile = (name: string, what: string, official: string, debian: string): DataFile => ({
  folder: 'fashion-mnist', name, what: `Fashion-MNIST ${what}`, url: FASHION_URL + name,
  sha256: [official, debian], systemDirs: [DEBIAN_FASHION_DIR],
});

export const FASHION_MNIST = {
  trainImages: fashionFile('train-images-idx3-ubyte.gz', 'training images',
    '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
    'b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7'),
  trainLabels: fashionFile('train-labels-idx1-ubyte.gz', 'training labels',
    'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
    '0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056'),
  testImages: fashionFile('t10k-images-idx3-ubyte.gz', 'test images',
    '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
    'cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa'),
  testLabels: fashionFile('t10k-labels-idx1-ubyte.gz', 'test labels',
    '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
    '8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05'),
};

export const HOUSING: DataFile = {
  folder: 'housing', name: 'housing.data', what: 'Boston Housing data (UCI)',
  url: UCI_HOUSING_URL + 'housing.data',
  sha256: ['f365cb7c7c6c1ea6cfa1c8d0cd1e57e338a63324b0ba7f2fbaa919c3a05706aa'],
};

/** The bundled texts, by the name text() accepts. */
export const TEXTS: Record<string, DataFile> = {
  // Gutenberg's current file differs in later edits and line endings from the bundled one,
  // so there is no download URL with a stable checksum; a mirror (KNET_MIRROR) still works.
  hiawatha: {
    folder: 'text', name: 'hiawatha.txt', what: 'The Song of Hiawatha (Project Gutenberg eBook #19)',
    source: 'https://www.gutenberg.org/ebooks/19 (a fresh copy may not match the bundled checksum)',
    sha256: ['11bee0d53b79b8267736eaecd50f0d76c338279715a5bed413bd45415828cac3'],
  },
  tinyshakespeare: {
    folder: 'text', name: 'tinyshakespeare.txt', what: 'Tiny Shakespeare (char-rnn)',
    url: 'https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt',
    sha256: ['86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed'],
  },
};
