#!/usr/bin/env python3
"""The CharLM benchmark model in PyTorch, on the CPU: nn.Embedding + nn.LSTM + nn.Linear,
CrossEntropyLoss (mean over positions), each parameter's gradient clipped to norm `gclip`
(as knet's and TF.js's runs do), torch.optim.Adam; BPTT over windows of the text cut as
examples/charlm.ts cuts them (batch streams, time first), the LSTM state carried from one
window to the next (gradients stop there).

CLI (the shared options of bench/charlm.ts):
  python3 bench/charlm_torch.py [--threads 1] [--text tinyshakespeare|PATH] [--embed 256]
      [--hidden 256] [--batch 128] [--seqlen 100] [--windows 8] [--warmup 2] [--lr 0.002]
      [--gclip 5] [--serve]
prints one line of JSON (CharlmResult in bench/charlm.ts): per-window ms of the forward pass
(to the loss), backward (loss.backward()), update (clipping + Adam step), their medians, and
the process's CPU (time.process_time) and wall-clock time per window. --serve: READY, one
window per `window` line on stdin (answered `WINDOW {json}`), the result after `done`.
On Debian the python3-torch package is importable from /usr/bin/python3.
"""
import argparse
import json
import os
import sys
import time

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--threads', type=int, default=1)
p.add_argument('--text', default='tinyshakespeare')
p.add_argument('--embed', type=int, default=256)
p.add_argument('--hidden', type=int, default=256)
p.add_argument('--batch', type=int, default=128)
p.add_argument('--seqlen', type=int, default=100)
p.add_argument('--windows', type=int, default=8)
p.add_argument('--warmup', type=int, default=2)
p.add_argument('--lr', type=float, default=0.002)
p.add_argument('--gclip', type=float, default=5.0)
p.add_argument('--serve', action='store_true')
a = p.parse_args()

# A BLAS that starts its own threads (OpenBLAS's pthread build) reads these when it loads,
# and torch.set_num_threads does not reach it in a build whose BLAS is 'generic' (Debian's).
for var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(var, str(a.threads))
import torch  # noqa: E402

torch.set_num_threads(a.threads)
torch.manual_seed(1)

bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'text', a.text + '.txt')
with open(bundled if os.path.exists(bundled) else a.text, encoding='utf-8') as f:
    text = f.read()
if text.startswith('\ufeff'):
    text = text[1:]
vocab = sorted(set(text))
index = {c: i for i, c in enumerate(vocab)}
V, E, H, B, T = len(vocab), a.embed, a.hidden, a.batch, a.seqlen
ids = torch.tensor([index[c] for c in text], dtype=torch.long)
stream = len(ids) // B
data = ids[:stream * B].view(B, stream).t().contiguous()  # [stream, B]: column b is stream b
nwin = (stream - 1) // T
if nwin < 1:
    sys.exit('charlm_torch: the text has too few characters for one %dx%d window' % (B, T))

emb, lstm, out = torch.nn.Embedding(V, E), torch.nn.LSTM(E, H), torch.nn.Linear(H, V)
params = list(emb.parameters()) + list(lstm.parameters()) + list(out.parameters())
opt = torch.optim.Adam(params, lr=a.lr)
criterion = torch.nn.CrossEntropyLoss()


def blas_library():
    """The BLAS this process loaded (Debian's torch links libblas.so.3, which is whichever
    implementation the alternatives system or LD_LIBRARY_PATH points at)."""
    torch.ones(8, 8) @ torch.ones(8, 8)
    with open('/proc/self/maps') as f:
        libs = sorted({l.split()[-1] for l in f if l.rstrip().endswith('.so') or '.so.' in l})
    found = [l for l in libs if 'blas' in l.lower() or 'mkl' in l.lower() or 'blis' in l.lower()]
    path = next((l for l in found if 'openblas' in l.lower() or 'mkl' in l.lower() or 'blis' in l.lower()), found[0] if found else '')
    real = os.path.realpath(path) if path else ''
    low = real.lower()
    kind = ('OpenBLAS' if 'openblas' in low else 'MKL' if 'mkl' in low else 'BLIS' if 'blis' in low
            else 'reference BLAS' if 'blas' in low else 'built-in gemm')
    return kind, real


blas, blas_path = blas_library()
name = 'PyTorch %s, %d thread%s, %s' % (torch.__version__, a.threads, '' if a.threads == 1 else 's', blas)
info = 'PyTorch %s cpu, %d thread(s), BLAS %s (%s)' % (torch.__version__, torch.get_num_threads(), blas, blas_path or 'none found')
state = None
warm, times = [], []


def window(k):
    global state
    s = (k % nwin) * T
    if k % nwin == 0:
        state = None  # a new epoch starts from zeros
    x, y = data[s:s + T], data[s + 1:s + T + 1]
    w0, t0 = time.perf_counter(), time.process_time()
    ys, (h, c) = lstm(emb(x), state)
    loss = criterion(out(ys).view(-1, V), y.reshape(-1))
    t1 = time.process_time()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    t2 = time.process_time()
    for q in params:
        torch.nn.utils.clip_grad_norm_([q], a.gclip)
    opt.step()
    value = loss.item()
    state = (h.detach(), c.detach())
    t3, w3 = time.process_time(), time.perf_counter()
    return {'forward': (t1 - t0) * 1e3, 'backward': (t2 - t1) * 1e3, 'update': (t3 - t2) * 1e3,
            'cpu': (t3 - t0) * 1e3, 'wall': (w3 - w0) * 1e3, 'loss': value}


def one(k):
    t = window(k)
    (warm if k < a.warmup else times).append(t)
    sys.stderr.write('  %s: %s %d: %.0f ms wall, %.0f ms cpu, loss %.4f\n' % (
        name, 'warm-up' if k < a.warmup else 'window', k + 1, t['wall'], t['cpu'], t['loss']))
    sys.stderr.flush()
    return t


def median(v):
    s = sorted(v)
    m = len(s) // 2
    return float('nan') if not s else s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


k = 0
if not a.serve:
    while k < a.warmup + a.windows:
        one(k)
        k += 1
else:
    print('READY', flush=True)
    for line in sys.stdin:
        line = line.strip()
        if line == 'window':
            print('WINDOW ' + json.dumps(one(k)), flush=True)
            k += 1
        elif line == 'done':
            break

med = lambda key: median([t[key] for t in times]) if times else None
cpu, wall = med('cpu'), med('wall')
print(json.dumps({
    'name': name, 'framework': 'pytorch', 'device': 'cpu', 'mode': 'rows', 'basis': 'cpu', 'info': info,
    'blas': blas, 'vocab': V, 'embed': E, 'hidden': H, 'batch': B, 'seqlen': T, 'warmupTimes': warm, 'times': times,
    'forward': med('forward'), 'backward': med('backward'), 'update': med('update'), 'cpu': cpu, 'wall': wall,
    'window': cpu, 'loss': (times or warm or [{'loss': None}])[-1]['loss'],
}), flush=True)
