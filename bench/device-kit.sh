#!/usr/bin/env bash
# Builds .devkit/: what a remote GPU machine (x86-64 Linux, no network, no Node) needs
# to run knet's WebGPU benchmarks with bench/device-run.sh, beyond the tracked tree:
#
#   .devkit/node.xz              this machine's `node` (an official, self-contained Node 20
#                                x64 build; only glibc and libstdc++ needed), xz-compressed
#   .devkit/node_modules.tar.xz  a pruned node_modules: only what `bench/main.ts gpu`,
#                                `kernels --devices gpu` and `table --devices gpu` (with its
#                                children bench/train-{knet,tfjs,jax}.ts) load at run time,
#                                linux-x64 native parts only (dawn.node, esbuild)
#   .devkit/build/*.wasm         knet's built wasm kernels (git-ignored; not rebuilt here:
#                                run `npm run build:wasm` first if assembly/ changed)
#   .devkit/gl/*.deb             the Vulkan loader (libvulkan1) and libglvnd0 (amd64), for
#                                a machine whose image lacks them
#   .devkit/MANIFEST             versions, sizes, the commit
#
# Usage (in the repo root, with node_modules installed, as root for apt-get):
#   bash bench/device-kit.sh            # rebuilds what is missing or stale
#   bash bench/device-kit.sh --force    # rebuilds everything
# Then a device call carries ".devkit" and runs `bash bench/device-run.sh ...`.
# Needs: node (x64 Linux), tar, xz, apt-get (for the debs). Single-threaded xz (-T1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
KIT=.devkit
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

say() { echo "[device-kit] $*" >&2; }
die() { echo "[device-kit] ERROR: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "this machine is $(uname -m); the kit must hold x86-64 binaries"
[ -d node_modules ] || die "node_modules is missing: run npm ci first"
mkdir -p .git/info
grep -qx '/.devkit/' .git/info/exclude 2>/dev/null || echo '/.devkit/' >> .git/info/exclude
mkdir -p "$KIT/build" "$KIT/gl"

# 1. node ------------------------------------------------------------------------------
NODE=$(command -v node) || die "no node on PATH"
NODE=$(readlink -f "$NODE")
NODEV=$("$NODE" --version)
case "$NODEV" in v20.*|v22.*|v24.*) ;; *) die "node $NODEV: want an official Node >= 20 build";; esac
if grep -q 'libnode\|not found' <<<"$(ldd "$NODE" 2>&1)"; then
  die "$NODE links a shared libnode or lacks a library: want the official self-contained build"
fi
if [ $FORCE = 1 ] || [ ! -s "$KIT/node.xz" ] || [ "$NODE" -nt "$KIT/node.xz" ] || [ "$(cat "$KIT/node.version" 2>/dev/null)" != "$NODEV" ]; then
  say "compressing $NODE ($NODEV, $(du -h "$NODE" | cut -f1)) with xz -T1 (about a minute)"
  xz -T1 -6 -c "$NODE" > "$KIT/node.xz.tmp" && mv "$KIT/node.xz.tmp" "$KIT/node.xz"
  echo "$NODEV" > "$KIT/node.version"
fi

