// Public API of the data loaders: file formats (IDX, numeric text), the named datasets, and
// the download helpers. Everything returns plain typed arrays; nothing here knows tensors.

export { readIdx, loadIdx, type Idx, type IdxArray } from './idx.js';
export { readNumericText, type NumericTable } from './text.js';
export { normalize } from './normalize.js';
export { isGzip, gunzip } from './gzip.js';
export { sha256 } from './sha256.js';
export { download, fetchVerified, type DownloadOptions } from './download.js';
export { locate, projectData, type DataOptions, type DataArg, type Located } from './locate.js';
export { MNIST, FASHION_MNIST, HOUSING, TEXTS, type DataFile } from './registry.js';
export {
  mnist, fashionMnist, housing, text, HOUSING_COLUMNS, TEXT_NAMES,
  type MnistData, type HousingData,
} from './datasets.js';
