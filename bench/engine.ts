/**
 * Training speed, each figure against a baseline measured in the same run on this machine:
 * 1. fer's framework cost: the reference CNN compiled from YAML and trained by fer's trainer (data
 *    pipeline included) vs the same model hand-written in tfjs (trainOnBatch), same backend;
 * 2. the native backend (fer's compiled model, optimizer and loss) vs Keras 3 on TensorFlow (Python, in
 *    the bench's own virtualenv, with oneDNN on and off) on the same model, batch and threads, for the
 *    reference CNN, ResNet-18 and a batch-norm VGG-style CNN;
 * 3. wasm with fer's gradient kernels vs the pure-JS cpu backend, one training step.
 * fer's column runs its steps as the trainer does (one recorded TensorFlow function each,
 * graph-step.ts); the op-by-op rate is printed beside it.
 *   npm run bench -- engine            (BENCH_KERAS=0 skips the Keras part; BENCH_MODELS=reference_cnn,...
 *                                       measures only those models in part 2)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tfjs from '@tensorflow/tfjs';
import { compileModel } from '../src/compile/model-builder.js';
import { loadConfig } from '../src/config/load.js';
import { loadDataset } from '../src/data/load.js';
import { fitPreprocessor } from '../src/data/preprocess.js';
import { startEngine } from '../src/backend/backend.js';
import { buildLoss } from '../src/engine/loss.js';
import { buildOptimizer } from '../src/engine/optimizer.js';
import { defaultNativeCache } from '../src/setup/native-setup.js';
import { GraphStepRunner, graphStepsAvailable } from '../src/backend/native/graph-step.js';
import { trainModel } from '../src/engine/trainer.js';
import type { Tf } from '../src/core/tf.js';
import { handWrittenCnn, handWrittenResnet18 } from './baselines/reference-models.js';
import { printMachine } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const steps = Number(process.env.BENCH_STEPS ?? 20);
const batch = 32;

type StepLoss = (yTrue: tfjs.Tensor, yPred: tfjs.Tensor) => tfjs.Scalar;

/**
 * Images/s of `steps` batches of a train step on fixed random inputs (after two warm-up steps).
 * `optimizer` and `loss` default to what a hand-written tfjs model would use: tfjs's Adam and
 * tfjs-layers' categorical cross-entropy (the loss Keras's baseline trains with too).
 */
function stepRate(tf: Tf, model: tfjs.LayersModel, n = steps, size = batch, optimizer: tfjs.Optimizer = tf.train.adam(1e-4), loss?: StepLoss, graph = false): number {
  const lossOf: StepLoss = loss ?? ((yTrue, yPred) => tf.mean(tf.metrics.categoricalCrossentropy(yTrue, yPred)) as tfjs.Scalar);
  const x = tf.randomUniform([size, 48, 48, 1]);
  const y = tf.oneHot(tf.randomUniform([size], 0, 7, 'int32'), 7);
  const variables = model.trainableWeights.map((w) => w.read() as tfjs.Variable);
  // As fer's trainer runs it: one recorded TensorFlow function (graph-step.ts), with fer's optimizer.
  const preparable = optimizer as unknown as { prepare?: (v: readonly tfjs.Variable[]) => void };
  const runner = graph && graphStepsAvailable(tf) && preparable.prepare
    ? new GraphStepRunner(tf, { prepare: () => preparable.prepare!(variables), onFallback: (reason) => console.log(`   (steps op by op: ${reason})`) })
    : undefined;
  const once = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const base = lossOf(y, model.apply(x, { training: true }) as tfjs.Tensor);
        // The weight penalties (ResNet-18's L2 on every kernel), as Keras's fit and fer's trainer add them.
        const penalties = (model as unknown as { calculateLosses(): tfjs.Scalar[] }).calculateLosses();
        return penalties.length > 0 ? (tf.addN([base, ...penalties]) as tfjs.Scalar) : base;
      }, variables);
      optimizer.applyGradients(grads);
      return [value];
    });
  const step = () => {
    const [value] = runner ? runner.run([x, y], once) : once();
    value!.dataSync();
    value!.dispose();
  };
  step();
  step();
  const start = performance.now();
  for (let i = 0; i < n; i++) step();
  const rate = (n * size) / ((performance.now() - start) / 1000);
  tf.dispose([x, y]);
  runner?.dispose();
  optimizer.dispose();
  return rate;
}

