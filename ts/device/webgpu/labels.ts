// Label checks for pick/unpick on the gpu device.
//
// The ops expect pick to say synchronously whether a label is outside [0, r) (they throw
// naming the position), but a gpu kernel's result can only be read asynchronously. So:
//
// 1. Shadow copies. Labels almost always come from the cpu (tensor(...,{device:'gpu'}),
//    gpu(x), minibatch(..., {device: 'gpu'})), i.e. through write(). For int32 tensors up
//    to SHADOW_MAX elements, write() keeps a cpu copy attached to the storage; pick and
//    unpick validate those labels on the cpu before dispatching, exactly like the cpu
//    device, and the kernels run without surprises. A kernel that writes an int32 storage
//    (fill, copies, argmax) updates or drops its shadow.
// 2. Labels computed on the gpu (no shadow): the kernel never reads out of bounds (pick
//    gives 0, unpick scatters nothing for a bad label) and records the first bad position
//    in an error slot. The next readback (x.data(), itemAsync(), toAsync('cpu'), ...)
//    copies the used slots back with its own data and throws naming the op, the position
//    and the number of classes. The error is late but never silent.

/// <reference types="@webgpu/types" />

import type { Storage } from '../device.js';
import type { Tensor } from '../../tensor.js';
import { BufferUsage, MAP_READ, type GpuContext } from './context.js';

const SHADOW_MAX = 1 << 22;
const SLOTS = 1024;

export class LabelGuard {
  private shadows = new WeakMap<Storage, Int32Array>();
  /** The error slots the kernels write (atomicMax of 0xffffffff - first bad index). */
  readonly errors: GPUBuffer;
  /** What each slot used since the last check was for. */
  private used: { op: string; r: number; what: string }[] = [];

  constructor(private ctx: GpuContext) {
    this.errors = ctx.device.createBuffer({
      label: 'knet label errors', size: SLOTS * 4,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    });
  }

  /** write() of t: keep (or update) the cpu copy of an int32 storage. */
  remember(t: Tensor, data: Int32Array): void {
    const s = t.storage!;
    const whole = t.offset === 0 && t.size * 4 >= s.bytes;
    if (whole && t.size <= SHADOW_MAX) this.shadows.set(s, Int32Array.from(data.subarray(0, t.size)));
    else {
      const sh = this.shadows.get(s);
      if (sh) sh.set(data.subarray(0, t.size), t.offset);
    }
  }

  /** A kernel filled t with `v`: the shadow stays exact. */
  filled(t: Tensor, bits: number): void {
    const s = t.storage!;
    const whole = t.offset === 0 && t.size * 4 >= s.bytes;
    if (whole && t.size <= SHADOW_MAX) this.shadows.set(s, new Int32Array(t.size).fill(bits | 0));
    else this.shadows.get(s)?.fill(bits | 0, t.offset, t.offset + t.size);
  }

  /** A kernel wrote t's storage with values unknown to the cpu. */
  forget(t: Tensor): void { this.shadows.delete(t.storage!); }

  /** The cpu copy of t's values, or null. */
  shadow(t: Tensor): Int32Array | null {
    const sh = this.shadows.get(t.storage!);
    return sh ? sh.subarray(t.offset, t.offset + t.size) : null;
  }

  /** -1 when every label is in [0, r), the first bad position, or null when unknown (no shadow). */
  validate(labels: Tensor, r: number): number | null {
    const sh = this.shadow(labels);
    if (!sh) return null;
    for (let i = 0; i < sh.length; i++) if (sh[i] < 0 || sh[i] >= r) return i;
    return -1;
  }

  /** The error slot for a dispatch whose labels are unchecked. Slots wrap around: a
   *  report may then name a later op, but a bad label is still reported. */
  slot(op: string, r: number, what = 'label'): number {
    const i = this.used.length % SLOTS;
    if (this.used.length < SLOTS) this.used.push({ op, r, what });
    return i;
  }

  /** Records, into `enc`, a copy of the used slots for the readback in progress, and clears
   *  them; returns a check to run once that readback completes, or null when nothing ran. */
  collect(enc: GPUCommandEncoder, staging: () => GPUBuffer, release: (b: GPUBuffer) => void): (() => Promise<void>) | null {
    if (!this.used.length) return null;
    const used = this.used;
    this.used = [];
    const bytes = used.length * 4;
    const buf = staging();
    enc.copyBufferToBuffer(this.errors, 0, buf, 0, bytes);
    enc.clearBuffer(this.errors, 0, Math.ceil(bytes / 4) * 4);
    return async () => {
      await buf.mapAsync(MAP_READ, 0, bytes);
      const v = new Uint32Array(buf.getMappedRange(0, bytes).slice(0));
      buf.unmap();
      release(buf);
      for (let i = 0; i < used.length; i++) {
        if (v[i] === 0) continue;
        const at = 0xffffffff - v[i];
        const { op, r, what } = used[i];
        throw new Error(`knet ${op} (gpu): the ${what} at position ${at} is outside [0, ${r})` +
          (what === 'label' ? ` for ${r} classes; labels are 0-based int32` : '; ids are 0-based int32') +
          `. These ${what}s were computed on the gpu, so they were checked by the kernel and reported at ` +
          `this readback: the bad entries were skipped (read as 0, scattered nowhere). ${what[0].toUpperCase()}${what.slice(1)}s ` +
          `uploaded from the cpu are checked when the op runs.`);
      }
    };
  }
}
