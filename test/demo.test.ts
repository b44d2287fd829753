// The demo page, driven as a person would: train an epoch, draw a digit, read the prediction.
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('demo page', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    const { serve } = await import('../demo/server.mjs');
    server = await serve(0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each([
    ['the MLP on WebAssembly (no WebGPU adapter)', '', [], /device: cpu \(WebAssembly, relaxed-simd, \d+ threads?\), cross-origin isolated/, 'demo', 0.93],
    ['the MLP on WebGPU (--enable-unsafe-webgpu)', '', ['--enable-unsafe-webgpu'], /device: gpu \(WebGPU: .*\), cross-origin isolated/, 'demo-webgpu', 0.93],
    ['LeNet on WebAssembly', '?model=lenet', [], /device: cpu \(WebAssembly, relaxed-simd(, \d+ threads?)?\)/, 'demo-lenet', 0.97],
  ] as const)('trains %s in the page and classifies a drawn digit', async (_, query, flags, deviceLine, shot, minAccuracy) => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--no-first-run', ...flags] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${base}/${query}`);
      await page.waitForSelector('#train:not([disabled])', { timeout: 120_000 });
      expect(await page.textContent('#device')).toMatch(deviceLine);
      await page.click('#train');
      await page.waitForFunction(() => (window as any).knetDemo.lastAccuracy !== undefined, null, { timeout: 180_000 });
      const acc = await page.evaluate(() => (window as any).knetDemo.lastAccuracy);
      expect(acc).toBeGreaterThan(minAccuracy);
      // draw a "1": one vertical stroke
      const box = (await page.locator('#pad').boundingBox())!;
      await page.mouse.move(box.x + 140, box.y + 40);
      await page.mouse.down();
      for (let y = 40; y <= 240; y += 10) await page.mouse.move(box.x + 140, box.y + y);
      await page.mouse.up();
      await page.click('#classify');
      await page.waitForFunction(() => (window as any).knetDemo.prediction !== undefined);
      expect(await page.evaluate(() => (window as any).knetDemo.prediction)).toBe(1);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: `test-results/${shot}.png`, fullPage: true });
      expect(errors).toEqual([]);
    } finally { await browser.close(); }
  });
});
