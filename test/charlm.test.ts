// The character language model (examples/charlm.ts): a small model overfits a short
// repeated text; generation is reproducible under a seed; parameters survive a
// safetensors round trip bit for bit; bad texts and files give clear errors. The example
// also runs as users run it, in a child process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as K from '../ts/index.js';
import type { Tensor } from '../ts/index.js';
import { disposeState, encode, generate, initModel, loss, type State, vocabulary, windows } from '../examples/charlm.js';

const dir = mkdtempSync(join(tmpdir(), 'knet-charlm-'));
const TEXT = 'the quick brown fox jumps over the lazy dog. ';

function train(text: string, epochs: number, B: number, T: number): { losses: number[]; model: ReturnType<typeof initModel>; vocab: string[] } {
  const vocab = vocabulary(text);
  const ws = windows(encode(text, vocab), B, T);
  const model = initModel(vocab.length, 16, 48, 1);
  const opts = K.optimizers(model, K.Adam, { lr: 0.02, gclip: 5 });
  const lossgrad = K.gradloss(loss);
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let state: State | null = null, total = 0;
    for (const w of ws) {
      const x = K.tensor(w.x, [T, B], { dtype: 'int32' }), y = K.tensor(w.y, [T * B], { dtype: 'int32' });
      const out: { state?: State } = {};
      const [g, l] = lossgrad(model, x, y, state, out);
      K.update(model, g, opts);
      disposeState(state);
      state = { h: out.state!.h.map((t) => K.copy(t)), c: out.state!.c.map((t) => K.copy(t)) };
      disposeState(out.state);
      total += l.item();
      l.dispose(); x.dispose(); y.dispose();
    }
    disposeState(state);
    losses.push(total / ws.length);
  }
  return { losses, model, vocab };
}

describe('charlm', () => {
  let before = 0;
  let losses: number[], model: ReturnType<typeof initModel>, vocab: string[];
  beforeAll(() => {
    K.setSeed(1);
    before = K.memory().cpu!.live;
    ({ losses, model, vocab } = train(TEXT.repeat(40), 6, 4, 25));
  });

  it('a small model overfits a short repeated text', () => {
    expect(losses[0]).toBeGreaterThan(1.5);
    expect(losses[losses.length - 1]).toBeLessThan(0.05);
    // flat memory: only the model and its optimizer state stay
    const params = [model.embed, ...model.rnn.flatMap((l) => [l.w, l.b]), model.out.w, model.out.b];
    const bytes = params.reduce((a, t) => a + t.size * 4, 0);
    expect(K.memory().cpu!.live - before).toBeLessThan(4 * bytes);
  });

  it('generates the text it learned, reproducibly under a seed', () => {
    const draw = (seed: number) => { K.setSeed(seed); return K.tidy(() => K.rand([90]).dataSync()); };
    const a = generate(model, vocab, 90, draw(5), 't');
    expect(a).toBe(generate(model, vocab, 90, draw(5), 't'));
    expect(a.startsWith('he quick brown fox jumps over the lazy dog. the quick')).toBe(true);
    // the draws decide: all-high draws pick the last character of some cumulative mass
    expect(generate(model, vocab, 5, [0.9999999, 0.9999999, 0.9999999, 0.9999999, 0.9999999], 't')).not.toBe(a.slice(0, 5));
  });

  it('texts too short for one window, and characters outside the vocabulary', () => {
    expect(() => windows(encode('abc', ['a', 'b', 'c']), 4, 10)).toThrow(
      /charlm: the text has 3 characters, too few for one window: batch 4 x \(seqlen 10 \+ 1\) = 44 are needed/);
    expect(() => windows(new Int32Array(0), 1, 1)).toThrow(/the text has 0 characters/);
    expect(() => encode('abz', ['a', 'b'])).toThrow(/charlm: character "z" at position 2 is not in the model's vocabulary/);
    expect(windows(Int32Array.from({ length: 44 }, (_, i) => i), 4, 10)).toHaveLength(1);
  });
});

describe('saveParams / loadParams (safetensors)', () => {
  const special = new Float32Array([0, -0, 1.5, -Infinity, Infinity, NaN, 1e-45, 3.4028235e38, Math.fround(Math.PI)]);
  // a NaN with payload bits, which a numeric round trip could change
  new Uint32Array(special.buffer)[5] = 0x7fc12345;
  const params = {
    embed: K.tensor(special, [3, 3]),
    layers: [{ w: K.randn(2, 5), b: K.zeros(1, 5) }, { w: K.randn(5, 1), b: K.ones(1) }],
    ids: K.tensor(Int32Array.of(-1, 0, 2147483647, -2147483648), [2, 2]),
    scalar: K.tensor(2.5),
  };
  const bits = (t: Tensor) => Array.from(new Uint32Array(new Float32Array(t.dataSync() as any).buffer));

  it('round-trips bit for bit, structure and metadata included', async () => {
    const file = join(dir, 'p.safetensors');
    await K.saveParams(file, params, { vocab: '["a","b"]' });
    const { params: q, metadata } = await K.loadParams(file);
    expect(metadata).toEqual({ vocab: '["a","b"]' });
    expect(Object.keys(q)).toEqual(['embed', 'layers', 'ids', 'scalar']);
    expect(Array.isArray(q.layers)).toBe(true);
    const a = [params.embed, params.layers[0].w, params.layers[0].b, params.layers[1].w, params.layers[1].b, params.scalar];
    const b = [q.embed, q.layers[0].w, q.layers[0].b, q.layers[1].w, q.layers[1].b, q.scalar];
    a.forEach((t, i) => { expect([...b[i].shape]).toEqual([...t.shape]); expect(bits(b[i])).toEqual(bits(t)); });
    expect(q.ids.dtype).toBe('int32');
    expect(q.ids.toArray()).toEqual([[-1, 0], [2147483647, -2147483648]]);
  });

  it('writes the safetensors layout: u64 header length, padded JSON, raw little-endian data', async () => {
    const bytes = await K.encodeSafetensors({ w: [K.tensor([1, 2]), K.tensor(Int32Array.of(7), [1, 1])] }, { m: 'x' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header).toEqual({
      __metadata__: { m: 'x' },
      'w.0': { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      'w.1': { dtype: 'I32', shape: [1, 1], data_offsets: [8, 12] },
    });
    expect(bytes.length).toBe(8 + n + 12);
    expect(Array.from(new Float32Array(bytes.slice(8 + n, 8 + n + 8).buffer))).toEqual([1, 2]);
    expect(new DataView(bytes.buffer).getInt32(8 + n + 8, true)).toBe(7);
  });

  it('clear errors for files that are not safetensors, and for what cannot be saved', async () => {
    const dec = (b: Uint8Array) => () => K.decodeSafetensors(b, { name: 'f.safetensors' });
    expect(dec(new Uint8Array(4))).toThrow(/knet loadParams: f.safetensors is not a valid safetensors file: 4 bytes/);
    const good = await K.encodeSafetensors({ w: K.ones(4) });
    expect(dec(good.slice(0, good.length - 4))).toThrow(/'w' has shape \[4\] and data_offsets \[0,16\], which do not fit 12 bytes of data/);
    const big = good.slice(); new DataView(big.buffer).setBigUint64(0, 1000n, true);
    expect(dec(big)).toThrow(/the header claims 1000 bytes/);
    const f16 = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }) + '  ');
    const file = new Uint8Array(8 + f16.length + 2); new DataView(file.buffer).setBigUint64(0, BigInt(f16.length), true); file.set(f16, 8);
    expect(dec(file)).toThrow(/'w' has dtype "F16"; knet reads F32 and I32/);
    await expect(K.loadParams(join(dir, 'missing.safetensors'))).rejects.toThrow(/knet loadParams: cannot read .*missing.safetensors/);
    await expect(K.encodeSafetensors({ 'a.b': K.ones(1) })).rejects.toThrow(/the key 'a.b' at '' cannot be stored/);
    await expect(K.encodeSafetensors({ lr: 0.1 })).rejects.toThrow(/'lr' holds number; only tensors/);
  });
});

