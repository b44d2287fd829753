// `npm run bench -- lenet [--quick] [--batches N]`: the seed's LeNet on MNIST (batch 100,
// SGD lr 0.1): seconds per epoch for knet (plain SIMD and relaxed SIMD builds) and, where
// `import torch` works, PyTorch on one thread (torch.set_num_threads(1)), the same model
// on the same batches in the same order; and the conv4/pool kernels of its layers alone,
// forward and backward, in ms and GFLOP/s, next to PyTorch's (aten) kernels.
//
// Every column runs in its own child process (knet picks its kernel build at import time
// from KNET_WASM). A child builds its batches before timing, warms up on throwaway
// weights, then trains from the seed's initialisation for N batches (default 600, one
// epoch; --quick: 100, scaled to 600) and reports wall and CPU seconds and the test
// accuracy after a full epoch. The arithmetic floor is the epoch's FLOPs (every conv and
// dense product the training step computes; no dx for the input) at this machine's
// measured single-thread f32x4 peak (bench/peak.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { argValue } from './harness/args.js';
import { PY_BLAS, torchEnv } from './harness/torch-blas.js';
import { measurePeak } from './peak.js';

const BATCH = 100, LR = 0.1, EPOCH_BATCHES = 600;

// The layers, batch 100: [name, x shape, w shape] for the convolutions, x shape for pools.
const CONVS: [string, number[], number[]][] = [['conv1 5x5 1->20', [BATCH, 1, 28, 28], [20, 1, 5, 5]], ['conv2 5x5 20->50', [BATCH, 20, 12, 12], [50, 20, 5, 5]]];
const POOLS: [string, number[]][] = [['pool1 2x2 max', [BATCH, 20, 24, 24]], ['pool2 2x2 max', [BATCH, 50, 8, 8]]];

/** FLOPs of one conv product (all three have the same count): 2·N·O·Ho·Wo·C·kh·kw. */
function convFlops(x: number[], w: number[]): number {
  const Ho = x[2] - w[2] + 1, Wo = x[3] - w[3] + 1;
  return 2 * x[0] * w[0] * Ho * Wo * w[1] * w[2] * w[3];
}
/** Pooling "FLOPs": one compare or add per window pixel. */
const poolFlops = (x: number[]) => x[0] * x[1] * x[2] * x[3];

/** One training step: conv1 forward + filter gradient, conv2 all three, dense forward + dW + dx. */
function stepFlops(): number {
  const [c1, c2] = CONVS.map(([, x, w]) => convFlops(x, w));
  const d1 = 2 * BATCH * 800 * 500, d2 = 2 * BATCH * 500 * 10;
  return 2 * c1 + 3 * c2 + 3 * d1 + 3 * d2;
}

interface KernelTime { name: string; ms: number; flops: number }
interface Result {
  framework: string; info: string; batches: number;
  wall: number; cpu: number; // seconds for the timed batches
  testAcc: number | null; kernels: KernelTime[];
}

