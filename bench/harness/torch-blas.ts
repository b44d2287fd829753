// PyTorch beside knet, on an optimized BLAS. Debian's python3-torch calls a generic
// libblas.so.3; with only libblas3 installed that is netlib's reference implementation
// (~5-8 GFLOP/s), which makes PyTorch's dense layers many times slower than PyTorch
// usually is (its convolutions go through oneDNN either way). So the suites run PyTorch
// with an optimized libblas.so.3 first on LD_LIBRARY_PATH where there is one:
// $KNET_TORCH_BLAS (a directory holding libblas.so.3), else Debian's OpenBLAS, the OpenMP
// build first: it shares torch's OpenMP threads, where the pthreads build and torch's own
// threads oversubscribe the cores when both run two.
import { existsSync } from 'node:fs';

export const OPENBLAS_DIRS = ['x86_64-linux-gnu', 'aarch64-linux-gnu']
  .flatMap((a) => ['openmp', 'pthread'].map((t) => `/usr/lib/${a}/openblas-${t}`));

/** The directory of the optimized libblas.so.3 PyTorch should use, or null. */
export function torchBlasDir(): string | null {
  return process.env.KNET_TORCH_BLAS ?? OPENBLAS_DIRS.find((d) => existsSync(`${d}/libblas.so.3`)) ?? null;
}

/** Environment additions for a PyTorch child: LD_LIBRARY_PATH with that directory first. */
export function torchEnv(): Record<string, string> {
  const dir = torchBlasDir();
  return dir ? { LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {};
}

/**
 * Python lines that name the libblas torch loaded (for the child's info) and set its
 * thread count along with torch's (OpenBLAS keeps its own, which torch.set_num_threads
 * does not reach): `set_threads(n)` and `BLAS` after them.
 */
export const PY_BLAS = String.raw`
import ctypes as _ct
_blas = next((l.split()[-1] for l in open('/proc/self/maps') if l.split()[-1].split('/')[-1].startswith(('libblas', 'libopenblas'))), None)
try: _blas_threads = _ct.CDLL(_blas).openblas_set_num_threads
except Exception: _blas_threads = None
def set_threads(n):
    torch.set_num_threads(n)
    if _blas_threads: _blas_threads(n)
BLAS = 'OpenBLAS (%s)' % '/'.join(_blas.split('/')[-2:]) if _blas_threads else \
    ('the reference BLAS (netlib)' if _blas and '/blas/' in _blas else 'libblas: %s' % _blas)
`;
