// GPU memory of the gpu device: storage buffers pooled by size class (ts/device/pool.ts,
// the cpu device's classes), and mappable staging buffers for readback, pooled the same way.
//
// Reuse is safe without fences: a released buffer's next use is a later command on the same
// queue, which WebGPU runs after every command already recorded or submitted (uploads
// flush recorded commands first, see device.ts write). Staging buffers return to their
// pool only after unmap, so a pending mapAsync never shares one.
//
// Which free buffer a request gets: the lowest-numbered one of its size class (numbers from
// GpuContext.bufferId, in order of first use), not the last one released. A training step
// allocates and releases in the same order every time; with this rule what each op gets
// depends only on the set of free buffers, which settles after a step or two, so every
// later step binds the same buffers and reuses the cached bind groups (keyed by buffers).
// With last-released-first, the free lists' order carried over and was permuted by each
// step, so steps kept binding new combinations of the same buffers (~20 new bind groups a
// step for a small conv+LSTM model; test/gpu-pipelines.test.ts counts them).
//
// Out-of-memory: WebGPU reports a failed createBuffer asynchronously, through an error
// scope. Each creation pushes one; a failure empties the pools (so a retry has room) and
// is recorded as the device's pending error, thrown at the next readback.

/// <reference types="@webgpu/types" />

import { FreeLists, sizeClass } from '../pool.js';
import { BufferUsage, type GpuContext } from './context.js';

export class BufferPool {
  private free: FreeLists<GPUBuffer>;
  private staging = new FreeLists<GPUBuffer>();
  private scopes = new Set<Promise<void>>();
  live = 0;
  count = 0;

  constructor(private ctx: GpuContext) {
    this.free = new FreeLists<GPUBuffer>((b) => ctx.bufferId(b)); // lowest id first
  }

  get pooled(): number { return this.free.pooled; }

  /** The block size used for `bytes` (a size class, within the binding limit). */
  blockSize(bytes: number): number {
    const cls = sizeClass(Math.max(bytes, 4));
    if (cls <= this.ctx.maxBinding) return cls;
    return Math.ceil(bytes / 16) * 16;
  }

  alloc(bytes: number): GPUBuffer {
    const size = this.blockSize(bytes);
    if (size > this.ctx.maxBinding) {
      throw new Error(`knet gpu: a tensor of ${bytes} bytes is larger than this adapter lets one ` +
        `kernel bind (maxStorageBufferBindingSize = ${this.ctx.maxBinding} bytes). Split it ` +
        `(e.g. into minibatches) or keep it on the cpu.`);
    }
    const b = this.free.take(size) ??
      this.create(size, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST, 'knet tensor');
    this.live += size;
    this.count++;
    return b;
  }

  release(b: GPUBuffer, bytes: number): void {
    const size = this.blockSize(bytes);
    this.live -= size;
    this.count--;
    this.free.put(size, b);
  }

  takeStaging(bytes: number): GPUBuffer {
    const size = sizeClass(Math.max(bytes, 4));
    return this.staging.take(size) ??
      this.create(size, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'knet readback');
  }

  putStaging(b: GPUBuffer): void { this.staging.put(b.size, b); }

  private create(size: number, usage: number, label: string): GPUBuffer {
    const dev = this.ctx.device;
    this.ctx.check();
    dev.pushErrorScope('out-of-memory');
    const b = dev.createBuffer({ size, usage, label });
    const p: Promise<void> = dev.popErrorScope().then((e) => {
      if (!e) return;
      const live = this.live, pooled = this.free.pooled;
      this.trim();
      this.ctx.fail(new Error(`knet gpu: out of GPU memory: a ${size}-byte buffer could not be made ` +
        `(${live} bytes live in tensors, ${pooled} pooled, now released). Dispose tensors you no ` +
        `longer need (tidy(), dispose()), use smaller batches, or keep some data on the cpu. ` +
        `(WebGPU: ${e.message})`));
    }, () => { /* device lost: reported by the lost handler */ }).finally(() => { this.scopes.delete(p); });
    this.scopes.add(p);
    return b;
  }

  /** Resolves when every pending out-of-memory check has come back. */
  async settled(): Promise<void> {
    while (this.scopes.size) await Promise.all([...this.scopes]);
  }

  /** Destroys the pooled (free) buffers; live tensors keep theirs. */
  trim(): void {
    const drop = (b: GPUBuffer) => { this.ctx.forget(b); b.destroy(); };
    this.free.drain(drop);
    this.staging.drain(drop);
  }
}
