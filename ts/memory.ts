// memory(): bytes live and pooled on every device, for leak checks and curiosity.

import type { DeviceName, MemoryInfo } from './device/device.js';
import { devices, getDevice } from './device/index.js';

export function memory(): Partial<Record<DeviceName, MemoryInfo>> {
  const out: Partial<Record<DeviceName, MemoryInfo>> = {};
  for (const d of devices()) out[d] = getDevice(d).memory();
  return out;
}
