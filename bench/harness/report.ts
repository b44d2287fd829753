// Writes a suite's results into the results directory (bench/results by default, --out):
// <name>.json (everything measured, for scripts), <name>.md (what the suite printed) and,
// given one, <name>.svg (a chart).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeResults(dir: string, name: string, json: unknown, markdown: string, svg?: string): string[] {
  mkdirSync(dir, { recursive: true });
  const paths = [join(dir, `${name}.json`), join(dir, `${name}.md`)];
  writeFileSync(paths[0], JSON.stringify(json, null, 2) + '\n');
  writeFileSync(paths[1], markdown + '\n');
  if (svg !== undefined) {
    paths.push(join(dir, `${name}.svg`));
    writeFileSync(paths[2], svg + '\n');
  }
  return paths;
}
