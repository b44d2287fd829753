// Losing the WebGPU device (driver reset, GPU removed, or destroy()) is reported clearly,
// never as a hang: every later gpu call throws, pending readbacks reject, the cpu keeps
// working, and initGpu() opens a new device. Its own file: it destroys the device.
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import { gpuDevice, gpuOk } from './helpers/gpu.js';

describe.skipIf(!gpuOk)('gpu device loss', () => {
  it('throws clear errors after the device is lost, and initGpu() recovers', async () => {
    const x = K.tensor([1, 2, 3], undefined, { device: 'gpu' });
    const y = K.mul(x, 2);
    expect(Array.from(await y.data())).toEqual([2, 4, 6]);
    const dev = gpuDevice()!;
    const pending = K.add(y, 1).data();
    dev.ctx.device.destroy();
    await dev.ctx.device.lost;
    await expect(pending).rejects.toThrow();
    expect(() => K.mul(x, 2)).toThrow(/device was lost.*initGpu/);
    await expect(y.data()).rejects.toThrow(/device was lost/);
    expect(() => K.tensor([1], undefined, { device: 'gpu' })).toThrow(/device was lost/);
    x.dispose(); // releasing storage of a lost device is harmless
    expect(K.sum(K.tensor([1, 2])).item()).toBe(3);
    await K.initGpu();
    expect(gpuDevice()).not.toBe(dev);
    const z = K.tensor([5, 6], undefined, { device: 'gpu' });
    expect(Array.from(await K.mul(z, 2).data())).toEqual([10, 12]);
  });
});
