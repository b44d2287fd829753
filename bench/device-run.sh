#!/usr/bin/env bash
# Runs knet's WebGPU benchmarks on a remote GPU machine (Dawn over Vulkan, via the npm
# `webgpu` package), from the kit that bench/device-kit.sh builds into .devkit/.
#
#   bash bench/device-run.sh [suite ...]        (default: gpu kernels table)
#
# The device call: carry [".devkit"], command
#   bash bench/device-run.sh gpu kernels table
# with timeout_s 540 (the script stops itself by ~430 s; see the budget below).
#
# What it does, in the repo root:
#  1. node -> /tmp/node/bin (from .devkit/node.xz), the pruned node_modules -> ./node_modules
#     (only where there is none, or one from an earlier kit), knet's wasm -> ./build
#  2. the Vulkan loader (.devkit/gl/*.deb, dpkg -x into /) where the image lacks it; the
#     NVIDIA ICD from /usr/local/nvidia/share/vulkan/icd.d when the loader's own folders
#     have none; diagnosis: the ICD folders, nvidia-smi -L
#  3. a probe: a Dawn instance (webgpu's create([])), its adapters (high-performance and
#     default), their info and limits. It FAILS FAST (exit 3) when there is no adapter, and
#     (exit 4) when the adapter is a software one (llvmpipe/lavapipe/SwiftShader: numbers
#     from it would mean nothing) unless KNET_DEVICE_ALLOW_SOFTWARE=1 (local tests only)
#  4. each suite, one at a time, under `timeout`, its output tee'd to $OUT/<suite>.log; a
#     failing or timed-out suite does not stop the next
#  5. $OUT (at most 8 files, flat): setup.log, <suite>.log each, results.tgz (every file the
#     suites wrote: kernels.{json,md}, table.{json,md,svg}), then the suites' *.json while
#     fewer than 8 files
#
# Time budget. The device session has ~13 min usable; the machine's start and the
# transfers (~46 MiB) take ~3-5 of them, so the remote command must end within ~8 min.
# The script stops itself by KNET_DEVICE_BUDGET_S=430 s from its start (7.2 min): each
# suite's timeout is its cap below, cut to what is left of that budget (less 20 s for the
# kill grace and the copying); a suite with under 20 s left is skipped. Setup: ~3-15 s.
# Default suites, caps (s), and what they should take on an H200 (a guess: never run there
# yet: the host-side JavaScript costs about what it does here, the GPU work far less):
#   gpu      full: gemm 128..1024 NN/NT/TN, softmax x3, MLP epochs      cap 150, ~1.5-2 min
#            of 600 batches (12+3 calibrated pairs of ~4 s, 8 epochs);
#            its rows also reach the log one by one as they finish
#   kernels  --devices gpu, full: 14 kernels x 2 frameworks,            cap 110, ~1 min
#            benchmark.js 1 s each
#   table    --quick --devices gpu: 5 models x (knet gpu, TF.js         cap 240, ~2-3 min
#            webgpu, jax-js webgpu), up to 3 runs of <= 1.5 s per cell,
#            scaled where the task is longer; child start-up and
#            compiles; a first step over 20 s makes a cell "not timed".
#            It writes its table only at the end: run it last so it gets
#            all the time the others leave (up to its cap)
# Local (lavapipe on 2 shared cores, load ~4, KNET_DEVICE_QUICK=1): setup 3 s, gpu --quick
# 35 s, kernels --quick 60 s, table --quick --only softmax 29 s.
#
# Knobs (environment): KNET_<SUITE>_ARGS (e.g. KNET_TABLE_ARGS="--quick --devices gpu
# --only mlp,lenet"), KNET_<SUITE>_TIMEOUT (s), KNET_DEVICE_BUDGET_S (430),
# KNET_DEVICE_QUICK=1 (every suite --quick, table --only softmax: for a local test),
# KNET_DEVICE_ALLOW_SOFTWARE=1 (accept a software adapter: for a local test only),
# OUT (where the logs go; default /tmp/knet-device-out).
set -u -o pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS
KIT=.devkit
OUT=${OUT:-/tmp/knet-device-out}
BUDGET=${KNET_DEVICE_BUDGET_S:-430}
QUICK=${KNET_DEVICE_QUICK:-0}
RES=$(mktemp -d /tmp/knet-results.XXXXXX)
mkdir -p "$OUT"
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(gpu kernels table)

