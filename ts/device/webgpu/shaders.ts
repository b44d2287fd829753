// WGSL sources of the gpu device: the families in shaders/*.wgsl, split into sections.
// Each file holds a shared prelude (everything before its first `//// name` line) and
// named sections; the module for a section is prelude + section, with entry point `main`.
// init.ts reads the files (readAsset, so Node, Deno and browsers load them alike).

export type Family = 'elementwise' | 'copy' | 'reduce' | 'gemm' | 'optim' | 'lstm' | 'conv';

export class ShaderSources {
  private sections = new Map<string, string>();

  constructor(files: Record<Family, string>) {
    for (const [family, text] of Object.entries(files)) {
      const parts = text.split(/^\/\/\/\/ *(\w+) *$/m);
      const prelude = parts[0];
      for (let i = 1; i < parts.length; i += 2) this.sections.set(`${family}.${parts[i]}`, prelude + parts[i + 1]);
    }
  }

  /** The module text for `family.section`, with placeholder words (UNARY_EXPR, ...) replaced by their text. */
  get(family: Family, section: string, replace: Record<string, string> = {}): string {
    let code = this.sections.get(`${family}.${section}`);
    if (code === undefined) throw new Error(`knet gpu: no section '${section}' in shaders/${family}.wgsl`);
    for (const [word, text] of Object.entries(replace)) code = code.replaceAll(word, text);
    return code;
  }
}
