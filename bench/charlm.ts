// `npm run bench -- charlm [--quick] [--windows N]`: the seed's CharLM benchmark model
// (embedding 256, one LSTM layer of 256, vocabulary 65 from tinyshakespeare), trained with
// BPTT on 128x100 windows as examples/charlm.ts does (Adam, gclip 5). Prints ms per window
// for the forward pass, the backward pass and the update, characters per second, GFLOP/s
// and the ratio to the floor (the window's FLOPs at this machine's measured f32x4 peak),
// for knet's plain-SIMD and relaxed-SIMD builds, and PyTorch on one thread where
// `python3 -c 'import torch'` works. Each framework runs in its own child process.
//
// knet runs the model two ways: 'rows', x = gather(embed, ids) then the input projection
// x·w_x on all T*B rows (what PyTorch's nn.Embedding + nn.LSTM do; 41.5 GFLOP a window),
// and 'folded', the example's rnnForward(w, ids, h, c, { embed }), which multiplies the
// embedding into w_x once (V = 65 rows) and gathers rows of that: the same function, 21.6
// GFLOP a window.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measurePeak } from './peak.js';
import type { Tensor } from '../ts/index.js';

const B = 128, T = 100, E = 256, H = 256;

interface Result {
  name: string;
  mode: Mode;
  /** medians over windows, in ms of the process's CPU time: forward, backward, update, window */
  forward: number; backward: number; update: number; cpu: number;
  /** the median window in wall-clock ms */
  wall: number;
  vocab: number;
  loss: number;
}

type Mode = 'rows' | 'folded';