SETUP_LOG="$OUT/setup.log"
exec 3>&1 4>&2
exec > >(tee -a "$SETUP_LOG") 2>&1
say() { echo "[device-run +$((SECONDS - T0))s] $*"; }
die() { echo "[device-run +$((SECONDS - T0))s] FATAL: $1"; exec 1>&3 2>&4; sleep 0.5; exit "${2:-1}"; }
# xz without the xz binary (python3's lzma), in case the image has no xz-utils
unxz_c() { if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi; }

say "host $(hostname 2>/dev/null || cat /proc/sys/kernel/hostname) $(uname -srm), $(nproc) cpus; suites: ${SUITES[*]}; out: $OUT"
[ -d "$KIT" ] || die "no $KIT here: build it with bench/device-kit.sh and carry it"
[ -f "$KIT/MANIFEST" ] && sed 's/^/  kit: /' "$KIT/MANIFEST"

# 1. node, node_modules, wasm --------------------------------------------------------------
NODE_DIR=${KNET_NODE_DIR:-/tmp/node}
if [ ! -x "$NODE_DIR/bin/node" ] || [ "$KIT/node.xz" -nt "$NODE_DIR/bin/node" ]; then
  mkdir -p "$NODE_DIR/bin"
  unxz_c "$KIT/node.xz" > "$NODE_DIR/bin/node.tmp" && chmod +x "$NODE_DIR/bin/node.tmp" && mv "$NODE_DIR/bin/node.tmp" "$NODE_DIR/bin/node" \
    || die "could not unpack node"
fi
export PATH="$NODE_DIR/bin:$PATH"
say "node $(node --version) at $(command -v node)"
if [ ! -d node_modules ] || [ -f node_modules/.devkit-stamp ]; then
  if ! cmp -s "$KIT/node_modules.stamp" node_modules/.devkit-stamp 2>/dev/null; then
    rm -rf node_modules
    unxz_c "$KIT/node_modules.tar.xz" | tar -x --no-same-owner -f - || die "could not unpack node_modules"
    cp "$KIT/node_modules.stamp" node_modules/.devkit-stamp
  fi
  say "node_modules from the kit ($(du -sh node_modules | cut -f1))"
else
  say "a full node_modules is here already (a dev checkout): using it"
fi
mkdir -p build
for w in "$KIT"/build/*.wasm; do cp -p -u "$w" build/; done
ls build/*.wasm >/dev/null 2>&1 || die "no build/*.wasm"

# 2. Vulkan --------------------------------------------------------------------------------
# (not `ldconfig -p | grep -q`: with pipefail, grep's early exit fails the pipeline)
haslib() { grep -qF -- "$1" <<<"$(ldconfig -p 2>/dev/null)"; }
# All of them, as the device README does: NVIDIA's ICD (libGLX_nvidia) finds no driver
# with the loader and libGLdispatch alone.
for deb in "$KIT"/gl/*.deb; do
  [ -e "$deb" ] || continue
  if [ "$(id -u)" = 0 ]; then say "dpkg -x $(basename "$deb") /"; dpkg -x "$deb" / || say "dpkg -x $deb failed"
  else say "not root: cannot unpack $(basename "$deb")"; fi
done
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -e "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
[ "$(id -u)" = 0 ] && ldconfig
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/xdg-runtime}
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
say "ICD folders:"
ls -l /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1 | sed 's/^/  /'
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$NV_ICD" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  export VK_DRIVER_FILES=$NV_ICD VK_ICD_FILENAMES=$NV_ICD   # the second for loaders before 1.3.207
  say "VK_DRIVER_FILES=$NV_ICD"
fi
ICD=${VK_DRIVER_FILES:-}
[ -n "$ICD" ] || ICD=$(ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
if [ -n "$ICD" ] && [ -f "$ICD" ]; then
  sed 's/^/  icd: /' "$ICD"
  icdlib=$(sed -n 's/.*"library_path" *: *"\([^"]*\)".*/\1/p' "$ICD")
  # a bare library name must be on the loader's path
  if [ -n "$icdlib" ] && [ "${icdlib#/}" = "$icdlib" ] && ! haslib "$icdlib"; then
    for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
      if [ -e "$d/$icdlib" ]; then export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; say "LD_LIBRARY_PATH+=$d (for $icdlib)"; break; fi
    done
  fi
  haslib "$icdlib" || [ -e "$icdlib" ] || say "the ICD's library $icdlib is not found by ldconfig (LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-})"
