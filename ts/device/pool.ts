// Size classes for device memory pools: four classes per power of two, so a block
// wastes at most a quarter of its size and repeated training steps reuse blocks.

export function sizeClass(bytes: number): number {
  if (bytes <= 64) return 64;
  // the largest power of two below bytes (clz32 for sizes under 2 GiB: every op calls this)
  const p = bytes <= 2 ** 31 ? 2 ** (31 - Math.clz32(bytes - 1)) : 2 ** Math.floor(Math.log2(bytes - 1));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

/** Free lists by size class. */
export class FreeLists<H> {
  private lists = new Map<number, H[]>();
  pooled = 0;
  take(cls: number): H | undefined {
    const l = this.lists.get(cls);
    const h = l?.pop();
    if (h !== undefined) this.pooled -= cls;
    return h;
  }
  put(cls: number, h: H): void {
    let l = this.lists.get(cls);
    if (!l) this.lists.set(cls, (l = []));
    l.push(h);
    this.pooled += cls;
  }
  /** Empties the pool, handing every block to `drop`. */
  drain(drop: (h: H, cls: number) => void): void {
    for (const [cls, l] of this.lists) for (const h of l) drop(h, cls);
    this.lists.clear();
    this.pooled = 0;
  }
}
