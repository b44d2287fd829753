// The gpu device's tiled gemm kernel (shaders/gemm.wgsl), forced on whatever adapter this
// is (on CPU adapters such as lavapipe the device picks the rowblock kernel by default):
// every transpose form, with each operand read through the vec4 loader where its layout
// allows and the scalar loader where it does not, on shapes that are and are not multiples
// of 4 and of the tile, against a float64 reference and against the cpu device.
//
// Tolerance: the kernel adds the K products of each output in order with fma, so its error
// is at most gamma_K * sum_k |a_ik b_kj| (gamma_K = K u / (1 - K u), u = 2^-24), plus one
// rounding each for alpha and beta; the checks allow that bound (and twice it against the
// cpu, whose kernel has the same bound).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { rawView } from '../ts/ops/slice.js';
import { chooseTile, GemmKernels, vec4Loads } from '../ts/device/webgpu/kernels/gemm.js';
import * as R from './helpers/ref.js';
import { gpuDevice, gpuOk } from './helpers/gpu.js';

const FORMS = [[false, false], [false, true], [true, false], [true, true]] as const;
const formName = (ta: boolean, tb: boolean) => `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;
const U = 2 ** -24;

interface Case {
  M: number; N: number; K: number; ta: boolean; tb: boolean;
  /** Offsets (in elements) of A and B inside their buffers, and of C. */
  ao?: number; bo?: number; co?: number;
  alpha?: number; beta?: number;
}

/** A float64 reference C = alpha op(A) op(B) + beta C0, and the error bound of each element. */
function reference(c: Case, a: Float32Array, b: Float32Array, c0: Float32Array) {
  const { M, N, K: Kd, ta, tb } = c, alpha = c.alpha ?? 1, beta = c.beta ?? 0;
  const want = new Float64Array(M * N), bound = new Float64Array(M * N);
  const gamma = (Kd * U) / (1 - Kd * U);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0, sa = 0;
      for (let k = 0; k < Kd; k++) {
        const x = ta ? a[k * M + i] : a[i * Kd + k];
        const y = tb ? b[j * Kd + k] : b[k * N + j];
        s += x * y; sa += Math.abs(x * y);
      }
      const v = alpha * s + beta * c0[i * N + j];
      want[i * N + j] = v;
      bound[i * N + j] = Math.abs(alpha) * gamma * sa * (1 + 2 * U) + 2 * U * Math.abs(v) + 1e-30;
    }
  }
  return { want, bound };
}

/** Runs one case through a tiled gemm of the gpu device (by default its own) and the cpu's matmul. */
async function run(c: Case, r: ReturnType<typeof R.rng>, gemm = gpuDevice().gemm) {
  const { M, N, K: Kd, ta, tb } = c, ao = c.ao ?? 0, bo = c.bo ?? 0, co = c.co ?? 0;
  const alpha = c.alpha ?? 1, beta = c.beta ?? 0;
  const a = Float32Array.from(r.uniform([M * Kd], -1, 1).data);
  const b = Float32Array.from(r.uniform([Kd * N], -1, 1).data);
  const c0 = Float32Array.from(r.uniform([M * N], -1, 1).data);
  // each operand at its offset inside a larger buffer, the words around it filled with NaN
  // so that a read outside the operand shows in the result
  const padded = (x: Float32Array, off: number) => {
    const buf = new Float32Array(off + x.length + 5).fill(NaN);
    buf.set(x, off);
    return K.tensor(buf, [buf.length], { device: 'gpu' });
  };
  const ab = padded(a, ao), bb = padded(b, bo), cb = padded(c0, co);
  const av = rawView(ab, ao, ta ? [Kd, M] : [M, Kd]);
  const bv = rawView(bb, bo, tb ? [N, Kd] : [Kd, N]);
  const cv = rawView(cb, co, [M, N]);
  gemm.matmul(ta, tb, av, bv, cv, M, N, Kd, alpha, beta);
  const kernel = gemm.last;
  const whole = await cb.data();
  const got = whole.slice(co, co + M * N);
  const around = [...whole.slice(0, co), ...whole.slice(co + M * N)];
  // the cpu device on the same inputs
  const ac = K.tensor(a, ta ? [Kd, M] : [M, Kd]), bc = K.tensor(b, tb ? [N, Kd] : [Kd, N]);
  const pc = K.matmul(ac, bc, ta, tb);
  const cpu = Float32Array.from(pc.dataSync() as Float32Array, (v, i) => alpha * v + beta * c0[i]);
  for (const t of [ab, bb, cb, av, bv, cv, ac, bc, pc]) t.dispose();
  return { got, cpu, around, kernel, ref: reference(c, a, b, c0) };
}

/** The largest |got - want| / bound (<= 1 passes). */
function excess(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, scale = 1): number {
  let w = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (scale * bound[i]);
    if (!(e <= w)) w = e; // NaN wins
  }
  return w;
}

/** The loaders the tiled kernel should pick, worked out here from the layout. */
function expected(c: Case): string {
  const { M, N, K: Kd, ta, tb } = c, ao = c.ao ?? 0, bo = c.bo ?? 0;
  const a4 = (ta ? M : Kd) % 4 === 0 && ao % 4 === 0;
  const b4 = (tb ? Kd : N) % 4 === 0 && bo % 4 === 0;
  return `gemm.tiled.${formName(ta, tb)}.a${a4 ? 4 : 1}b${b4 ? 4 : 1}`;
}

describe('vec4Loads (which operands the tiled kernel reads as vec4)', () => {
  it('asks for the contiguous axis and the offset to be multiples of 4', () => {
    // op(A) is M x K, op(B) is K x N; A's contiguous axis is K (NN) or M (TA), B's N or K (TB)
    expect(vec4Loads(false, false, 3, 8, 4, 0, 0)).toEqual({ a: true, b: true });
    expect(vec4Loads(false, false, 4, 6, 5, 0, 0)).toEqual({ a: false, b: false });
    expect(vec4Loads(true, false, 4, 6, 5, 0, 0)).toEqual({ a: true, b: false });
    expect(vec4Loads(false, true, 3, 6, 8, 0, 0)).toEqual({ a: true, b: true });
    expect(vec4Loads(true, true, 5, 8, 12, 0, 0)).toEqual({ a: false, b: true });
    expect(vec4Loads(false, false, 8, 8, 8, 2, 4)).toEqual({ a: false, b: true });
    expect(vec4Loads(false, false, 8, 8, 8, 8, 6)).toEqual({ a: true, b: false });
  });
});

describe.skipIf(!gpuOk)('gpu tiled gemm: every transpose form, vec4 and scalar loads', () => {
  let was: 'tiled' | 'rowblock' = 'tiled';
  const cases: Case[] = [];
  beforeAll(() => { was = gpuDevice().gemm.kind; gpuDevice().gemm.kind = 'tiled'; });
  afterAll(() => { gpuDevice().gemm.kind = was; });

  // [M, N, K]: all multiples of 4 (whole tiles, part tiles, K shorter than a k step, K not a
  // multiple of the k step), none (scalar loads for both), and mixed, so that across the
  // four forms every pairing of a vec4 and a scalar A with a vec4 and a scalar B occurs.
  const shapes: [number, number, number][] = [
    [64, 64, 64], [128, 128, 128], [4, 4, 4], [68, 132, 36], [8, 200, 20], [192, 12, 4], [256, 256, 256],
    [65, 67, 129], [1, 1, 1], [7, 5, 3], [33, 17, 1], [1, 300, 7], [257, 3, 65],
    [64, 66, 100], [66, 64, 100], [36, 40, 30], [100, 784, 64], [30, 36, 40], [40, 30, 36], [12, 9, 130],
  ];
  let seed = 1;
  for (const [M, N, Kd] of shapes) {
    for (const [ta, tb] of FORMS) {
      const c: Case = { M, N, K: Kd, ta, tb };
      cases.push(c);
      it(`${formName(ta, tb)} ${M}x${Kd}x${N} (${expected(c).slice(-4)})`, async () => {
        const { got, cpu, kernel, ref } = await run(c, R.rng(seed++));
        expect(kernel).toBe(expected(c));
        expect(excess(got, ref.want, ref.bound)).toBeLessThanOrEqual(1);
        expect(excess(got, cpu, ref.bound, 2)).toBeLessThanOrEqual(1);
      });
    }
  }

  // Offsets: a view that starts 1..3 words into its buffer cannot be read as aligned vec4s
  // even when its shape allows; 4 and 8 can. Also alpha, beta and an offset output.
  const offsets: [number, number][] = [[1, 0], [0, 2], [3, 5], [4, 8], [8, 4], [6, 12]];
  for (const [ao, bo] of offsets) {
    for (const [ta, tb] of FORMS) {
      const c: Case = { M: 68, N: 72, K: 44, ta, tb, ao, bo, co: 3, alpha: 0.5, beta: -2 };
      cases.push(c);
      it(`${formName(ta, tb)} 68x44x72, A at +${ao}, B at +${bo}, C at +3, alpha 0.5, beta -2 (${expected(c).slice(-4)})`, async () => {
        const { got, cpu, around, kernel, ref } = await run(c, R.rng(seed++));
        expect(kernel).toBe(expected(c));
        expect(excess(got, ref.want, ref.bound)).toBeLessThanOrEqual(1);
        expect(excess(got, cpu, ref.bound, 2)).toBeLessThanOrEqual(1);
        expect(around.every(Number.isNaN), 'words around C untouched').toBe(true);
      });
    }
  }

  it('vec4 and scalar loads give bit-identical results (same products, same order)', async () => {
    for (const [ta, tb] of FORMS) {
      const c4: Case = { M: 72, N: 80, K: 52, ta, tb };
      const c1: Case = { ...c4, ao: 1, bo: 3 };
      const v = await run(c4, R.rng(99));
      const s = await run(c1, R.rng(99));
      expect(v.kernel.endsWith('a4b4')).toBe(true);
      expect(s.kernel.endsWith('a1b1')).toBe(true);
      expect(Array.from(v.got)).toEqual(Array.from(s.got));
    }
  });

  it('the cases above run every form with every pairing of vec4 and scalar loaders', () => {
    // each case checks that the kernel ran the loaders `expected` names
    const want = FORMS.flatMap(([ta, tb]) => ['a1b1', 'a1b4', 'a4b1', 'a4b4'].map((l) => `gemm.tiled.${formName(ta, tb)}.${l}`));
    expect([...new Set(cases.map(expected))].sort()).toEqual(want.sort());
  });
});

describe.skipIf(!gpuOk)('gpu tiled gemm with the smaller tiles of smaller adapters', () => {
  // chooseTile on limits below this adapter's: an 8 x 8 workgroup (32 x 32 tiles) and the
  // smallest k step, BK 4, where one vec4 spans the whole step (each tile shape is up to 16
  // more pipelines, which lavapipe takes seconds each to compile, so one shape only)
  const small = [
    { maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupSizeY: 64, maxComputeWorkgroupStorageSize: 1024 },
  ];
  for (const limits of small) {
    const tile = chooseTile(limits as GPUSupportedLimits);
    for (const [M, N, Kd, ao, bo] of [[40, 36, 20, 0, 0], [33, 35, 13, 0, 0], [36, 40, 28, 1, 2]]) {
      for (const [ta, tb] of FORMS) {
        const c: Case = { M, N, K: Kd, ta, tb, ao, bo };
        it(`tile ${JSON.stringify(tile)}: ${formName(ta, tb)} ${M}x${Kd}x${N}, offsets ${ao}, ${bo} (${expected(c).slice(-4)})`, async () => {
          const dev = gpuDevice();
          const gemm = new GemmKernels(dev.ctx, (dev.gemm as any).src, tile, 'tiled');
          const { got, cpu, kernel, ref } = await run(c, R.rng(M * 7 + Kd), gemm);
          expect(kernel).toBe(expected(c));
          expect(excess(got, ref.want, ref.bound)).toBeLessThanOrEqual(1);
          expect(excess(got, cpu, ref.bound, 2)).toBeLessThanOrEqual(1);
        });
      }
    }
  }
  it('those limits give those tiles', () => {
    expect(small.map((l) => chooseTile(l as GPUSupportedLimits))).toEqual([{ TX: 8, TY: 8, TM: 4, TN: 4, BK: 4 }]);
  });
});

describe.skipIf(!gpuOk)('gpu tiled gemm through K.matmul and its gradient', () => {
  let was: 'tiled' | 'rowblock' = 'tiled';
  beforeAll(() => { was = gpuDevice().gemm.kind; gpuDevice().gemm.kind = 'tiled'; });
  afterAll(() => { gpuDevice().gemm.kind = was; });

  for (const [M, N, Kd] of [[20, 12, 28], [21, 13, 29]]) {
    it(`grad of sum(matmul) ${M}x${Kd}x${N} equals the cpu's`, async () => {
      const r = R.rng(M);
      const x = r.uniform([M, Kd], -1, 1), w = r.uniform([Kd, N], -1, 1);
      const f = (ps: Tensor[]) => K.sum(K.mul(K.matmul(ps[0], ps[1]), K.matmul(ps[0], ps[1])));
      const on = (d: 'cpu' | 'gpu') => [x, w].map((t) => K.tensor(Float32Array.from(t.data), t.shape, { device: d }));
      const gc = K.grad(f)(on('cpu')) as Tensor[];
      const gg = K.grad(f)(on('gpu')) as Tensor[];
      for (let i = 0; i < 2; i++) {
        const a = await gg[i].data(), b = gc[i].dataSync();
        expect(R.worst(a, b, 1e-4)).toBeLessThan(1e-3);
      }
      expect(gpuDevice().gemm.last.startsWith('gemm.tiled.')).toBe(true);
    });
  }
});