/** 2 x multiply-adds of one window: forward (input projection, recurrence, output), backward twice that. */
function flops(V: number, mode: Mode): number {
  const input = mode === 'rows' ? T * B * E * 4 * H : V * E * 4 * H;
  return 3 * 2 * (input + T * B * (4 * H * H + H * V));
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

/** The knet side, in a child process (the kernel build is chosen when knet loads). */
async function child(windowsToTime: number, mode: Mode): Promise<void> {
  const K = await import('../ts/index.js');
  const { disposeState, encode, initModel, loss: folded, vocabulary, windows } = await import('../examples/charlm.js');
  type State = import('../examples/charlm.js').State;
  type Model = import('../examples/charlm.js').CharModel;
  // examples/charlm.ts's loss with the embedding rows gathered first
  const rows = (m: Model, ids: Tensor, targets: Tensor, state: State | null, out: { state?: State }) => {
    const r = K.rnnForward(m.rnn, K.gather(m.embed, ids), state?.h, state?.c);
    out.state = K.keep({ h: r.h, c: r.c });
    const scores = K.add(K.matmul(K.reshape(r.y, [T * B, H]), m.out.w), m.out.b);
    return K.nll(scores, targets, 1);
  };
  const loss = mode === 'rows' ? rows : folded;
  K.setSeed(1);
  const text = await K.text('tinyshakespeare');
  const vocab = vocabulary(text);
  const warm = 2;
  const ws = windows(encode(text, vocab), B, T).slice(0, warm + windowsToTime);
  const model = initModel(vocab.length, E, H, 1);
  const opts = K.optimizers(model, K.Adam, { lr: 0.002, gclip: 5 });
  const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
  let returned = 0;
  const timedLoss = (m: Model, ids: Tensor, targets: Tensor, state: State | null, out: { state?: State }) => {
    const l = loss(m, ids, targets, state, out);
    returned = cpuMs();
    return l;
  };
  const lossgrad = K.gradloss(timedLoss);
  const fw: number[] = [], bw: number[] = [], up: number[] = [], wall: number[] = [];
  let state: State | null = null, last = 0;
  ws.forEach((w, i) => {
    const x = K.tensor(w.x, [T, B], { dtype: 'int32' }), y = K.tensor(w.y, [T * B], { dtype: 'int32' });
    const out: { state?: State } = {};
    const w0 = performance.now(), t0 = cpuMs();
    const [g, l] = lossgrad(model, x, y, state, out);
    const t1 = cpuMs();
    K.update(model, g, opts);
    const t2 = cpuMs(), w2 = performance.now();
    last = l.item();
    l.dispose(); x.dispose(); y.dispose();
    disposeState(state);
    state = { h: out.state!.h.map((t) => K.copy(t)), c: out.state!.c.map((t) => K.copy(t)) };
    disposeState(out.state);
    if (i >= warm) { fw.push(returned - t0); bw.push(t1 - returned); up.push(t2 - t1); wall.push(w2 - w0); }
  });
  const r: Result = {
    name: `knet ${K.simdLevel()}, ${mode}`, mode, forward: median(fw), backward: median(bw), update: median(up),
    cpu: median(fw.map((f, i) => f + bw[i] + up[i])), wall: median(wall), vocab: vocab.length, loss: last,
  };
  console.log(JSON.stringify(r));
}

// PyTorch: the same model and protocol (nn.Embedding, nn.LSTM, nn.Linear, Adam lr 0.002,
// per-parameter clipping to norm 5, state carried between windows), one thread.
const TORCH = String.raw`
import json, sys, time, torch
torch.set_num_threads(1)
torch.manual_seed(1)
V, E, H, B, T, N = (int(a) for a in sys.argv[1:7])
text = open(sys.argv[7], encoding='utf-8').read()
vocab = sorted(set(text)); index = {c: i for i, c in enumerate(vocab)}
ids = torch.tensor([index[c] for c in text], dtype=torch.long)
stream = len(ids) // B
data = ids[:stream * B].view(B, stream).t().contiguous()   # [stream, B], time first
emb, lstm, out = torch.nn.Embedding(V, E), torch.nn.LSTM(E, H), torch.nn.Linear(H, V)
params = list(emb.parameters()) + list(lstm.parameters()) + list(out.parameters())
opt = torch.optim.Adam(params, lr=0.002)
state, fw, bw, up, wall, warm = None, [], [], [], [], 2
clock = time.process_time
for k in range(warm + N):
    x, y = data[k * T:(k + 1) * T], data[k * T + 1:(k + 1) * T + 1]
    w0, t0 = time.perf_counter(), clock()
    ys, (h, c) = lstm(emb(x), state)
    loss = torch.nn.functional.cross_entropy(out(ys).view(-1, V), y.reshape(-1))
    t1 = clock()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    t2 = clock()
    for p in params: torch.nn.utils.clip_grad_norm_([p], 5.0)
    opt.step()
    t3, w3 = clock(), time.perf_counter()
    state = (h.detach(), c.detach())
    if k >= warm: fw.append(t1 - t0); bw.append(t2 - t1); up.append(t3 - t2); wall.append(w3 - w0)
med = lambda a: sorted(a)[len(a) // 2] * 1000
print(json.dumps({'name': 'PyTorch %s, 1 thread' % torch.__version__, 'mode': 'rows', 'forward': med(fw), 'backward': med(bw),
                  'update': med(up), 'cpu': med([a + b + c for a, b, c in zip(fw, bw, up)]), 'wall': med(wall), 'vocab': V,
                  'loss': loss.item()}))
`;

function hasTorch(): boolean {
  return spawnSync('python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const wi = args.indexOf('--windows');
  const n = wi >= 0 ? Number(args[wi + 1]) : quick ? 3 : 8;
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  for (const build of ['simd', 'relaxed']) {
    for (const mode of ['rows', 'folded']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', String(n), mode], {
        encoding: 'utf8', env: { ...process.env, KNET_WASM: build }, stdio: ['ignore', 'pipe', 'inherit'],
      });
      results.push(JSON.parse(out.trim().split('\n').at(-1)!));
    }
  }
  let torchNote = '';
  if (hasTorch()) {
    const dir = mkdtempSync(join(tmpdir(), 'knet-bench-'));
    writeFileSync(join(dir, 'charlm.py'), TORCH);
    const textFile = fileURLToPath(new URL('../data/text/tinyshakespeare.txt', import.meta.url));
    const out = execFileSync('python3', [join(dir, 'charlm.py'), String(results[0].vocab), String(E), String(H), String(B), String(T), String(n), textFile],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    results.push(JSON.parse(out.trim().split('\n').at(-1)!));
  } else torchNote = 'PyTorch: skipped (`python3 -c \'import torch\'` fails on this machine).';

  const peak = await measurePeak({ quick });
  const V = results[0].vocab;
  const F = flops(V, 'rows');
  const floor = (p: number) => F / (p * 1e9) * 1e3;
  console.log(`CharLM window: batch ${B} x ${T} steps, embedding ${E}, hidden ${H}, vocabulary ${V}: ` +
    `${(F / 1e9).toFixed(1)} GFLOP forward+backward (${(flops(V, 'folded') / 1e9).toFixed(1)} folded); ` +
    `median of ${n} windows after 2 warm-up windows.`);
  console.log(`f32x4 peak, 1 thread: mul+add ${peak.mulAdd.toFixed(1)} GFLOP/s, FMA ${peak.fma?.toFixed(1) ?? 'n/a'} GFLOP/s. ` +
    `Floor = ${(F / 1e9).toFixed(1)} GFLOP at the peak of the build's arithmetic: ${floor(peak.mulAdd).toFixed(0)} ms (mul+add), ` +
    `${peak.fma ? floor(peak.fma).toFixed(0) : '-'} ms (FMA). "own floor": the FLOPs the run does, at that peak.\n`);
  console.log('Medians over windows. Times are the process\'s CPU time (this machine is shared, and time slices ' +
    'taken by other processes do not count); the wall-clock median is beside them.\n');
  console.log('| run | forward ms | backward ms | update ms | window ms | wall ms | chars/s | GFLOP done | GFLOP/s | × floor | × own floor |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const p = r.name.includes('relaxed') ? peak.fma : r.name.includes('simd') ? peak.mulAdd : null;
    const done = flops(V, r.mode);
    const own = p ? done / (p * 1e9) * 1e3 : null;
    console.log(`| ${r.name} | ${r.forward.toFixed(0)} | ${r.backward.toFixed(0)} | ${r.update.toFixed(1)} | ${r.cpu.toFixed(0)} | ` +
      `${r.wall.toFixed(0)} | ${Math.round(B * T / (r.cpu / 1e3))} | ${(done / 1e9).toFixed(1)} | ${(done / (r.cpu / 1e3) / 1e9).toFixed(1)} | ` +
      `${p ? (r.cpu / floor(p)).toFixed(2) : '-'} | ${own ? (r.cpu / own).toFixed(2) : '-'} |`);
  }
  if (torchNote) console.log(`\n${torchNote}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4] as Mode);
}
