// The `table` benchmark's PyTorch column: a Python child speaking the same step protocol
// as the TypeScript children (bench/train-common.ts `drive`: READY, then `warm S`,
// `steps N`, `quit`), on one thread (torch.set_num_threads(1)), each model written the
// way PyTorch's tutorials write it (nn modules, torch.optim, F.cross_entropy). The data
// are the same batches as the other columns', written to raw files in a temporary folder
// by `torchChild` before the child starts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PY_BLAS } from './harness/torch-blas.js';
import { BATCH, CHARLM, LINREG, LR, type Model, charWindows, housingData, rowBatches } from './train-common.js';

export const TORCH_SCRIPT = String.raw`
import json, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
${PY_BLAS}
set_threads(1)
torch.manual_seed(1)
model, d = sys.argv[1], sys.argv[2]
cfg = json.loads(sys.argv[3])
load = lambda name, dt: np.fromfile(d + '/' + name, dtype=dt)

def uniform_(m):
    # the seed's initialisation for the dense models and LeNet: weights in ±0.1, zero biases
    for name, p in m.named_parameters():
        with torch.no_grad():
            if name.endswith('bias'): p.zero_()
            else: p.uniform_(-0.1, 0.1)
    return m

state = None
if model == 'linreg':
    X = torch.from_numpy(load('x.bin', np.float32).reshape(cfg['rows'], cfg['cols']))
    Y = torch.from_numpy(load('y.bin', np.float32).reshape(cfg['rows'], 1))
    net = nn.Linear(cfg['cols'], 1)
    with torch.no_grad():
        net.weight.normal_(0, 0.1); net.bias.zero_()
    data = [(X, Y)]
    opt = torch.optim.SGD(net.parameters(), lr=cfg['lr'])
    loss_fn = lambda x, y: ((y - net(x)) ** 2).sum() / x.shape[0]
elif model in ('softmax', 'mlp', 'lenet'):
    B = cfg['batch']
    shape = (-1, 1, 28, 28) if model == 'lenet' else (-1, 784)
    X = torch.from_numpy(load('x.bin', np.float32).reshape(*shape))
    Y = torch.from_numpy(load('y.bin', np.int32).astype(np.int64))
    data = [(X[i:i + B].contiguous(), Y[i:i + B].contiguous()) for i in range(0, X.shape[0], B)]
    if model == 'softmax': net = nn.Linear(784, 10)
    elif model == 'mlp': net = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    else: net = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    uniform_(net)
    opt = torch.optim.SGD(net.parameters(), lr=cfg['lr'])
    loss_fn = lambda x, y: F.cross_entropy(net(x), y)
elif model == 'charlm':
    V, T, B, E, H = cfg['vocab'], cfg['seqlen'], cfg['batch'], cfg['embed'], cfg['hidden']
    xs = torch.from_numpy(load('x.bin', np.int32).astype(np.int64)).view(-1, T, B)
    ys = torch.from_numpy(load('y.bin', np.int32).astype(np.int64)).view(-1, T * B)
    data = list(zip(xs, ys))
    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.lstm, self.out = nn.Embedding(V, E), nn.LSTM(E, H), nn.Linear(H, V)
        def forward(self, x, state):
            y, state = self.lstm(self.embed(x), state)
            return self.out(y).view(-1, V), state
    net = CharLM()
    opt = torch.optim.Adam(net.parameters(), lr=cfg['lr'])
    def loss_fn(x, y):
        global state
        scores, (h, c) = net(x, state)
        state = (h.detach(), c.detach())
        return F.cross_entropy(scores, y)
else:
    raise SystemExit('unknown model ' + model)

params = list(net.parameters())
nb, cursor = len(data), 0

def step(b):
    global state
    if model == 'charlm' and b == 0: state = None   # an epoch starts from zeros
    x, y = data[b]
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(x, y)
    loss.backward()
    if model == 'charlm':
        for p in params: torch.nn.utils.clip_grad_norm_([p], cfg['gclip'])
    opt.step()
    return loss

def run(n):
    global cursor
    t0 = time.perf_counter()
    last = None
    for _ in range(n):
        last = step(cursor % nb)
        cursor += 1
    v = last.item()
    return {'n': n, 'seconds': time.perf_counter() - t0, 'loss': v}

def warm(s, limit):
    first = run(1)
    n, seconds, per_step, last = 1, first['seconds'], first['seconds'], first
    if first['seconds'] <= limit:
        per_step, k, elapsed = float('inf'), 1, 0.0
        while k == 1 or elapsed < s / 2:
            last = run(k)
            n += k; seconds += last['seconds']; elapsed += last['seconds']
            per_step = min(per_step, last['seconds'] / k); k *= 2
    return {'n': n, 'seconds': seconds, 'perStep': per_step, 'loss': last['loss']}

info = 'PyTorch %s, %d thread, BLAS: %s' % (torch.__version__, torch.get_num_threads(), BLAS)
print('READY', flush=True)
failed = None
while True:
    line = sys.stdin.readline()
    if not line: break
    parts = line.split()
    if not parts: continue
    cmd = parts[0]
    if cmd in ('warm', 'steps'):
        if failed: reply = {'n': 0, 'seconds': 0, 'loss': None, 'error': failed}
        else:
            try:
                reply = warm(float(parts[1]), float(parts[2]) if len(parts) > 2 else float('inf')) if cmd == 'warm' else run(int(parts[1]))
                sys.stderr.write('  torch %s: %s %d steps %.3f s, loss %.4f\n' % (model, cmd, reply['n'], reply['seconds'], reply['loss']))
            except Exception as e:
                failed = ('%s: %s' % (type(e).__name__, e)).split('\n')[0][:300]
                reply = {'n': 0, 'seconds': 0, 'loss': None, 'error': failed}
        print(('WARM ' if cmd == 'warm' else 'STEPS ') + json.dumps(reply), flush=True)
    elif cmd in ('quit', 'done'):
        print('RESULT ' + json.dumps({'framework': 'pytorch', 'model': model, 'times': [], 'warmupTimes': [], 'losses': [],
                                      'testAcc': None, 'info': info, **({'skipped': 'cannot train: ' + failed} if failed else {})}), flush=True)
        break
`;

