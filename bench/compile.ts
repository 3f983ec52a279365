/**
 * How long the edit-compile round trip takes: `fer compile` of ensemble16 (both reference models)
 * against building the same two models by hand in tfjs, measured in the same run.
 *   npm run bench -- compile
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModels } from '../src/compile/model-builder.js';
import { loadConfig } from '../src/config/load.js';
import { loadTf } from '../src/backend/load-tf.js';
import { createRegistry } from '../src/registry/index.js';
import { handWrittenCnn, handWrittenResnet18 } from './baselines/reference-models.js';
import { median, printMachine, printTable } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = path.join(root, 'configs', 'ensemble16.yaml');
const repeats = Number(process.env.BENCH_REPEATS ?? 5);

printMachine('compile');
const tf = await loadTf();
const time = (fn: () => void): number => {
  const start = performance.now();
  fn();
  return performance.now() - start;
};

const handWritten: number[] = [];
const ferInit: number[] = [];
const ferShape: number[] = [];
const ferLoad: number[] = [];
const registry = createRegistry();
loadConfig(config, { registry }); // compile the schema once, as a CLI process does at start
for (let i = 0; i < repeats; i++) {
  handWritten.push(time(() => [handWrittenCnn(tf), handWrittenResnet18(tf)].forEach((m) => m.dispose())));
  ferLoad.push(time(() => loadConfig(config, { registry })));
  const loaded = loadConfig(config, { registry });
  ferInit.push(time(() => compileModels(loaded, ['cnn', 'resnet18'], { tf }).forEach((m) => m.model.dispose())));
  ferShape.push(time(() => compileModels(loaded, ['cnn', 'resnet18'], { tf, initialize: false }).forEach((m) => m.model.dispose())));
}

const cli: number[] = [];
for (let i = 0; i < repeats; i++) {
  const start = performance.now();
  const run = spawnSync(process.execPath, [path.join(root, 'bin', 'fer.js'), 'compile', config, '--json'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`fer compile failed: ${run.stderr}`);
  cli.push(performance.now() - start);
}

const base = median(handWritten);
printTable(`compile: ensemble16 (CNN + ResNet-18), median of ${repeats}, backend ${tf.getBackend()}`, [
  ['hand-written tfjs, both models, weights drawn (baseline)', base, 1],
  ['fer: load + validate ensemble16.yaml', median(ferLoad), median(ferLoad) / base],
  ['fer: build both models, weights drawn (training path)', median(ferInit), median(ferInit) / base],
  ['fer: build both models, shapes only (validate/compile path)', median(ferShape), median(ferShape) / base],
  ['`fer compile configs/ensemble16.yaml --json`, whole process', median(cli), median(cli) / base],
]);