fi
say "libraries: $(ldconfig -p 2>/dev/null | grep -o 'libvulkan.so.1 \|libGLX_nvidia.so.0 \|libGLdispatch.so.0 \|libnvidia-gpucomp.so[^ ]* ' | sort -u | tr -d ' ' | tr '\n' ' ')"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi -L
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1 | sed 's/^/  /'
else
  say "no nvidia-smi"
fi

# 3. probe ---------------------------------------------------------------------------------
PROBE='
import { create } from "webgpu";
const gpu = create([]);
const show = async (pref) => {
  const a = await gpu.requestAdapter(pref ? { powerPreference: pref } : undefined);
  if (!a) { console.log(`adapter (${pref ?? "default"}): none`); return null; }
  const i = {}; for (const k in a.info) if (typeof a.info[k] !== "object") i[k] = a.info[k];
  console.log(`adapter (${pref ?? "default"}): ${JSON.stringify(i)}`);
  return { a, i };
};
const hp = await show("high-performance"), df = await show(undefined);
if (!hp || !df) { console.log("PROBE FAILED: Dawn found no WebGPU adapter (no Vulkan driver?)"); process.exit(3); }
const l = {}; for (const k in hp.a.limits) l[k] = hp.a.limits[k];
console.log(`limits: ${JSON.stringify(l)}`);
console.log(`features: ${[...hp.a.features].sort().join(" ")}`);
const soft = (x) => x.i.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test([x.i.vendor, x.i.architecture, x.i.device, x.i.description].join(" "));
if (soft(hp) || soft(df)) {
  console.log("PROBE: a SOFTWARE adapter (CPU rasterizer): its numbers would mean nothing");
  if (process.env.KNET_DEVICE_ALLOW_SOFTWARE !== "1") process.exit(4);
  console.log("PROBE: KNET_DEVICE_ALLOW_SOFTWARE=1: going on anyway (a local test)");
}
const d = await hp.a.requestDevice();
console.log(`PROBE OK: device made (maxBufferSize ${d.limits.maxBufferSize}, maxStorageBufferBindingSize ${d.limits.maxStorageBufferBindingSize})`);
d.destroy();
process.exit(0);
'
say "probe"
timeout -k 5 60 node --input-type=module -e "$PROBE"
rc=$?
if [ $rc != 0 ]; then
  if [ $rc = 4 ]; then die "the adapter is a software one; set KNET_DEVICE_ALLOW_SOFTWARE=1 only for local tests" 4; fi
  say "probe failed (rc $rc); again with VK_LOADER_DEBUG=error,warn,driver (repeated lines dropped):"
  VK_LOADER_DEBUG=error,warn,driver timeout -k 5 60 node --input-type=module -e "$PROBE" 2>&1 | awk '!seen[$0]++' | head -100
  icdpath=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0 /{print $NF; exit}')
  [ -n "$icdpath" ] && { say "ldd $icdpath:"; ldd "$icdpath" 2>&1 | head -30; }
  say "driver libraries: $(ls /usr/local/nvidia/lib64 /usr/local/nvidia/lib 2>/dev/null | tr '\n' ' ' | head -c 3000)"
  ls -la /dev/nvidia* /dev/dri 2>&1 | head -20
  die "no usable WebGPU adapter" 3
