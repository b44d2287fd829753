// Device registry: the cpu device always; others (gpu) register themselves when ready.

import type { Device, DeviceName } from './device.js';
import { cpuDevice } from './cpu.js';

const registry = new Map<DeviceName, Device>([['cpu', cpuDevice]]);
let fallback: DeviceName = 'cpu';

export function registerDevice(d: Device): void { registry.set(d.name, d); }

export function getDevice(d: DeviceName | Device | undefined): Device {
  if (d === undefined) return registry.get(fallback) ?? cpuDevice;
  if (typeof d !== 'string') return d;
  const dev = registry.get(d);
  if (!dev) {
    throw new Error(`knet: device '${d}' is not available` +
      (d === 'gpu' ? '; call `await initGpu()` first (it needs WebGPU)' : `; known devices: ${[...registry.keys()].join(', ')}`));
  }
  return dev;
}

export function devices(): DeviceName[] { return [...registry.keys()]; }

/** The device that tensor(), zeros(), randn(), ... use when none is given. */
export function defaultDevice(): DeviceName { return registry.has(fallback) ? fallback : 'cpu'; }

/** Sets the device new tensors land on when none is given ('gpu' needs initGpu() first). */
export function setDefaultDevice(d: DeviceName): void {
  getDevice(d); // throws a clear error for a device that is not there
  fallback = d;
}

export { cpuDevice };
