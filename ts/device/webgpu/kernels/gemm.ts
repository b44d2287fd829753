// The gemm kernels of the gpu device (shaders/gemm.wgsl), one pipeline per transpose form
// and shape class.
//
// Which kernel: 'tiled' (workgroup-memory tiles) on GPUs; 'rowblock' (register blocks, no
// workgroup memory, broadcast loads) on adapters that run on a CPU, which the adapter's
// info names (lavapipe/llvmpipe, SwiftShader, WARP) or which say they are a fallback
// adapter. The reasons are in the shader's header. Measured on lavapipe (bench/RESULTS.md):
// the rowblock kernel is several times faster there.
//
// Tile sizes come from the adapter's limits: the tiled kernel uses a 16 x 16 workgroup with
// a 4 x 4 block per thread (64 x 64 tiles, 8 KiB of workgroup memory: within WebGPU's
// minimum limits), smaller where the adapter allows fewer invocations or less memory.
// Every tile side stays a multiple of 4 (TM = TN = 4, BK >= 4), as the vec4 loads need.
//
// Vectorised loads: the tiled kernel reads an operand's tiles as vec4<f32> (a second
// binding of the same buffer as array<vec4<f32>>) when `vec4Loads` allows it, else as
// f32. A and B are decided separately: four shader modules (a1b1, a1b4, a4b1, a4b4), each
// specialised to the four transpose forms by override constants, so up to 16 pipelines,
// built when first used.

/// <reference types="@webgpu/types" />

import type { Tensor } from '../../../tensor.js';
import type { GpuContext, Kernel } from '../context.js';
import type { ShaderSources } from '../shaders.js';

export type GemmKind = 'tiled' | 'rowblock';
export interface GemmTile { TX: number; TY: number; TM: number; TN: number; BK: number }

export function chooseTile(limits: GPUSupportedLimits): GemmTile {
  const inv = limits.maxComputeInvocationsPerWorkgroup;
  const shared = limits.maxComputeWorkgroupStorageSize;
  let t = 16;
  while (t * t > inv || t > limits.maxComputeWorkgroupSizeY) t /= 2;
  const tile: GemmTile = { TX: t, TY: t, TM: 4, TN: 4, BK: 16 };
  while ((tile.TX * tile.TN + tile.TY * tile.TM) * tile.BK * 4 > shared && tile.BK > 4) tile.BK /= 2;
  return tile;
}

/**
 * Which operands the tiled kernel may read as vec4<f32>: those whose contiguous axis (K
 * for A, M for A^T, N for B, K for B^T; here also the row stride) and offset in elements
 * are multiples of 4. Then every vec4 the kernel reads is 16-byte aligned, and, since the
 * tiles start at multiples of 4, lies wholly inside the operand or wholly past its edge.
 */
export function vec4Loads(transA: boolean, transB: boolean, M: number, N: number, K: number,
                          aOffset: number, bOffset: number): { a: boolean; b: boolean } {
  const lda = transA ? M : K, ldb = transB ? K : N;
  return { a: lda % 4 === 0 && aOffset % 4 === 0, b: ldb % 4 === 0 && bOffset % 4 === 0 };
}

/** True for adapters that run on a CPU, from what they say about themselves. */
export function isCpuAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter) return true;
  const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
  return /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|warp/i.test(text);
}

/** Rows and columns of C per thread in the rowblock kernel: 64 accumulators. */
const RM = 8, RN = 8;

