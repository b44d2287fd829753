// One kernel's measured figures as the kernels suite records them in kernels.json (pure).

export interface KernelRecord {
  group: string;
  kernel: string;
  unit: 'GFLOP/s' | 'GB/s';
  /** FLOPs (GFLOP/s kernels) or bytes (GB/s kernels) per call */
  amount: number;
  knet: number;
  /** the single-thread WebAssembly peak it is set against (cpu only), and which one */
  peak: number | null;
  peakKind: string | null;
  percentOfPeak: number | null;
  tfjs: number | null;
  tfjsError: string | null;
  knetOverTfjs: number | null;
}

/** The streaming loop a memory-bound kernel is set against, by pattern. */
export const PATTERN_NAMES: Record<string, string> = { add: 'c=a+b', map: 'b=a·s', sum: 'Σa' };

export function kernelRecord(
  k: { group: string; name: string; unit: 'GFLOP/s' | 'GB/s'; amount: number; pattern?: string },
  knet: number, tfjs: number | null, tfjsError: string | undefined, peak: { value: number; kind: string } | null,
): KernelRecord {
  return {
    group: k.group, kernel: k.name, unit: k.unit, amount: k.amount, knet,
    peak: peak?.value ?? null, peakKind: peak?.kind ?? null, percentOfPeak: peak ? (100 * knet) / peak.value : null,
    tfjs, tfjsError: tfjsError ?? null, knetOverTfjs: tfjs ? knet / tfjs : null,
  };
}
