// Benchmark CLI: `npm run bench -- <suite> [options]`. Each suite is a module
// bench/<suite>.ts exporting `run(args)`; add a suite by adding a file and a line below.

interface Suite {
  describe: string;
  load: () => Promise<{ run(args: string[]): Promise<void> }>;
}

// Loaded lazily so that one suite's heavy imports (TensorFlow.js) cost nothing to others.
const suites: Record<string, Suite> = {
  gemm: { describe: 'f32 matrix multiply vs. the f32x4 peak and TensorFlow.js wasm', load: () => import('./gemm.js') },
  gpu: { describe: 'gpu device (WebGPU) vs. TensorFlow.js webgpu: gemm, softmax, MLP epoch', load: () => import('./gpu.js') },
  train: { describe: 'seconds per MNIST epoch (softmax, MLP): knet vs TensorFlow.js and jax-js', load: () => import('./train.js') },
  charlm: { describe: 'ms per 128x100 CharLM window (embedding/LSTM 256) vs. the floor and PyTorch', load: () => import('./charlm.js') },
  lenet: { describe: 'seconds per LeNet epoch and its conv4/pool kernels: knet vs PyTorch (1 thread)', load: () => import('./lenet.js') },
  tape: { describe: 'the seed\'s "under the hood" table: cumulative forward op times, +recording, +backprop', load: () => import('./tape.js') },
  threads: { describe: 'the cpu device on 1 vs 2 threads: hand-off, crossovers, gemm, MLP/LeNet/CharLM training, PyTorch beside', load: () => import('./threads.js') },
  table: { describe: 'the seed\'s benchmark table: seconds to train its five models, knet cpu/gpu vs TF.js, jax-js, PyTorch', load: () => import('./table.js') },
  kernels: { describe: 'gemm, conv4, pool, reduction, elementwise throughput per device vs the wasm peak and TF.js', load: () => import('./kernels.js') },
  conv: { describe: 'the cpu device\'s conv4 kernels on padded stride-1 shapes, the padded copy on and off by turns', load: () => import('./conv.js') },
  peak: { describe: 'the machine\'s single-thread f32x4 mul+add and FMA peak', load: () => import('./peak.js') },
};

function usage(): string {
  const names = Object.entries(suites).map(([name, s]) => `  ${name.padEnd(8)} ${s.describe}`);
  return ['usage: npm run bench -- <suite> [--quick]', 'suites:', ...names].join('\n');
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  console.log(usage());
} else if (!Object.hasOwn(suites, name)) {
  console.error(`unknown benchmark suite "${name}"\n${usage()}`);
  process.exitCode = 2;
} else {
  const suite = await suites[name].load();
  await suite.run(args);
}