/** A Python that can `import torch` (Debian's /usr/bin/python3 with python3-torch), or null. */
export function findTorchPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function concat<T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * The command line of a PyTorch child for one model: the script and the model's data (the
 * same batches as every column: bench/train-common.ts) in a temporary folder that
 * `cleanup` removes.
 */
export async function torchChild(py: string, model: Model): Promise<{ command: string; args: string[]; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'knet-table-torch-'));
  const write = (name: string, a: Float32Array | Int32Array) => writeFileSync(join(dir, name), bytes(a));
  let cfg: Record<string, number>;
  if (model === 'linreg') {
    const h = await housingData();
    write('x.bin', h.x); write('y.bin', h.y);
    cfg = { rows: LINREG.rows, cols: LINREG.cols, lr: LINREG.lr };
  } else if (model === 'charlm') {
    const w = await charWindows();
    write('x.bin', concat(w.x, (n) => new Int32Array(n))); write('y.bin', concat(w.y, (n) => new Int32Array(n)));
    cfg = { vocab: w.vocab, seqlen: CHARLM.seqlen, batch: CHARLM.batch, embed: CHARLM.embed, hidden: CHARLM.hidden, lr: CHARLM.lr, gclip: CHARLM.gclip };
  } else {
    const d = await rowBatches();
    write('x.bin', concat(d.x, (n) => new Float32Array(n))); write('y.bin', concat(d.y, (n) => new Int32Array(n)));
    cfg = { batch: BATCH, lr: LR };
  }
  const script = join(dir, 'table.py');
  writeFileSync(script, TORCH_SCRIPT);
  return { command: py, args: ['-u', script, model, dir, JSON.stringify(cfg)], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