# 2. node_modules, pruned ---------------------------------------------------------------
# Whole packages (then pruned below). Found by tracing the files the three suites open
# (strace -f -e openat) plus the dependencies their package.json files name, so that a
# path the quick runs did not take still resolves.
PKGS=(
  tsx esbuild @esbuild/linux-x64                       # node --import tsx
  webgpu debug ms                                      # Dawn
  @tensorflow/tfjs @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu @tensorflow/tfjs-backend-webgl
  @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-converter
  @tensorflow/tfjs-data @tensorflow/tfjs-layers
  long seedrandom node-fetch whatwg-url tr46 webidl-conversions string_decoder safe-buffer   # TF.js's deps
  @jax-js/jax                                          # table's jax-js webgpu column
  benchmark lodash platform                            # kernels' timer
)
stamp_src=$(cat package-lock.json "$0" | sha256sum | cut -c1-16)
if [ $FORCE = 1 ] || [ ! -s "$KIT/node_modules.tar.xz" ] || [ "$(cat "$KIT/node_modules.stamp" 2>/dev/null)" != "$stamp_src" ]; then
  STAGE=$(mktemp -d /tmp/knet-devkit.XXXXXX)
  trap 'rm -rf "$STAGE"' EXIT
  NM="$STAGE/node_modules"
  mkdir -p "$NM"
  for p in "${PKGS[@]}"; do
    [ -d "node_modules/$p" ] || die "node_modules/$p is missing (npm ci?)"
    mkdir -p "$NM/$(dirname "$p")"
    cp -a "node_modules/$p" "$NM/$p"
  done
  # tsx reads typescript's package.json (its version); the compiler itself is not needed
  mkdir -p "$NM/typescript" && cp node_modules/typescript/package.json "$NM/typescript/"

  # -- pruning: what no run-time path loads
  # docs, types, source maps, sources, tests
  find "$NM" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' \
       -o -name '*.md' -o -name '*.markdown' -o -name '*.ts' -o -name '*.tsbuildinfo' \) -delete
  find "$NM" -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name docs -o -name example -o -name examples \) -exec rm -rf {} +
  # webgpu: linux-x64 only, no build scripts
  find "$NM/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
  rm -rf "$NM/webgpu/build"
  # TF.js: Node loads each package's "main" (dist/*.node.js, CommonJS); the ES-module
  # tree, the browser bundles (tf*.js, *.min.js, *.esm.js) and the sources are dead weight.
  # tfjs-backend-wasm keeps its .wasm binaries (the cpu columns' backend, small).
  for d in "$NM"/@tensorflow/*; do
    main=$(node -p "require('$d/package.json').main")
    find "$d" -mindepth 1 -maxdepth 1 ! -name dist ! -name package.json ! -name 'LICENSE*' -exec rm -rf {} +
    find "$d/dist" -type f ! -path "$d/$main" ! -name '*.wasm' -delete
    find "$d/dist" -depth -type d -empty -delete
    [ -f "$d/$main" ] || die "pruned away $d/$main"
  done
  # TF.js core's nested node_modules holds only @types and @webgpu/types
  rm -rf "$NM/@tensorflow/tfjs-core/node_modules"
  # lodash: benchmark.js requires the one-file build only
  find "$NM/lodash" -mindepth 1 -maxdepth 1 ! -name lodash.js ! -name package.json ! -name LICENSE -exec rm -rf {} +
  # esbuild: the JS API (lib/main.js) and the native binary; not its install script
  rm -rf "$NM/esbuild/bin" "$NM/esbuild/install.js"
  # the other leftovers of the packages' repos
  rm -rf "$NM/@tensorflow/tfjs/src" "$NM/@tensorflow/tfjs/tools"
  find "$NM" -depth -type d -empty -delete

  # -- check: every root the benchmarks import resolves and loads (no GPU asked for)
  (cd "$STAGE" && "$NODE" --input-type=module -e "
    for (const m of ['webgpu', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu',
                     '@jax-js/jax', 'benchmark', 'tsx/esm/api'])
      await import(m);
    const { createRequire } = await import('node:module');
    const require = createRequire(process.cwd() + '/x.js');
    require.resolve('@jax-js/jax'); require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    await import('esbuild').then((e) => e.transform('let x: number = 1', { loader: 'ts' }));
    console.error('[device-kit] the pruned node_modules loads');
    process.exit(0);") || die "the pruned node_modules does not load"

  say "node_modules pruned to $(du -sh "$NM" | cut -f1) ($(find "$NM" -type f | wc -l) files); compressing"
  XZ_OPT='-T1 -9' tar -C "$STAGE" --owner=0 --group=0 -cJf "$KIT/node_modules.tar.xz.tmp" node_modules
  mv "$KIT/node_modules.tar.xz.tmp" "$KIT/node_modules.tar.xz"
  echo "$stamp_src" > "$KIT/node_modules.stamp"
fi

# 3. knet's wasm kernels ------------------------------------------------------------------
ls build/*.wasm >/dev/null 2>&1 || die "no build/*.wasm: run npm run build:wasm first"
rm -f "$KIT"/build/*.wasm
cp -p build/*.wasm "$KIT/build/"
newer=$(find assembly asconfig.json -newer "$(ls -t build/*.wasm | tail -1)" -type f 2>/dev/null | head -3)
[ -z "$newer" ] || say "WARNING: build/*.wasm is older than $(echo $newer | tr '\n' ' '): run npm run build:wasm and this again"

# 4. the Vulkan loader (and libglvnd's libGLdispatch, which NVIDIA's ICD library links) ---
# the set the device README names for NVIDIA's Vulkan and EGL (its ICD lives in libGLX_nvidia)
if [ $FORCE = 1 ] || ! ls "$KIT"/gl/libvulkan1_*.deb >/dev/null 2>&1 || ! ls "$KIT"/gl/libglx0_*.deb >/dev/null 2>&1; then
  rm -f "$KIT"/gl/*.deb
  mkdir -p /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null || die "apt-get update failed"
  # shellcheck disable=SC2086
  (cd "$KIT/gl" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2) || die "apt-get download failed"
fi

# 5. manifest and sizes ---------------------------------------------------------------------
{
  echo "made: $(date -u +%FT%TZ) at commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- ts shaders bench examples 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "node: $NODEV ($(du -b "$NODE" | cut -f1) bytes)"
  echo "packages: $(for p in "${PKGS[@]}"; do printf '%s@%s ' "$p" "$(node -p "require('./node_modules/$p/package.json').version")"; done)"
  echo "wasm: $(cd build && ls *.wasm | tr '\n' ' ')"
  echo "debs: $(cd "$KIT/gl" && ls *.deb | tr '\n' ' ')"
} > "$KIT/MANIFEST"
kit=$(du -cb "$KIT" | tail -1 | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
untracked=${untracked:-0}
total=$((kit + tree + untracked))
echo "kit: $((kit / 1024)) KiB; tracked tree: $((tree / 1024)) KiB; untracked, not ignored: $((untracked / 1024)) KiB; total that travels: $((total / 1024 / 1024)) MiB of 64" | tee -a "$KIT/MANIFEST" >&2
[ $total -lt $((60 * 1024 * 1024)) ] || die "over 60 MiB would travel: prune more"
ls -l "$KIT" "$KIT/build" "$KIT/gl" >&2
say "done: carry [\".devkit\"] and run: bash bench/device-run.sh gpu kernels table"
