// The gpu device's command recorder: every kernel launch goes through `dispatch`, which
// records it into one open compute pass without waiting for anything. Work is submitted
// in batches: when a readback or an upload needs the queue, when a batch reaches
// MAX_BATCH dispatches, when the uniform arena is full, or at the end of the current
// JavaScript task (a microtask), so the GPU starts while JavaScript goes on.
//
// Uniforms: each dispatch gets its own slice of a CPU-side arena (a per-submit bump
// allocator), bound with a dynamic offset. At submit the arena is written to the uniform
// buffer with queue.writeBuffer, which the queue orders before the submitted commands and
// after every earlier submit, so no slice is ever rewritten while a dispatch that reads it
// is pending. (Writing each dispatch's uniforms with its own writeBuffer would be wrong:
// the write would land before dispatches still waiting in the encoder.)
//
// Also here: the bind-group layout per binding signature, pipelines cached by module and
// override constants, bind groups cached by buffers (pooled buffers make training steps
// repeat the same combinations), and the sticky error reported at the next readback.

/// <reference types="@webgpu/types" />

export const BufferUsage = {
  MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080,
} as const;
const SHADER_STAGE_COMPUTE = 0x4;
export const MAP_READ = 0x1;

/** Dispatches per submit: enough to amortise a submit, few enough to start the GPU early. */
const MAX_BATCH = 256;
/** Bytes of one uniform binding: the largest params struct (elementwise `binary`) is 128. */
const UNIFORM_BINDING = 128;
const ARENA_BYTES = 1 << 18;

/** A compiled kernel: its pipeline and the binding signature its bind groups follow. */
export interface Kernel {
  pipeline: GPUComputePipeline;
  /** One letter per storage binding 1..n: 'r' read-only, 'w' read-write. */
  sig: string;
  layout: GPUBindGroupLayout;
}

export class GpuContext {
  readonly device: GPUDevice;
  readonly queue: GPUQueue;
  /** Threads per workgroup for the 1-D kernels: a power of two within the adapter's limit. */
  readonly wg: number;
  readonly maxGroups: number;
  readonly maxBinding: number;
  /** Typed views of the uniform arena; kernels fill their slice, starting at the word `slot()` gives. */
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f32: Float32Array;

  private readonly arena: ArrayBuffer;
  private readonly align: number;
  private readonly uniforms: GPUBuffer;
  private used = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private flushQueued = false;

  private layouts = new Map<string, GPUBindGroupLayout>();
  private pipelineLayouts = new Map<string, GPUPipelineLayout>();
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, Kernel>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;

  /** Why the device is unusable (lost), or null. */
  lost: string | null = null;
  /** The first asynchronous error (validation, out of memory) not yet reported. */
  error: Error | null = null;
  /**
   * Counts so far, for tests and benchmarks: dispatches recorded, submits, and the objects
   * the caches create (pipelines, shader modules, bind groups), which a steady training
   * loop should stop creating after its first step.
   */
  stats = { dispatches: 0, submits: 0, pipelines: 0, modules: 0, bindGroups: 0 };

  constructor(device: GPUDevice) {
    this.device = device;
    this.queue = device.queue;
    const lim = device.limits;
    let wg = 1;
    while (wg * 2 <= Math.min(256, lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX)) wg *= 2;
    this.wg = wg;
    this.maxGroups = lim.maxComputeWorkgroupsPerDimension;
    this.maxBinding = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    this.align = Math.max(16, lim.minUniformBufferOffsetAlignment);
    this.arena = new ArrayBuffer(ARENA_BYTES);
    this.u32 = new Uint32Array(this.arena);
    this.i32 = new Int32Array(this.arena);
    this.f32 = new Float32Array(this.arena);
    this.uniforms = device.createBuffer({
      label: 'knet uniforms', size: ARENA_BYTES + UNIFORM_BINDING,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
  }

  /** Throws when the device is gone; called before recording anything. */
  check(): void {
    if (this.lost) {
      throw new Error(`knet gpu: the WebGPU device was lost (${this.lost}); gpu tensors are gone. ` +
        `Call \`await initGpu()\` again for a new device, or keep working on the cpu.`);
    }
  }

  /** Records an asynchronous error to report at the next readback (the first one wins). */
  fail(e: Error): void { this.error ??= e; }

  /** Throws (once) the error recorded since the last readback. */
  throwPending(): void {
    const e = this.error;
    if (e) { this.error = null; throw e; }
  }

  bufferId(b: GPUBuffer): number {
    let id = this.ids.get(b);
    if (id === undefined) this.ids.set(b, (id = this.nextId++));
    return id;
  }

  /** Reserves a uniform slice of `words` 32-bit words; returns its first word index. */
  slot(words: number): number {
    const bytes = Math.ceil((words * 4) / this.align) * this.align;
    if (this.used + bytes > ARENA_BYTES) this.flush();
    const at = this.used;
    this.used += bytes;
    // zero it: structs have padding the shaders never read, but stale words confuse debugging
    this.u32.fill(0, at / 4, at / 4 + words);
    return at / 4;
  }

  private layout(sig: string): GPUBindGroupLayout {
    let l = this.layouts.get(sig);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [{
        binding: 0, visibility: SHADER_STAGE_COMPUTE,
        buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: 0 },
      }];
      [...sig].forEach((c, i) => entries.push({
        binding: i + 1, visibility: SHADER_STAGE_COMPUTE,
        buffer: { type: c === 'r' ? 'read-only-storage' : 'storage' },
      }));
      l = this.device.createBindGroupLayout({ label: `knet ${sig}`, entries });
      this.layouts.set(sig, l);
      this.pipelineLayouts.set(sig, this.device.createPipelineLayout({ bindGroupLayouts: [l] }));
    }
    return l;
  }