/** Median seconds per call of fn: samples of enough calls to last ~minTime/samples each. */
function timeCall(fn: () => void, minTime: number): number {
  fn(); fn();
  let reps = 1;
  for (;;) { const t0 = performance.now(); for (let i = 0; i < reps; i++) fn(); if (performance.now() - t0 > 20) break; reps *= 2; }
  const samples: number[] = [];
  const end = performance.now() + minTime * 1000;
  while (samples.length < 5 || performance.now() < end) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    samples.push((performance.now() - t0) / reps / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

// ---------------------------------------------------------------------------------------
// The knet child

async function knetChild(args: string[]): Promise<void> {
  const K = await import('../ts/index.js');
  const { cpuDevice } = await import('../ts/device/cpu.js');
  const { convGeometry } = await import('../ts/nn/conv.js');
  const { poolGeometry } = await import('../ts/nn/pool.js');
  type Tensor = InstanceType<typeof K.Tensor>;
  const batches = Number(argValue(args, '--batches'));
  const minTime = Number(argValue(args, '--min-time'));

  // kernels alone, through the device (no autograd, no allocation in the timed calls)
  const kernels: KernelTime[] = [];
  const dev = cpuDevice;
  for (const [name, xs, ws] of CONVS) {
    const x = K.rand(xs), w = K.sub(K.rand(ws), 0.5);
    const g = convGeometry(w, x, {});
    const y = K.zeros([g.N, g.O, g.Ho, g.Wo]), dx = K.zeros(xs), dw = K.zeros(ws);
    const flops = convFlops(xs, ws);
    kernels.push({ name: `${name} forward`, flops, ms: 1000 * timeCall(() => dev.conv4(w, x, y, g), minTime) });
    kernels.push({ name: `${name} backward filter`, flops, ms: 1000 * timeCall(() => dev.conv4Filter(x, y, dw, g), minTime) });
    kernels.push({ name: `${name} backward data`, flops, ms: 1000 * timeCall(() => dev.conv4Data(w, y, dx, g), minTime) });
    for (const t of [x, w, y, dx, dw]) t.dispose();
  }
  for (const [name, xs] of POOLS) {
    const x = K.rand(xs), g = poolGeometry(x, {});
    const y = K.zeros([g.N, g.C, g.Ho, g.Wo]), dx = K.zeros(xs);
    kernels.push({ name: `${name} forward`, flops: poolFlops(xs), ms: 1000 * timeCall(() => dev.pool(x, y, g), minTime) });
    kernels.push({ name: `${name} backward`, flops: poolFlops(xs), ms: 1000 * timeCall(() => dev.poolBackward(x, y, y, dx, g), minTime) });
    for (const t of [x, y, dx]) t.dispose();
  }

  // the epoch, as examples/lenet.ts writes it
  const data = await K.mnist();
  const n = Math.min(60000, batches * BATCH);
  const dtrn = K.minibatch({ data: data.xtrn.subarray(0, n * 784), shape: [n, 1, 28, 28] }, { data: data.ytrn.subarray(0, n), shape: [n] }, BATCH, { axis: 0 });
  const dtst = K.minibatch({ data: data.xtst, shape: [10000, 1, 28, 28] }, { data: data.ytst, shape: [10000] }, BATCH, { axis: 0 });
  const predict = (w: Tensor[], x0: Tensor) => {
    const x1 = K.pool(K.relu(K.add(K.conv4(w[0], x0), w[1])));
    const x2 = K.pool(K.relu(K.add(K.conv4(w[2], x1), w[3])));
    const x3 = K.relu(K.add(K.matmul(w[4], K.mat(x2), false, true), w[5]));
    return K.add(K.matmul(w[6], x3), w[7]);
  };
  const lossgrad = K.gradloss((w: Tensor[], x: Tensor, y: Tensor) => K.nll(predict(w, x), y));
  const init = () => {
    K.setSeed(1);
    const u = (...s: number[]) => K.tidy(() => K.sub(K.mul(K.rand(s), 0.2), 0.1));
    return [u(20, 1, 5, 5), K.zeros(1, 20, 1, 1), u(50, 20, 5, 5), K.zeros(1, 50, 1, 1), u(500, 800), K.zeros(500, 1), u(10, 500), K.zeros(10, 1)];
  };
  const train = (w: Tensor[], count: number) => {
    const opts = K.optimizers(w, K.Sgd, { lr: LR });
    for (let b = 0; b < count; b++) {
      const [x, y] = dtrn.batches[b % dtrn.length];
      const [g, l] = lossgrad(w, x, y);
      K.update(w, g, opts);
      l.item();
      l.dispose();
    }
  };
  const warm = init();
  train(warm, 10);
  for (const t of warm) t.dispose();
  const w = init();
  const c0 = process.cpuUsage(), t0 = performance.now();
  train(w, batches);
  const wall = (performance.now() - t0) / 1000, cpu = process.cpuUsage(c0).user / 1e6;
  let testAcc: number | null = null;
  if (batches >= EPOCH_BATCHES) {
    let hits = 0;
    for (const [x, y] of dtst) K.tidy(() => { hits += K.accuracy(predict(w, x), y) * y.size; });
    testAcc = hits / 10000;
  }
  const result: Result = { framework: `knet ${K.simdLevel()}`, info: `knet cpu device, ${K.simdLevel()} build`, batches, wall, cpu, testAcc, kernels };
  console.log('RESULT ' + JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------
// The PyTorch child (Python), given the same batches as raw float32/int32 files

const TORCH_SCRIPT = String.raw`
import json, sys, time
import numpy as np, torch, torch.nn.functional as F
${PY_BLAS}
set_threads(1)
xfile, yfile, xtfile, ytfile, batches, min_time = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
B = 100
X = torch.from_numpy(np.fromfile(xfile, dtype=np.float32).reshape(-1, 1, 28, 28))
Y = torch.from_numpy(np.fromfile(yfile, dtype=np.int32).astype(np.int64))
XT = torch.from_numpy(np.fromfile(xtfile, dtype=np.float32).reshape(-1, 1, 28, 28))
YT = torch.from_numpy(np.fromfile(ytfile, dtype=np.int32).astype(np.int64))
nb = X.shape[0] // B
data = [(X[i*B:(i+1)*B].contiguous(), Y[i*B:(i+1)*B].contiguous()) for i in range(nb)]

def timecall(f):
    f(); f()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps): f()
        if time.perf_counter() - t0 > 0.02: break
        reps *= 2
    samples, end = [], time.perf_counter() + min_time
    while len(samples) < 5 or time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(reps): f()
        samples.append((time.perf_counter() - t0) / reps)
    samples.sort()
    return samples[len(samples) // 2]

kernels = []
with torch.no_grad():
    for name, xs, ws in json.loads(sys.argv[7]):
        x, w = torch.rand(*xs), torch.rand(*ws) - 0.5
        y = F.conv2d(x, w)
        flops = 2 * xs[0] * ws[0] * y.shape[2] * y.shape[3] * ws[1] * ws[2] * ws[3]
        bw = lambda mask: torch.ops.aten.convolution_backward(y, x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, mask)
        kernels.append({'name': name + ' forward', 'flops': flops, 'ms': 1000 * timecall(lambda: F.conv2d(x, w))})
        kernels.append({'name': name + ' backward filter', 'flops': flops, 'ms': 1000 * timecall(lambda: bw([False, True, False]))})
        kernels.append({'name': name + ' backward data', 'flops': flops, 'ms': 1000 * timecall(lambda: bw([True, False, False]))})
    for name, xs in json.loads(sys.argv[8]):
        x = torch.rand(*xs)
        y, idx = torch.ops.aten.max_pool2d_with_indices(x, [2, 2], [2, 2], [0, 0], [1, 1], False)
        flops = xs[0] * xs[1] * xs[2] * xs[3]
        kernels.append({'name': name + ' forward', 'flops': flops, 'ms': 1000 * timecall(lambda: torch.ops.aten.max_pool2d_with_indices(x, [2, 2], [2, 2], [0, 0], [1, 1], False))})
        kernels.append({'name': name + ' backward', 'flops': flops, 'ms': 1000 * timecall(lambda: torch.ops.aten.max_pool2d_with_indices_backward(y, x, [2, 2], [2, 2], [0, 0], [1, 1], False, idx))})

def init():
    g = torch.Generator().manual_seed(1)
    u = lambda *s: (torch.rand(*s, generator=g) * 0.2 - 0.1).requires_grad_()
    z = lambda *s: torch.zeros(*s, requires_grad=True)
    return [u(20, 1, 5, 5), z(20), u(50, 20, 5, 5), z(50), u(500, 800), z(500), u(10, 500), z(10)]

def predict(w, x):
    x1 = F.max_pool2d(F.relu(F.conv2d(x, w[0], w[1])), 2)
    x2 = F.max_pool2d(F.relu(F.conv2d(x1, w[2], w[3])), 2)
    x3 = F.relu(F.linear(x2.flatten(1), w[4], w[5]))
    return F.linear(x3, w[6], w[7])

def train(w, count):
    for b in range(count):
        x, y = data[b % nb]
        loss = F.cross_entropy(predict(w, x), y)
        loss.backward()
        with torch.no_grad():
            for p in w:
                p -= 0.1 * p.grad
                p.grad = None
        loss.item()

train(init(), 10)
w = init()
c0, t0 = time.process_time(), time.perf_counter()
train(w, batches)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
acc = None
if batches >= 600:
    with torch.no_grad():
        acc = float((predict(w, XT).argmax(1) == YT).float().mean())
print('RESULT ' + json.dumps({'framework': 'PyTorch', 'info': 'PyTorch %s, %d thread, BLAS: %s' % (torch.__version__, torch.get_num_threads(), BLAS),
    'batches': batches, 'wall': wall, 'cpu': cpu, 'testAcc': acc, 'kernels': kernels}))
`;

/** A Python that can `import torch`, or null. */
function findTorchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

async function torchChild(py: string, batches: number, minTime: number): Promise<Result | string> {
  const { mnist } = await import('../ts/data/datasets.js');
  const data = await mnist();
  const dir = mkdtempSync(join(tmpdir(), 'knet-lenet-'));
  try {
    const n = Math.min(60000, batches * BATCH);
    const file = (name: string, a: Float32Array | Int32Array) => {
      const p = join(dir, name);
      writeFileSync(p, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      return p;
    };
    const script = join(dir, 'lenet.py');
    writeFileSync(script, TORCH_SCRIPT);
    const out = execFileSync(py, [script, file('x', data.xtrn.subarray(0, n * 784)), file('y', data.ytrn.subarray(0, n)),
      file('xt', data.xtst), file('yt', data.ytst), String(batches), String(minTime), JSON.stringify(CONVS), JSON.stringify(POOLS)],
    { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...torchEnv() } });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    return line ? JSON.parse(line.slice(7)) : `no result: ${out.slice(-300)}`;
  } catch (e) {
    return `failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function knetRun(build: 'simd' | 'relaxed', batches: number, minTime: number): Result | string {
  const script = fileURLToPath(import.meta.url);
  try {
    const out = execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), script, '--child', '--batches', String(batches), '--min-time', String(minTime)],
      // one thread, as its PyTorch column (the threads suite compares thread counts)
      { encoding: 'utf8', env: { ...process.env, KNET_WASM: build, KNET_THREADS: '1' }, maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    return line ? JSON.parse(line.slice(7)) : `no result: ${out.slice(-300)}`;
  } catch (e) {
    return `failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

// ---------------------------------------------------------------------------------------
// The parent: run the children, print Markdown tables

const f1 = (x: number) => x.toFixed(1), f2 = (x: number) => x.toFixed(2);

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const batches = Number(argValue(args, '--batches') ?? (quick ? 100 : EPOCH_BATCHES));
  if (!Number.isInteger(batches) || batches < 1 || batches > EPOCH_BATCHES) throw new Error('--batches must be an integer in [1, 600]');
  const minTime = quick ? 0.3 : 1;
  const before = await measurePeak({ quick });
  const py = findTorchPython();
  const cols: [string, Result | string][] = [
    ['knet SIMD', knetRun('simd', batches, minTime)],
    ['knet relaxed SIMD', knetRun('relaxed', batches, minTime)],
  ];
  cols.push(['PyTorch 1 thread', py ? await torchChild(py, batches, minTime) : 'skipped: no python3 with torch (Debian: apt-get install python3-torch)']);
  // measured before and after the runs, keeping the better: another process sharing the
  // core lowers a peak measurement, which would flatter the ratios to the floor
  const after = await measurePeak({ quick });
  const peak = { mulAdd: Math.max(before.mulAdd, after.mulAdd), fma: before.fma === null ? null : Math.max(before.fma, after.fma ?? 0) };
  const ok = cols.filter((c): c is [string, Result] => typeof c[1] !== 'string');
  for (const [title, r] of cols) if (typeof r === 'string') console.log(`${title}: ${r}`);

  const scale = EPOCH_BATCHES / batches;
  const flops = stepFlops() * EPOCH_BATCHES;
  const floorFma = flops / (peak.fma ?? peak.mulAdd) / 1e9, floorMulAdd = flops / peak.mulAdd / 1e9;
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`);
  for (const [, r] of ok) console.log(`${r.framework}: ${r.info}`);
  console.log(`f32x4 peak (1 thread): mul+add ${f1(peak.mulAdd)} GFLOP/s, FMA ${peak.fma ? f1(peak.fma) + ' GFLOP/s' : 'n/a'}`);
  console.log(`epoch: ${f1(flops / 1e9)} GFLOP (600 × ${f1(stepFlops() / 1e6)} MFLOP); floor ${f1(floorMulAdd)} s at the mul+add peak, ` +
    `${f1(floorFma)} s at the FMA peak` + (batches < EPOCH_BATCHES ? `; timed ${batches} batches, scaled to 600` : ''));
  console.log('');
  console.log(`| LeNet, 1 epoch (600 batches of 100) | ${ok.map(([t]) => t).join(' | ')} |`);
  console.log(`|---|${ok.map(() => '---:').join('|')}|`);
  console.log(`| seconds (wall) | ${ok.map(([, r]) => f1(r.wall * scale)).join(' | ')} |`);
  console.log(`| seconds (CPU) | ${ok.map(([, r]) => f1(r.cpu * scale)).join(' | ')} |`);
  console.log(`| GFLOP/s (wall) | ${ok.map(([, r]) => f1(flops / (r.wall * scale) / 1e9)).join(' | ')} |`);
  console.log(`| × floor at the mul+add peak | ${ok.map(([, r]) => f2(r.wall * scale / floorMulAdd)).join(' | ')} |`);
  console.log(`| × floor at the FMA peak | ${ok.map(([, r]) => f2(r.wall * scale / floorFma)).join(' | ')} |`);
  console.log(`| test accuracy | ${ok.map(([, r]) => (r.testAcc === null ? '–' : r.testAcc.toFixed(4))).join(' | ')} |`);
  console.log('');
  console.log(`| kernel (batch 100) | ${ok.map(([t]) => `${t} ms | GFLOP/s`).join(' | ')} |`);
  console.log(`|---|${ok.map(() => '---:|---:').join('|')}|`);
  const names = ok[0]?.[1].kernels.map((k) => k.name) ?? [];
  for (const name of names) {
    const cells = ok.map(([, r]) => {
      const k = r.kernels.find((q) => q.name === name);
      return k ? `${f2(k.ms)} | ${f1(k.flops / k.ms / 1e6)}` : '– | –';
    });
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--child')) {
  await knetChild(process.argv.slice(2));
}
