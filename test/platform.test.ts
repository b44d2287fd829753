// The built package in every runtime: Node, Deno (the npm `deno` binary) and Chromium
// (Debian's, driven by playwright-core). Each trains a few softmax steps and the loss falls,
// on the cpu device's threads where shared memory is allowed (in Chromium: a cross-origin
// isolated page; the same page served without COOP/COEP runs on one thread), and saves
// its parameters and loads them back, bit for bit, from every source load() takes there:
// bytes, an ArrayBuffer, a Blob, a Response everywhere; a path and a file: URL in Node and
// Deno; a File, a blob: URL and a FileSystemFileHandle (the origin private file system,
// which save() writes too) in a browser. A cpu worker terminated while it runs its part:
// in Deno it stops there and the op throws at once (worker-death.mjs); in Chromium it
// finishes that op's part, and the page's sentinel (Web Locks) finds it dead before a
// later op waits for it (worker-death.html); one stopped at the busy timeout runs on until
// the page is free, and the device reuses no memory it may write until then (worker-hung.html).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuOk } from './helpers/gpu.js';

const CHROMIUM = '/usr/bin/chromium';
const deno = 'node_modules/.bin/deno';

function parse(out: string) { return JSON.parse(out.trim().split('\n').at(-1)!); }

/** Every source load() takes in Node and Deno, and in a browser, each giving back the saved bits. */
const FILE_SOURCES = { bytes: true, arrayBuffer: true, blob: true, response: true, path: true, fileUrl: true };
const BROWSER_SOURCES = { bytes: true, arrayBuffer: true, blob: true, response: true, file: true, url: true, handle: true };