/** The straight-line parts of the rowblock kernel for an RM x RN register block. */
function rowblockCode(src: string): string {
  const setup: string[] = [], step: string[] = [], store: string[] = [];
  for (let c = 0; c < RN; c++) setup.push(`let col${c} = min(n0 + lid.x + ${c}u * TX, p.N - 1u);`);
  for (let r = 0; r < RM; r++) setup.push(`let row${r} = min(m0 + ${r}u, p.M - 1u);`);
  for (let r = 0; r < RM; r++) for (let c = 0; c < RN; c++) setup.push(`var acc${r}_${c} = 0.0;`);
  for (let c = 0; c < RN; c++) {
    step.push(`let b${c} = select(B[p.bo + k * p.ldb + col${c}], B[p.bo + col${c} * p.ldb + k], TB);`);
  }
  for (let r = 0; r < RM; r++) {
    step.push(`let a${r} = select(A[p.ao + row${r} * p.lda + k], A[p.ao + k * p.lda + row${r}], TA);`);
    for (let c = 0; c < RN; c++) step.push(`acc${r}_${c} = fma(a${r}, b${c}, acc${r}_${c});`);
  }
  for (let r = 0; r < RM; r++) {
    store.push(`if (m0 + ${r}u < p.M) {`);
    for (let c = 0; c < RN; c++) {
      store.push(`  if (n0 + lid.x + ${c}u * TX < p.N) { let at = p.co + (m0 + ${r}u) * p.ldc + n0 + lid.x + ${c}u * TX; ` +
        `var v = p.alpha * acc${r}_${c}; if (p.beta != 0.0) { v += p.beta * C[at]; } C[at] = v; }`);
    }
    store.push('}');
  }
  const indent = (l: string[], n: number) => l.join('\n' + ' '.repeat(n));
  return src.replace(/\bRM\b/g, `${RM}u`).replace(/\bRN\b/g, `${RN}u`)
    .replace('ROWBLOCK_SETUP\n', indent(setup, 2) + '\n')
    .replace('ROWBLOCK_STEP\n', indent(step, 4) + '\n')
    .replace('ROWBLOCK_STORE\n', indent(store, 2) + '\n');
}

export class GemmKernels {
  private cache = new Map<string, Kernel>();
  private rowblockSrc: string | null = null;
  /** The name of the pipeline the last matmul ran (e.g. 'gemm.tiled.NT.a4b1'), for tests. */
  last = '';
  constructor(private ctx: GpuContext, private src: ShaderSources, readonly tile: GemmTile, public kind: GemmKind) {}

  private kernel(kind: GemmKind, ta: boolean, tb: boolean, tx: number, va: boolean, vb: boolean): Kernel {
    const form = `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;
    const name = kind === 'tiled' ? `gemm.tiled.${form}.a${va ? 4 : 1}b${vb ? 4 : 1}` : `gemm.rowblock.${form}`;
    const key = kind === 'tiled' ? name : `${name}.${tx}`;
    this.last = name;
    let k = this.cache.get(key);
    if (!k) {
      if (kind === 'tiled') {
        const t = this.tile;
        const code = this.src.get('gemm', 'tiled', { TILE_A: va ? 'tileA4' : 'tileA1', TILE_B: vb ? 'tileB4' : 'tileB1' });
        k = this.ctx.kernel(name, code, 'rrw', { TA: +ta, TB: +tb, TX: t.TX, TY: t.TY, TM: t.TM, TN: t.TN, BK: t.BK });
      } else {
        this.rowblockSrc ??= rowblockCode(this.src.get('gemm', 'rowblock'));
        k = this.ctx.kernel(name, this.rowblockSrc, 'rrw', { TA: +ta, TB: +tb, TX: tx });
      }
      this.cache.set(key, k);
    }
    return k;
  }

  matmul(transA: boolean, transB: boolean, a: Tensor, b: Tensor, out: Tensor,
         M: number, N: number, K: number, alpha: number, beta: number): void {
    const c = this.ctx, t = this.tile;
    // Narrow products use narrower rowblock workgroups, so fewer lanes idle at the edge.
    const tx = Math.min(N <= 16 * RN ? 16 : 32, c.device.limits.maxComputeInvocationsPerWorkgroup);
    const v = this.kind === 'tiled' ? vec4Loads(transA, transB, M, N, K, a.offset, b.offset) : { a: false, b: false };
    const k = this.kernel(this.kind, transA, transB, tx, v.a, v.b);
    const s = c.slot(12);
    c.u32[s] = M; c.u32[s + 1] = N; c.u32[s + 2] = K;
    c.u32[s + 3] = transA ? M : K; c.u32[s + 4] = transB ? K : N; c.u32[s + 5] = N;
    c.u32[s + 6] = a.offset; c.u32[s + 7] = b.offset; c.u32[s + 8] = out.offset;
    c.f32[s + 10] = alpha; c.f32[s + 11] = beta;
    const [gx, gy] = this.kind === 'tiled'
      ? [Math.ceil(N / (t.TX * t.TN)), Math.ceil(M / (t.TY * t.TM))]
      : [Math.ceil(N / (tx * RN)), Math.ceil(M / RM)];
    if (gx > c.maxGroups || gy > c.maxGroups) {
      throw new Error(`knet gpu matmul: ${M}x${N} needs ${gx}x${gy} workgroups, more than this adapter's ${c.maxGroups} per dimension`);
    }
    c.dispatch(k, [a.storage!.handle, b.storage!.handle, out.storage!.handle], s, gx, gy);
  }
}
