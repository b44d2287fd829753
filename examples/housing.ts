// The seed's linear regression on UCI Housing: 13 normalised features -> median value.
// Run: npx tsx examples/housing.ts [--steps 10] [--lr 0.1] [--device cpu|gpu]
import { add, grad, housing, initGpu, matmul, normalize, optimizers, randn, mul, setSeed, Sgd, sub, sumabs2, div,
  tensor, transpose, update, type DeviceName, type Tensor } from '../ts/index.js';
import { parseArgs } from './args.js';

const args = parseArgs({ steps: 10, lr: 0.1, seed: 1, device: 'cpu' });
if (args.device !== 'cpu' && args.device !== 'gpu') throw new Error('--device must be cpu or gpu');
const device = args.device as DeviceName;
if (device === 'gpu') await initGpu();
setSeed(args.seed);

const { x: raw, y: target, shape } = await housing();
const [rows, cols] = shape.x;
// the seed: x = rawdata[:,1:13]'; x = (x .- mean(x,2)) ./ std(x,2); y = rawdata[:,14:14]'
const x = transpose(tensor(normalize(Float32Array.from(raw), rows, cols), [rows, cols], { device })); // [13, 506]
const y = tensor(Float32Array.from(target), [1, rows], { device });

const predict = (w: Tensor[], x: Tensor) => add(matmul(w[0], x), w[1]);
const loss = (w: Tensor[], x: Tensor, y: Tensor) => div(sumabs2(sub(y, predict(w, x))), y.shape[1]);
const lossgradient = grad(loss);

const w = [mul(randn(1, cols, { device }), 0.1), tensor([[0]], undefined, { device })];
const opts = optimizers(w, Sgd, { lr: args.lr });
for (let i = 1; i <= args.steps; i++) {
  update(w, lossgradient(w, x, y), opts);
  console.log(`step ${i}: loss ${(await loss(w, x, y).itemAsync()).toFixed(4)}`);
}
