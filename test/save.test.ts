// save/load in the safetensors format: round trips, optimizer state, Python's safetensors
// in both directions, and bad files.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'knet-save-'));
const bits = (t: Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).buffer));

function pythonHasSafetensors(): boolean {
  try { execFileSync('python3', ['-c', 'import safetensors, numpy'], { stdio: 'ignore' }); return true; } catch { return false; }
}
const havePython = pythonHasSafetensors();
if (!havePython) console.log('[python safetensors check skipped] python3 cannot import safetensors (pip install safetensors numpy)');

describe('save and load', () => {
  it('round-trips a nested structure bit-exactly, by name, with metadata', async () => {
    const nan = new Float32Array(new Uint32Array([0x7fc00001, 0xffc00000]).buffer);
    const params = { w: [K.tensor([[1, -0, 2.5], [nan[0], nan[1], 3e-39]]), K.zeros(3, 1)], layers: [{ b: K.ones(4) }], ids: K.tensor(Int32Array.of(-5, 2147483647), [2]) };
    const file = join(tmp, 'p.safetensors');
    const bytes = await K.save(file, params, { note: 'hello' });
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    const { params: p, metadata } = await K.load(file);
    expect(metadata).toEqual({ note: 'hello' });
    expect(Array.isArray(p.w)).toBe(true);
    expect(bits(p.w[0])).toEqual(bits(params.w[0]));
    expect(p.w[1].shape).toEqual([3, 1]);
    expect(p.layers[0].b.toArray()).toEqual([1, 1, 1, 1]);
    expect(p.ids.dtype).toBe('int32');
    expect(Array.from(p.ids.dataSync())).toEqual([-5, 2147483647]);
    const again = await K.load(bytes.buffer.slice(0));
    expect(bits(again.params.w[0])).toEqual(bits(params.w[0]));
  });

  it('saves optimizer state so training resumes exactly', async () => {
    const make = () => [K.tensor([[0.5, -1], [2, 0.25]]), K.tensor([[0.1], [-0.2]])];
    const x = K.tensor([[1, 2, 3], [-1, 0.5, 2]]), y = K.tensor(Int32Array.of(0, 1, 1), [3]);
    const lg = K.grad((w: Tensor[]) => K.nll(K.add(K.matmul(w[0], x), w[1]), y));
    const w1 = make(), o1 = K.optimizers(w1, K.Adam, { lr: 0.05 });
    for (let i = 0; i < 6; i++) K.update(w1, lg(w1), o1);
    const w2 = make(), o2 = K.optimizers(w2, K.Adam, { lr: 0.05 });
    for (let i = 0; i < 3; i++) K.update(w2, lg(w2), o2);
    const file = join(tmp, 'ckpt.safetensors');
    await K.save(file, { w: w2, opt: K.optimizerState(o2) });
    const { params } = await K.load(file);
    const o3 = K.optimizers(params.w, K.Adam, { lr: 0.05 });
    await K.restoreOptimizerState(o3, params.opt);
    expect((o3[0] as any).t).toBe(3);
    for (let i = 0; i < 3; i++) K.update(params.w, lg(params.w), o3);
    expect(bits(params.w[0])).toEqual(bits(w1[0]));
    expect(bits(params.w[1])).toEqual(bits(w1[1]));
  });

  it('reads a file written by Python\'s safetensors (checked-in fixture)', async () => {
    const { params, metadata } = await K.load('test/fixtures/python.safetensors');
    expect(metadata).toEqual({ written_by: 'python safetensors' });
    expect(params.w[0].toArray()[1]).toEqual([0, 0.125, 0.25, 0.375]);
    expect(params.w[1].toArray()).toEqual([[1.5], [-2.25], [Math.fround(1e-30)]]);
    const b = params.layers[0].b.dataSync();
    expect([b[0], b[1], Object.is(b[2], -0), b[3]]).toEqual([Infinity, -Infinity, true, Math.fround(3.4028235e38)]);
    expect(Array.from(params.labels.dataSync())).toEqual([0, -1, 2147483647, -2147483648, 7]);
  });

  it.skipIf(!havePython)('writes files that Python\'s safetensors reads', async () => {
    const file = join(tmp, 'for-python.safetensors');
    await K.save(file, { a: [K.tensor([[1.5, -2], [0, 3]])], n: K.tensor(Int32Array.of(4, -4), [2]) }, { by: 'knet' });
    const r = JSON.parse(execFileSync('python3', ['test/fixtures/read_knet_safetensors.py', file], { encoding: 'utf8' }));
    expect(r.__metadata__).toEqual({ by: 'knet' });
    expect(r['a.0']).toEqual({ dtype: 'float32', shape: [2, 2], values: ['1.5', '-2.0', '0.0', '3.0'] });
    expect(r.n).toEqual({ dtype: 'int32', shape: [2], values: ['4', '-4'] });
  });

  it('rejects corrupt and truncated files with a clear error, never reading out of bounds', async () => {
    const good = await K.save(join(tmp, 'g.safetensors'), { w: K.ones(2, 2) });
    const variants: [string, Uint8Array, RegExp][] = [
      ['short', good.slice(0, 5), /shorter than the 8-byte header length/],
      ['truncated data', good.slice(0, good.length - 4), /do not fit/],
      ['header claims too much', (() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /the header claims \d+ bytes, but only \d+ follow/],
      ['not json', (() => { const b = good.slice(); b[8] = 0x7b; b[9] = 0x7b; return b; })(), /the header is not JSON/],
    ];
    for (const [name, bytes, re] of variants) {
      const file = join(tmp, `${name}.safetensors`);
      writeFileSync(file, bytes);
      await expect(K.load(file), name).rejects.toThrow(re);
    }
    await expect(K.load(join(tmp, 'missing.safetensors'))).rejects.toThrow(/knet loadParams: cannot read/);
  });
});