fi

# 4. suites --------------------------------------------------------------------------------
default_args() {
  case "$1:$QUICK" in
    gpu:0) echo "" ;;                              gpu:1) echo "--quick" ;;
    kernels:0) echo "--devices gpu" ;;             kernels:1) echo "--quick --devices gpu" ;;
    table:0) echo "--quick --devices gpu" ;;       table:1) echo "--quick --devices gpu --only softmax" ;;
    *:1) echo "--quick" ;;                         *) echo "" ;;
  esac
}
default_timeout() { case "$1" in gpu) echo 150 ;; kernels) echo 110 ;; table) echo 240 ;; *) echo 120 ;; esac; }
declare -A RC DUR
exec 1>&3 2>&4
for s in "${SUITES[@]}"; do
  up=$(echo "$s" | tr 'a-z-' 'A-Z_')
  av="KNET_${up}_ARGS"; tv="KNET_${up}_TIMEOUT"
  args=${!av-$(default_args "$s")}
  t=${!tv:-$(default_timeout "$s")}
  left=$((BUDGET - (SECONDS - T0) - 20))
  [ $t -le $left ] || t=$left
  log="$OUT/$s.log"
  if [ $t -lt 20 ]; then
    echo "[device-run] $s: skipped, ${left}s left of the ${BUDGET}s budget" | tee "$log"
    RC[$s]=skipped; DUR[$s]=0; continue
  fi
  outarg=()
  grep -q parseBenchArgs "bench/$s.ts" 2>/dev/null && outarg=(--out "$RES/$s")
  # shellcheck disable=SC2086
  echo "[device-run +$((SECONDS - T0))s] $s: node --import tsx bench/main.ts $s $args ${outarg[*]} (timeout ${t}s)" | tee "$log" | tee -a "$SETUP_LOG"
  t1=$SECONDS
  # shellcheck disable=SC2086
  timeout -k 15 "$t" node --import tsx bench/main.ts "$s" $args "${outarg[@]}" 2>&1 | tee -a "$log"
  rc=$?
  [ $rc = 124 ] && echo "[device-run] $s: TIMED OUT after ${t}s" | tee -a "$log"
  RC[$s]=$rc; DUR[$s]=$((SECONDS - t1))
  echo "[device-run +$((SECONDS - T0))s] $s: rc $rc in ${DUR[$s]}s" | tee -a "$log" | tee -a "$SETUP_LOG"
done

# 5. files back (at most 8, flat) -----------------------------------------------------------
n=$(find "$OUT" -maxdepth 1 -type f | wc -l)
if [ -n "$(find "$RES" -type f 2>/dev/null | head -1)" ]; then
  tar -C "$RES" -czf "$OUT/results.tgz" . && n=$((n + 1))
  for f in $(find "$RES" -type f -name '*.json' | sort); do
    [ $n -lt 8 ] || break
    b=$(basename "$f"); [ -e "$OUT/$b" ] && b="$(basename "$(dirname "$f")")-$b"
    cp "$f" "$OUT/$b" && n=$((n + 1))
  done
fi
echo
echo "[device-run] done in $((SECONDS - T0))s; files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
fail=0
for s in "${SUITES[@]}"; do
  echo "[device-run]   $s: rc ${RC[$s]} in ${DUR[$s]}s"
  [ "${RC[$s]}" = 0 ] || fail=1
done
rm -rf "$RES"
exit $fail
