// Per-column standardisation of a row-major table, as the Knet housing example does with
// `x = (x .- mean(x,2)) ./ std(x,0,2)` on its features-by-samples matrix.

/**
 * Returns a copy of the rows x cols row-major table `x` (one sample per row) with every column
 * shifted to mean 0 and scaled to standard deviation 1. The standard deviation is the
 * population one (divide by rows), matching Julia's std(x, 0, 2), i.e. corrected=false.
 * A constant column becomes all zeros instead of NaN.
 */
export function normalize<T extends Float32Array | Float64Array>(x: T, rows: number, cols: number): T {
  if (x.length !== rows * cols) {
    throw new Error(`knet: normalize: ${x.length} values do not make a ${rows} x ${cols} table`);
  }
  const out = x.slice() as T;
  for (let j = 0; j < cols; j++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += x[i * cols + j];
    mean /= rows;
    let ss = 0;
    for (let i = 0; i < rows; i++) { const d = x[i * cols + j] - mean; ss += d * d; }
    const sd = Math.sqrt(ss / rows);
    const scale = sd > 0 ? 1 / sd : 0;
    for (let i = 0; i < rows; i++) out[i * cols + j] = (x[i * cols + j] - mean) * scale;
  }
  return out;
}