  /** A pipeline for `code` (one module per distinct text) with override constants; cached. */
  kernel(name: string, code: string, sig: string, constants: Record<string, number> = {}): Kernel {
    const key = `${name}|${sig}|${JSON.stringify(constants)}`;
    let k = this.pipelines.get(key);
    if (k) return k;
    this.check();
    let module = this.modules.get(code);
    if (!module) {
      module = this.device.createShaderModule({ label: `knet ${name}`, code });
      this.modules.set(code, module);
      this.stats.modules++;
      // Compilation errors arrive asynchronously; they are our bugs, reported with the source line.
      module.getCompilationInfo?.().then((info) => {
        const errs = info.messages.filter((m) => m.type === 'error');
        if (errs.length) {
          this.fail(new Error(`knet gpu: shader ${name} failed to compile: ` +
            errs.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')));
        }
      }, () => {});
    }
    const layout = this.layout(sig);
    const pipeline = this.device.createComputePipeline({
      label: `knet ${name}`,
      layout: this.pipelineLayouts.get(sig)!,
      compute: { module, entryPoint: 'main', constants },
    });
    k = { pipeline, sig, layout };
    this.pipelines.set(key, k);
    this.stats.pipelines++;
    return k;
  }

  private bindGroup(k: Kernel, buffers: readonly GPUBuffer[]): GPUBindGroup {
    let key = k.sig;
    for (const b of buffers) key += ':' + this.bufferId(b);
    let bg = this.bindGroups.get(key);
    if (!bg) {
      // Pools make the set of live buffers bounded, but guard against unbounded growth anyway.
      if (this.bindGroups.size > 8192) this.bindGroups.clear();
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniforms, size: UNIFORM_BINDING } }];
      buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: b } }));
      bg = this.device.createBindGroup({ layout: k.layout, entries });
      this.bindGroups.set(key, bg);
      this.stats.bindGroups++;
    }
    return bg;
  }

  /** Forgets cached bind groups that use a buffer about to be destroyed. */
  forget(b: GPUBuffer): void {
    const id = String(this.ids.get(b));
    for (const key of [...this.bindGroups.keys()]) {
      if (key.split(':').includes(id)) this.bindGroups.delete(key);
    }
  }

  /** Work groups for n threads of `wg` each, as a 2-D grid within the per-dimension limit. */
  grid(n: number, wg = this.wg): [number, number] {
    const groups = Math.max(1, Math.ceil(n / wg));
    if (groups <= this.maxGroups) return [groups, 1];
    const y = Math.ceil(groups / this.maxGroups);
    return [Math.ceil(groups / y), y];
  }

  /** Records one dispatch of `k` over `buffers` (bindings 1..n) with the uniform slice at word `slot`. */
  dispatch(k: Kernel, buffers: readonly GPUBuffer[], slot: number, x: number, y = 1, z = 1): void {
    this.check();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'knet' });
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, this.bindGroup(k, buffers), [slot * 4]);
    this.pass.dispatchWorkgroups(x, y, z);
    this.stats.dispatches++;
    if (++this.pending >= MAX_BATCH) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => { this.flushQueued = false; if (!this.lost) this.flush(); });
    }
  }

  /** The open encoder with no pass open, for copies ordered after the recorded dispatches. */
  copyEncoder(): GPUCommandEncoder {
    this.check();
    if (this.pass) { this.pass.end(); this.pass = null; }
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'knet' });
    this.pending++;
    return this.encoder;
  }

  /** True when commands are recorded but not submitted. */
  get dirty(): boolean { return this.encoder !== null; }

  /** Submits everything recorded so far, uniforms first. */
  flush(): void {
    if (!this.encoder) { this.used = 0; return; }
    if (this.pass) { this.pass.end(); this.pass = null; }
    if (this.used) this.queue.writeBuffer(this.uniforms, 0, this.arena, 0, this.used);
    const cb = this.encoder.finish();
    this.encoder = null;
    this.pending = 0;
    this.used = 0;
    this.queue.submit([cb]);
    this.stats.submits++;
  }
}
