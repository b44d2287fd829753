// Unit tests of the benchmark harness's parts; never timing assertions.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../bench/harness/args.js';
import { markdownTable } from '../bench/harness/markdown.js';
import { fmtSeconds, summarize } from '../bench/harness/stats.js';
import { barChart } from '../bench/harness/svg.js';
import { kernelRecord } from '../bench/kernels-report.js';
import { TAPE_ROWS, type TapeReport, tapeChart, tapeDevice, tapeMarkdown } from '../bench/tape-report.js';

/** A tape report with made-up figures: the cpu measured (forward 0.2 s), the gpu not. */
function tapeReport(): TapeReport {
  const medians = [0.1, 0.12, 0.13, 0.16, 0.17, 0.18, 0.2, 0.21, 0.4];
  const cpu = tapeDevice('cpu', 'WebAssembly, relaxed-simd build, 1 thread', medians.map((m) => ({ median: m, min: m - 0.01, max: m + 0.02, n: 3 })));
  return {
    suite: 'tape', date: '2026-01-01T00:00:00.000Z', mode: 'quick', repeats: 3, task: 'MLP', protocol: 'made up',
    machine: { cpu: 'a cpu', family: '1', model: '2', cores: 2, node: 'v20', load: '0 0 0', adapter: null },
    devices: [cpu, { device: 'gpu', error: 'no adapter' }], seconds: 1,
  };
}

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
  it('tape: each row against the whole forward, recording and backprop, and a device that did not run', () => {
    const r = tapeReport();
    const cpu = r.devices[0] as Extract<TapeReport['devices'][number], { rows: unknown }>;
    expect(cpu.rows.map((x) => x.op)).toEqual(TAPE_ROWS);
    expect(cpu.rows[0].vsForward).toBeCloseTo(0.5, 12);
    expect(cpu.recordingAdds).toBeCloseTo(0.05, 12);
    expect(cpu.backpropRatio).toBeCloseTo(2, 12);
    expect(() => tapeDevice('cpu', '', [])).toThrow(/0 summaries for 9 rows/);
    const md = tapeMarkdown(r).split('\n');
    expect(md[0]).toBe('tape: MLP, median of 3 (quick run)');
    expect(md).toContain('## cpu (WebAssembly, relaxed-simd build, 1 thread)');
    expect(md).toContain('| a1=w1*x        | 0.100 | 0.090–0.120 |        50% |');
    expect(md).toContain('| +backprop      | 0.400 | 0.390–0.420 |       200% |');
    expect(md).toContain('recording adds 5.0% to the forward (target: at most 10%; the seed: 15%); backprop brings the total to 2.00x the forward.');
    expect(md.slice(md.indexOf('## gpu'))).toEqual(['## gpu', '', 'not measured: no adapter']);
    // the JSON record is the report itself: plain data that survives a round trip
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('tape: the chart has a bar per row of each measured device, labelled against the forward, and room for its legend', () => {
    const svg = tapeChart(tapeReport());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="720"')).toBe(true);
    expect((svg.match(/<rect x=/g) ?? []).length).toBe(2 * TAPE_ROWS.length); // bars and legend swatches
    expect(svg).toContain('2.0×'); // a1: the forward takes twice as long
    expect(svg).toContain('0.5×'); // +backprop
    expect(svg).toContain('labels: speed-up over a7=sumabs2(a6)');
    expect(svg).not.toContain('>gpu<');
  });

  it('kernels: a record per kernel with its share of the peak and its ratio to TF.js', () => {
    const k = { group: 'gemm', name: 'matmul 256³ NN', unit: 'GFLOP/s' as const, amount: 2 * 256 ** 3 };
    expect(kernelRecord(k, 40, 20, undefined, { value: 50, kind: 'f32x4 FMA' })).toEqual({
      group: 'gemm', kernel: 'matmul 256³ NN', unit: 'GFLOP/s', amount: 33554432, knet: 40,
      peak: 50, peakKind: 'f32x4 FMA', percentOfPeak: 80, tfjs: 20, tfjsError: null, knetOverTfjs: 2,
    });
    expect(kernelRecord(k, 40, null, 'no kernel', null)).toMatchObject({ peak: null, percentOfPeak: null, tfjs: null, tfjsError: 'no kernel', knetOverTfjs: null });
  });
});
