// The FinalizationRegistry safety net (ts/tensor.ts): tensors dropped without dispose()
// return their storage to the pool after garbage collection, whether made outside any
// scope, returned from tidy(), taken out with keep() or returned by grad(); storage that a
// scope or dispose() released is never released again, and a view keeps its storage alive.
// gc() needs `node --expose-gc`, so the checks run in a child process
// (test/finalizer/child.ts) that prints its findings as one JSON line.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('FinalizationRegistry', () => {
  it('returns forgotten storage after gc, never twice', () => {
    const stdout = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/finalizer/child.ts'],
      { encoding: 'utf8', timeout: 90_000, env: { ...process.env, KNET_THREADS: '1' } });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
    // made outside any scope, dropped
    expect(r.unscoped).toEqual({ collected: true, releases: 1 });
    // returned from tidy(): the result is collected; tidy's intermediate was freed by the scope
    // at once and not again by the collector
    expect(r.tidyResult).toEqual({ collected: true, releases: 1, innerAfterTidy: 1, inner: 1 });
    // taken out of tidy() with keep()
    expect(r.kept).toEqual({ collected: true, releases: 1 });
    // disposed by their scope: released once, when the scope closed
    expect(r.scopeDisposed).toEqual({ afterTidy: [1, 1], sumCollected: true, afterGc: [1, 1] });
    // disposed by hand after leaving tidy(): dispose() unregistered it
    expect(r.disposedByHand).toEqual({ afterDispose: 1, afterGc: 1, refs: 0 });
    // a view outlives the tensor it came from (dropped, or disposed); the storage goes when
    // the view does, and its reference count never drops below zero
    const view = { releasedWhileViewLives: 0, refsWhileViewLives: 1, values: [[2, 2, 2], [2, 2, 2]], collected: true, releases: 1, refs: 0 };
    expect(r.viewOfDropped).toEqual(view);
    expect(r.viewOfDisposed).toEqual(view);
    // a gradient returned by grad()
    expect(r.gradient).toEqual({ collected: true, releases: 1 });
    expect(r.doubleFrees).toBe(0);
    expect(r.memory.liveAfter).toBe(r.memory.liveBefore);
    expect(r.memory.tensorsAfter).toBe(r.memory.tensorsBefore);
  });
});
