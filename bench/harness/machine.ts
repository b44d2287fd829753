// This machine, for a suite's JSON report: CPU model and family (from /proc/cpuinfo where
// there is one), cores, Node version and load average.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export interface Machine { cpu: string; family: string; model: string; cores: number; node: string; load: string }

export function machineInfo(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown CPU', family = '?', model = '?';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
    cpu = field('model name') ?? cpu; family = field('cpu family') ?? family; model = field('model') ?? model;
  } catch { /* not Linux */ }
  return { cpu, family, model, cores: cpus().length, node: process.version, load: loadavg().map((x) => x.toFixed(2)).join(' ') };
}
