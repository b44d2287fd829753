// How the threaded cpu device cuts a kernel's work into per-thread parts, and when it is
// worth cutting at all.
//
// Every split is along an axis whose elements are computed independently (output rows or
// columns, images, planes, element ranges), never along an axis that is summed over, so
// each output element runs the same arithmetic in the same order for any number of
// threads: results are bit-identical to one thread. Units keep SIMD groups and gemm's
// micro-tiles where a single call puts them (4 elements, 4 rows, 8 columns).
//
// The minimum work per part comes from measuring the hand-off and each family's
// crossover (bench/threads.ts; the numbers are in docs/design.md, "Threads"): a worker
// that is spinning takes a part and answers in ~1.3 µs, one that has gone to sleep needs
// ~10 µs (and, on a machine whose other cores are busy, may not run at all for a while:
// the caller then takes its part back). A part must be worth several microseconds.

/**
 * [start, end) ranges cutting [0, n) into at most `parts` pieces as even as possible,
 * every inner boundary a multiple of `unit`; empty pieces are left out.
 */
export function splitRange(n: number, parts: number, unit = 1): Array<[number, number]> {
  const units = Math.ceil(n / unit);
  parts = Math.max(1, Math.min(parts, units));
  const out: Array<[number, number]> = [];
  let prev = 0;
  for (let i = 1; i <= parts; i++) {
    const end = i === parts ? n : Math.min(n, Math.floor((units * i) / parts) * unit);
    if (end > prev) out.push([prev, end]);
    prev = end;
  }
  return out;
}

/**
 * Minimum work per thread, in each kernel family's unit. Chosen from the hand-off cost
 * measured by bench/threads.ts (see docs/design.md). Mutable so that tests can force
 * splits of small shapes and benchmarks can find the crossovers; nothing else changes it.
 */
export const MIN_WORK: { flops: number; elements: number; heavyElements: number; reduceElements: number } = {
  /** gemm and convolution: flops (2 per multiply-add); 2^18 is ~5 µs at 55 GFLOP/s */
  flops: 1 << 18,
  /** cheap elementwise maps (add, mul, relu, copy, fill, dropout, pooling): elements, ~4 µs */
  elements: 1 << 15,
  /** exp, log, tanh, sigm, sqrt, 1/x, pow, softmax, the LSTM cell: elements, ~2.5 µs */
  heavyElements: 1 << 12,
  /** reductions and optimizer steps: elements read, ~1.5 µs (sums) to ~15 µs (Adam) */
  reduceElements: 1 << 15,
};

/** How many parts an op of `work` units gets with `threads` threads and `min` units per part. */
export function partsFor(threads: number, work: number, min: number): number {
  return Math.max(1, Math.min(threads, Math.floor(work / min)));
}