describe('examples/charlm.ts, as users run it', () => {
  const run = (...args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', 'examples/charlm.ts', ...args], { encoding: 'utf8', timeout: 120_000, stdio: 'pipe' });
  const fail = (...args: string[]) => {
    try { run(...args); } catch (e: any) { return String(e.stderr); }
    throw new Error('expected the example to fail');
  };
  const textFile = join(dir, 'short.txt');
  writeFileSync(textFile, TEXT.repeat(30));
  const model = join(dir, 'model.safetensors');

  it('trains, saves, loads and generates the same text for the same seed', () => {
    const out = run('--text', textFile, '--epochs', '4', '--batch', '4', '--seqlen', '20', '--embed', '16', '--hidden', '32',
      '--lr', '0.02', '--save', model);
    const losses = [...out.matchAll(/epoch \d: loss (\d+\.\d+) per char/g)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(4);
    expect(losses[3]).toBeLessThan(losses[0] / 3);
    expect(out).toMatch(/chars\/s/);
    expect(out).toMatch(/saved /);
    const gen = (seed: string) => run('--load', model, '--generate', '120', '--seed', seed).split('\n').slice(1).join('\n');
    const a = gen('3');
    expect(a.length).toBeGreaterThanOrEqual(120);
    expect(gen('3')).toBe(a);
    expect([...a.trim()].every((ch) => TEXT.includes(ch))).toBe(true);
    const saved = K.decodeSafetensors(new Uint8Array(readFileSync(model)));
    expect(saved.metadata.vocab).toBe(JSON.stringify(vocabulary(TEXT)));
    expect(Object.keys(saved.params)).toEqual(['embed', 'rnn', 'out']);
  });

  it('empty and too-short texts, and an unavailable device, are clear errors', () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    expect(fail('--text', empty)).toMatch(/charlm: the text '.*empty.txt' is empty/);
    const tiny = join(dir, 'tiny.txt');
    writeFileSync(tiny, 'to be or not to be');
    expect(fail('--text', tiny)).toMatch(/the text has 18 characters, too few for one window: batch 128 x \(seqlen 100 \+ 1\) = 12928 are needed/);
    expect(fail('--text', tiny, '--device', 'tpu')).toMatch(/--device must be cpu or gpu/);
  });
});
