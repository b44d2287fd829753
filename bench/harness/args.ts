// Options shared by the benchmark suites: --quick, --only a,b, --devices cpu,gpu, --out dir.

/** The value after `--name` in args, or undefined. */
export function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export interface BenchArgs { quick: boolean; only: string[] | null; devices: string[] | null; out: string; rest: string[] }

export function parseBenchArgs(argv: readonly string[], known: { models?: readonly string[]; devices?: readonly string[] } = {}): BenchArgs {
  const a: BenchArgs = { quick: false, only: null, devices: null, out: 'bench/results', rest: [] };
  const list = (name: string, v: string | undefined, allowed?: readonly string[]) => {
    if (!v) throw new Error(`--${name} needs a comma-separated list`);
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
    if (bad.length) throw new Error(`--${name}: unknown ${bad.join(', ')} (known: ${allowed!.join(', ')})`);
    return items;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--quick') a.quick = true;
    else if (flag === '--only') a.only = list('only', value(), known.models);
    else if (flag === '--devices') a.devices = list('devices', value(), known.devices);
    else if (flag === '--out') { const v = value(); if (!v) throw new Error('--out needs a directory'); a.out = v; }
    else a.rest.push(argv[i]);
  }
  return a;
}