function vggBn(tf: Tf, widths: number[]): tfjs.LayersModel {
  const input = tf.input({ shape: [48, 48, 1] });
  let x: tfjs.SymbolicTensor = input;
  for (const filters of widths) {
    for (let i = 0; i < 2; i++) {
      x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false }).apply(x) as tfjs.SymbolicTensor;
      x = tf.layers.batchNormalization().apply(x) as tfjs.SymbolicTensor;
      x = tf.layers.reLU().apply(x) as tfjs.SymbolicTensor;
    }
    x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfjs.SymbolicTensor;
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tfjs.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 7, activation: 'softmax' }).apply(x) as tfjs.SymbolicTensor });
}

const VGG_YAML = `
models:
  vgg_bn_16_32_64:
    layers:
      - use: conv_stack
        with: {filters: [16, 16], kernel_sizes: [3, 3], padding: same, batch_norm: true, pool: 2}
      - use: conv_stack
        with: {filters: [32, 32], kernel_sizes: [3, 3], padding: same, batch_norm: true, pool: 2}
      - use: conv_stack
        with: {filters: [64, 64], kernel_sizes: [3, 3], padding: same, batch_norm: true, pool: 2}
      - global_avg_pool2d
      - dense: {units: $classes, activation: softmax}
`;

/** A Python virtualenv with TensorFlow + Keras for the baseline (built once, cached outside the repo). */
function kerasPython(): string | undefined {
  const venv = process.env.FER_BENCH_VENV ?? path.join(path.dirname(defaultNativeCache()), 'bench-venv');
  const python = path.join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    console.log(`building the Keras virtualenv in ${venv} (tensorflow-cpu==2.21.0 from PyPI; once)...`);
    if (spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' }).status !== 0) return undefined;
    if (spawnSync(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', 'tensorflow-cpu==2.21.0'], { stdio: 'inherit' }).status !== 0) return undefined;
  }
  return python;
}

printMachine('engine');
const { tf, backend, reason } = await startEngine('auto');
console.log(`backend: ${backend} (${reason}); batch ${batch}, ${steps} steps after 2 warm-up steps`);

// 1. Framework cost on the reference CNN.
const synthetic = loadConfig(path.join(root, 'configs', 'cnn.yaml'), {
  overrides: [
    `data.source={synthetic: {rows_per_class: ${Math.ceil((steps * batch) / 7)}, splits: [bench], noise: 0.3}}`,
    'data.split={train: bench, test: null}',
    'data.class_weight=none',
    'training.epochs=2',
  ],
});
const { dataset } = await loadDataset({ data: synthetic.config.data!, seed: 0, cache: false });
const rows = Int32Array.from({ length: steps * batch }, (_, i) => i);
const ferModel = compileModel(synthetic, 'cnn', { tf, seed: 1 }).model;
const result = await trainModel({
  tf,
  registry: synthetic.registry,
  model: ferModel,
  training: synthetic.config.training,
  train: { dataset, rows, preprocessor: fitPreprocessor(synthetic.config.data!.preprocess, dataset, rows), batchSize: batch, shuffle: true, seed: 1 },
});
const ferCnn = result.history[1]!.images_per_second;
ferModel.dispose();
const handModel = handWrittenCnn(tf);
handModel.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
const hx = tf.randomUniform([batch, 48, 48, 1]);
const hy = tf.oneHot(tf.randomUniform([batch], 0, 7, 'int32'), 7);
await handModel.trainOnBatch(hx, hy);
await handModel.trainOnBatch(hx, hy);
const start = performance.now();
for (let i = 0; i < steps; i++) await handModel.trainOnBatch(hx, hy);
const handCnn = (steps * batch) / ((performance.now() - start) / 1000);
handModel.dispose();
console.log('\n1. framework cost, reference CNN, training images/s (same backend)');
console.log(`   hand-written tfjs trainOnBatch (baseline)   ${handCnn.toFixed(1)}`);
console.log(`   fer: YAML -> compiled model -> fer trainer  ${ferCnn.toFixed(1)}   ratio ${(ferCnn / handCnn).toFixed(2)}`);

// 2. Native backend vs Keras on the same TensorFlow.
// Rates on a shared machine move between runs, so fer and Keras are measured alternately,
// `repeats` times each, and the medians compared. Keras runs with TensorFlow's default (oneDNN on)
// and with oneDNN off, which is faster for some models here; fer is compared with the faster.
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
mkdirSync(path.join(root, 'runs', '.bench'), { recursive: true });
const vggFile = path.join(root, 'runs', '.bench', 'vgg.yaml');
writeFileSync(vggFile, `extends: ${path.join(root, 'configs', 'templates', 'cnn.yaml')}\n${VGG_YAML}`);
const allBuilders: Record<string, { fer: () => tfjs.LayersModel; portable?: () => tfjs.LayersModel; steps: number }> = {
  reference_cnn: { fer: () => compileModel(loadConfig(path.join(root, 'configs', 'cnn.yaml')), 'cnn', { tf }).model, steps },
  resnet18: { fer: () => compileModel(loadConfig(path.join(root, 'configs', 'resnet18.yaml')), 'resnet18', { tf }).model, portable: () => handWrittenResnet18(tf), steps: Math.max(5, steps / 2) },
  vgg_bn_16_32_64: { fer: () => compileModel(loadConfig(vggFile), 'vgg_bn_16_32_64', { tf }).model, portable: () => vggBn(tf, [16, 32, 64]), steps: steps * 2 },
};
const only = process.env.BENCH_MODELS?.split(',').map((m) => m.trim());
const unknown = only?.filter((m) => !(m in allBuilders)) ?? [];
if (unknown.length > 0) throw new Error(`BENCH_MODELS: unknown model ${unknown.join(', ')} (known: ${Object.keys(allBuilders).join(', ')})`);
const builders = Object.fromEntries(Object.entries(allBuilders).filter(([name]) => !only || only.includes(name)));
/** The median, or undefined for a column that was not measured (no Keras, no plain model). */
const median = (values: number[]): number | undefined => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const python = process.env.BENCH_KERAS === '0' ? undefined : kerasPython();
const kerasSettings = { 'oneDNN on': '1', 'oneDNN off': '0' } as const;
type KerasSetting = keyof typeof kerasSettings;
/** Keras's steady rate (first to last batch) and, for comparison, its rate over the whole fit() call. */
const kerasRate = (name: string, stepCount: number, oneDnn: string): { steady: number; fit: number } => {
  const out = execFileSync(python!, [path.join(root, 'bench', 'keras', 'train_throughput.py'), String(stepCount), String(batch), name], {
    encoding: 'utf8',
    // TensorFlow's start-up lines would bury the table; a failing run throws with its stderr.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', TF_ENABLE_ONEDNN_OPTS: oneDnn },
  });
  const parsed = JSON.parse(out.trim().split('\n').pop()!) as { images_per_second: number; fit_images_per_second: number };
  return { steady: parsed.images_per_second, fit: parsed.fit_images_per_second };
};
const ferLoss = buildLoss(tf, 'categorical_crossentropy');
const samples: Record<string, { fer: number[]; ferOpByOp: number[]; portable: number[]; keras: Record<KerasSetting, number[]>; kerasFit: Record<KerasSetting, number[]> }> = {};
for (let r = 0; r < repeats; r++) {
  for (const [name, b] of Object.entries(builders)) {
    const s = (samples[name] ??= { fer: [], ferOpByOp: [], portable: [], keras: { 'oneDNN on': [], 'oneDNN off': [] }, kerasFit: { 'oneDNN on': [], 'oneDNN off': [] } });
    const model = b.fer();
    // fer's column trains with the optimizer and loss fer's trainer builds (TensorFlow's fused Adam on this backend).
    s.fer.push(stepRate(tf, model, b.steps, batch, buildOptimizer(tf, synthetic.registry, { adam: { learning_rate: 1e-4 } }).optimizer, ferLoss, true));
    model.dispose();
    // The same with the step run op by op (engine.graph_steps: false): what recording the step gains.
    const again = b.fer();
    s.ferOpByOp.push(stepRate(tf, again, b.steps, batch, buildOptimizer(tf, synthetic.registry, { adam: { learning_rate: 1e-4 } }).optimizer, ferLoss, false));
    again.dispose();
    if (b.portable) {
      const baseline = b.portable();
      s.portable.push(stepRate(tf, baseline, b.steps));
      baseline.dispose();
    }
    if (python) {
      for (const [setting, value] of Object.entries(kerasSettings)) {
        const rate = kerasRate(name, b.steps, value);
        s.keras[setting as KerasSetting].push(rate.steady);
        s.kerasFit[setting as KerasSetting].push(rate.fit);
      }
    }
  }
}
console.log(`\n2. ${backend} backend vs Keras 3 on TensorFlow (Python), training images/s, median of ${repeats} alternating runs`);
// Every sample is shown: rates on a shared machine move between processes.
const spread = (values: number[]) => values.map((v) => v.toFixed(1)).join(' / ');
const column = (value: number | undefined, width: number) => (value === undefined ? 'n/a' : value.toFixed(1)).padStart(width);
console.log(`   ${'model'.padEnd(18)} ${'Keras'.padStart(9)} ${'Keras'.padStart(10)} ${'fer'.padStart(7)} ${'fer / faster'.padStart(13)}   plain tfjs model`);
console.log(`   ${''.padEnd(18)} ${'oneDNN on'.padStart(9)} ${'oneDNN off'.padStart(10)} ${''.padStart(7)} ${'Keras'.padStart(13)}   on the same backend`);
for (const name of Object.keys(builders)) {
  const s = samples[name]!;
  const on = median(s.keras['oneDNN on']);
  const off = median(s.keras['oneDNN off']);
  const faster = on === undefined || off === undefined ? undefined : Math.max(on, off);
  const ferRate = median(s.fer)!;
  const plain = median(s.portable);
  // Each repeat's fer/Keras ratio, from runs a minute apart: drift of the machine's speed between
  // repeats (±15% here within minutes) cancels in it, unlike in the ratio of the two medians.
  const fasterSetting: KerasSetting | undefined = faster === undefined ? undefined : on === faster ? 'oneDNN on' : 'oneDNN off';
  const paired = fasterSetting ? s.fer.map((f, r) => f / s.keras[fasterSetting][r]!) : [];
  console.log(
    `   ${name.padEnd(18)} ${column(on, 9)} ${column(off, 10)} ${column(ferRate, 7)} ${(faster ? (ferRate / faster).toFixed(2) : 'n/a').padStart(13)}   ${plain ? `${plain.toFixed(1)} (${faster ? `${(plain / faster).toFixed(2)}x` : 'no Keras'})` : ''}`,
  );
  console.log(`   ${''.padEnd(18)} samples: Keras on ${spread(s.keras['oneDNN on'])}; off ${spread(s.keras['oneDNN off'])}; fer ${spread(s.fer)}`);
  const opByOp = median(s.ferOpByOp)!;
  console.log(`   ${''.padEnd(18)} fer with its steps op by op (engine.graph_steps: false): ${opByOp.toFixed(1)}${faster ? ` (${(opByOp / faster).toFixed(2)} of Keras)` : ''}; samples ${spread(s.ferOpByOp)}`);
  if (fasterSetting) console.log(`   ${''.padEnd(18)} fer / Keras ${fasterSetting} within each repeat: ${paired.map((v) => v.toFixed(2)).join(' / ')} (median ${median(paired)!.toFixed(2)})`);
  // Over the whole fit() call, which in some processes idles for seconds after its last batch.
  if (python) console.log(`   ${''.padEnd(18)} Keras over the whole fit() call: on ${spread(s.kerasFit['oneDNN on'])}; off ${spread(s.kerasFit['oneDNN off'])}`);
}

// 3. wasm with fer's kernels vs cpu, one training step of the batch-norm VGG at batch 8.
const small = 8;
const wasm = await startEngine('wasm');
const wasmRate = stepRate(wasm.tf, vggBn(wasm.tf, [16, 32, 64]), 3, small);
const cpu = await startEngine('cpu');
const cpuRate = stepRate(cpu.tf, vggBn(cpu.tf, [16, 32, 64]), 1, small);
console.log(`\n3. one training step, VGG-BN 16/32/64, batch ${small}: cpu ${(small / cpuRate).toFixed(2)} s, wasm with fer's kernels ${(small / wasmRate).toFixed(2)} s: ${(wasmRate / cpuRate).toFixed(1)}x faster`);
