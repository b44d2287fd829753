// A tiny command-line parser for the examples: --name value pairs over typed defaults.

export function parseArgs<T extends Record<string, string | number | boolean>>(defaults: T, argv = process.argv.slice(2)): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in defaults)) {
      throw new Error(`unknown argument '${argv[i]}'; known: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    }
    const d = defaults[m[1]];
    const v = typeof d === 'boolean' && m[2] === undefined ? 'true' : m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`--${m[1]} needs a value`);
    out[m[1]] = typeof d === 'number' ? Number(v) : typeof d === 'boolean' ? v === 'true' : v;
    if (typeof d === 'number' && !Number.isFinite(out[m[1]] as number)) throw new Error(`--${m[1]} needs a number, got '${v}'`);
  }
  return out as T;
}

/** A one-line progress bar on stderr (redrawn in place on a terminal). */
export function progress(label: string, done: number, total: number, extra = ''): void {
  if (!process.stderr.isTTY) return;
  const width = 30, k = Math.round((done / total) * width);
  process.stderr.write(`\r${label} [${'#'.repeat(k)}${'.'.repeat(width - k)}] ${done}/${total} ${extra}`);
  if (done === total) process.stderr.write('\r\x1b[K');
}