describe('runtimes', () => {
  it('node imports dist/ and trains', () => {
    const r = parse(execFileSync(process.execPath, ['test/platform/smoke.mjs'], { encoding: 'utf8' }));
    expect(r.falls).toBe(true);
    expect(r.loaded).toEqual(FILE_SOURCES);
    expect(r.saved).toBe(true);
    expect(r.threads).toBe(Math.min(availableParallelism(), 63 + 1));
    expect(r.threadsSame).toBe(true);
  });

  it.skipIf(!existsSync(deno))('deno imports dist/ and trains, with the same numbers as node', () => {
    const r = parse(execFileSync(deno, ['run', '--allow-read', '--allow-write', '--allow-env', 'test/platform/smoke.mjs'], { encoding: 'utf8' }));
    const n = parse(execFileSync(process.execPath, ['test/platform/smoke.mjs'], { encoding: 'utf8' }));
    expect(r.falls).toBe(true);
    expect(r.loaded).toEqual(FILE_SOURCES); // load(path) too, not only the bytes save() returns
    expect(r.saved).toBe(true);
    expect(r.last).toBe(n.last);
    expect(r.threads).toBe(n.threads); // Deno runs threaded too
    expect(r.threadsSame).toBe(true);
  });

  it.skipIf(!existsSync(deno))('deno: a cpu worker terminated in the middle of its part, or at the busy timeout, stops there: the op throws at once, nothing writes its output afterwards, the device goes on', () => {
    const r = parse(execFileSync(deno, ['run', '--allow-read', '--allow-env', 'test/platform/worker-death.mjs'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ locks: true, started: 3, quiet: true, left: 2, afterSame: true, replaced: 3, replacedSame: true });
    expect(r.message).toMatch(/^knet cpu threads: worker 2 died while running its part of matmul \(kernel gemm\w*\); the op's result is incomplete\. The device goes on with 2 thread\(s\)\.$/);
    expect(r.took).toBeLessThan(10_000); // not the 30 s busy timeout
    expect(r.hung).toMatchObject({ quiet: true, left: 2 });
    expect(r.hung.message).toMatch(/^knet cpu threads: worker 1 did not finish its part of the debug spin kernel \(kernel __spin\) within 50 ms and was stopped; the op's result is incomplete\./);
    expect(r.hung.settledAfter).toBeGreaterThan(400); // DENO_STOP_MS (500) after terminate() (Deno has no sign of the thread's end)
    expect(r.hung.settledAfter).toBeLessThan(1_000); // and not 10 s later, when its part would have ended
    expect(r.warnings).toEqual([
      expect.stringMatching(/^knet: cpu worker 2 died \(its thread exited with code 1\) and was removed; the cpu device goes on with 2 thread\(s\)$/),
      expect.stringMatching(/^knet: cpu worker 1 did not finish its part of the debug spin kernel .* \(until its thread has ended, the device reuses no memory\); the cpu device goes on with 2 thread\(s\)$/),
    ]);
  });

  it.skipIf(!gpuOk)('node and deno train on the gpu device (WebGPU), with the cpu\'s numbers', () => {
    const cpu = parse(execFileSync(process.execPath, ['test/platform/smoke.mjs'], { encoding: 'utf8' }));
    const g = parse(execFileSync(process.execPath, ['test/platform/smoke.mjs', '--gpu'], { encoding: 'utf8' }));
    expect(g).toMatchObject({ device: 'gpu', falls: true, saved: true, loaded: FILE_SOURCES });
    expect(Math.abs(g.last - cpu.last)).toBeLessThan(1e-4);
    if (existsSync(deno)) {
      const d = parse(execFileSync(deno, ['run', '--allow-read', '--allow-write', '--allow-env', 'test/platform/smoke.mjs', '--gpu'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      expect(d).toMatchObject({ device: 'gpu', falls: true, saved: true, loaded: FILE_SOURCES });
    }
  });

  describe.skipIf(!existsSync(CHROMIUM))('chromium', () => {
    let server: Server, plain: Server;
    let base = '', plainBase = '';
    beforeAll(async () => {
      const { serve } = await import('../demo/server.mjs');
      server = await serve(0);
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      plain = await serve(0, { isolated: false });
      plainBase = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    });
    afterAll(() => Promise.all([server, plain].map((s) => new Promise<void>((r) => s.close(() => r())))));

    async function page(flags: string[], shot: string, from = base, html = 'page.html') {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM, headless: true,
        args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...flags],
      });
      try {
        const p = await browser.newPage();
        const errors: string[] = [], logs: string[] = [];
        p.on('pageerror', (e) => errors.push(String(e)));
        p.on('console', (m) => logs.push(m.text()));
        await p.goto(`${from}/test/platform/${html}`);
        await p.waitForFunction(() => (window as any).result, null, { timeout: 60_000 });
        const r = await p.evaluate(() => (window as any).result);
        mkdirSync('test-results', { recursive: true });
        await p.screenshot({ path: `test-results/${shot}.png` });
        return { ...r, errors, logs };
      } finally { await browser.close(); }
    }

    it('without flags: navigator.gpu but no adapter, trains on WebAssembly', async () => {
      const r = await page([], 'browser-wasm');
      expect(r.error).toBeUndefined();
      expect(r.adapter).toBe(false);
      expect(r.isolated).toBe(true);
      expect(r.falls).toBe(true);
      expect(r.simd).toBe('relaxed-simd');
      expect(r).toMatchObject({ device: 'cpu', defaultDevice: 'cpu', saved: true });
      expect(r.loaded).toEqual(BROWSER_SOURCES);
      expect(r.threads).toBeGreaterThan(1); // cross-origin isolated: the cpu device's workers run
      expect(r.threads).toBe(r.cores);
      expect(r.threadsSame).toBe(true);
    });

    it('not cross-origin isolated (no COOP/COEP): one thread, a one-line notice, trains on WebAssembly', async () => {
      const r = await page([], 'browser-wasm-one-thread', plainBase);
      expect(r.error).toBeUndefined();
      expect(r.errors).toEqual([]);
      expect(r.isolated).toBe(false);
      expect(r).toMatchObject({ device: 'cpu', threads: 1, threadsSame: true, falls: true, saved: true });
      expect(r.loaded).toEqual(BROWSER_SOURCES);
      expect(r.logs.filter((l: string) => l.startsWith('knet:'))).toEqual([
        expect.stringMatching(/^knet: the cpu device runs on one thread: the page is not cross-origin isolated/),
      ]);
    });

    it('a cpu worker that dies: the op gives one thread\'s bits, the page\'s sentinel (Web Locks) sees the death, the device goes on', async () => {
      const r = await page([], 'browser-worker-death', base, 'worker-death.html');
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ isolated: true, locks: true, started: 3, message: null, bigSame: true, left: 2, afterSame: true,
        replaced: 3, replacedSame: true });
      expect(r.crashedAt).toBeLessThan(r.took); // terminated while its part ran
      expect(r.seenAfter).toBeLessThan(10_000); // Chromium ends a busy worker ~2 s after terminate()
      expect(r.after).toBeLessThan(5_000); // not the 30 s busy timeout: the dead worker's part was not waited for
      expect(r.warnings).toEqual([
        expect.stringMatching(/^knet: cpu worker 2 died between ops \(its thread ended\) and was removed; the cpu device goes on with 3 thread\(s\)$/),
      ]);
    });

    it('a cpu worker stopped at the busy timeout runs on until the page is free: the op throws, and no memory it may write is reused until its thread has ended', async () => {
      const r = await page([], 'browser-worker-hung', base, 'worker-hung.html');
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ isolated: true, locks: true, started: 3, settledAtThrow: false, runsOn: true, moved: true,
        meanwhileSame: true, zQuiet: true, settledBusy: false, settled: true, reused: true, stopped: true, replaced: 3, replacedSame: true });
      expect(r.settledAfter).toBeLessThan(8_000); // Chromium ended it ~2 s after the page was free, long before its 10 s part would have
      expect(r.message).toMatch(/^knet cpu threads: worker 1 did not finish its part of the debug spin kernel \(kernel __spin\) within 50 ms and was stopped; the op's result is incomplete\. The device goes on with 2 thread\(s\)\.$/);
      expect(r.warnings).toEqual([
        expect.stringMatching(/^knet: cpu worker 1 did not finish its part of the debug spin kernel .* and was stopped \(until its thread has ended, the device reuses no memory\); the cpu device goes on with 2 thread\(s\)$/),
      ]);
    });

    it('with --enable-unsafe-webgpu: an adapter (SwiftShader), trains on WebGPU', async () => {
      const r = await page(['--enable-unsafe-webgpu'], 'browser-webgpu');
      expect(r.error).toBeUndefined();
      expect(r.adapter).toBe(true);
      expect(r).toMatchObject({ device: 'gpu', defaultDevice: 'gpu', falls: true, saved: true });
      expect(r.loaded).toEqual(BROWSER_SOURCES);
    });
  });
});
