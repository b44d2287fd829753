// Unit tests of the benchmark harness's parts; never timing assertions.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../bench/harness/args.js';
import { markdownTable } from '../bench/harness/markdown.js';
import { fmtSeconds, summarize } from '../bench/harness/stats.js';
import { barChart } from '../bench/harness/svg.js';

describe('bench harness', () => {
  it('parses --quick, --only, --devices and rejects unknown names', () => {
    const a = parseBenchArgs(['--quick', '--only', 'lenet,mlp', '--devices=cpu', 'extra'], { models: ['mlp', 'lenet'], devices: ['cpu', 'gpu'] });
    expect(a).toMatchObject({ quick: true, only: ['lenet', 'mlp'], devices: ['cpu'], rest: ['extra'] });
    expect(() => parseBenchArgs(['--only', 'resnet'], { models: ['mlp'] })).toThrow(/--only: unknown resnet \(known: mlp\)/);
    expect(() => parseBenchArgs(['--only'])).toThrow(/needs a comma-separated list/);
  });
  it('summarizes: median of odd and even counts, with the range', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(summarize([4, 1, 2, 3]).median).toBe(2.5);
    expect(() => summarize([])).toThrow();
    expect(fmtSeconds(summarize([1.2, 1.25, 1.31]))).toBe('1.25 s (1.20–1.31)');
    expect(fmtSeconds(0.0123)).toBe('0.012 s');
  });
  it('writes an aligned Markdown table', () => {
    const t = markdownTable(['model', 'secs'], [['mlp', '0.27'], ['softmax', '10.5']], ['l', 'r']).split('\n');
    expect(t[0]).toBe('| model   | secs |');
    expect(t[1]).toBe('|---------|-----:|');
    expect(t[3]).toBe('| softmax | 10.5 |');
  });
  it('draws an SVG bar chart with ratio labels and a "cannot train" bar', () => {
    const svg = barChart('seed table', [
      { label: 'MLP', bars: [{ name: 'knet', seconds: 0.5 }, { name: 'TF.js wasm', seconds: 5 }] },
      { label: 'LeNet', bars: [{ name: 'knet', seconds: 20 }, { name: 'TF.js wasm', seconds: null, note: 'cannot train' }] },
    ], 'TF.js wasm');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('10×');
    expect(svg).toContain('cannot train');
    expect((svg.match(/<rect x=/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });
});
