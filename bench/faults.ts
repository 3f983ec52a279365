/**
 * What making files durable costs: a ResNet-18 checkpoint (weights, Adam's two slots, best weights:
 * ~179 MB) written as fer writes it (each file synced, its SHA-256 beside it, then renamed) against
 * the same bytes written the plain way (write, rename: no sync, no checksum), measured in the same
 * run; and the SHA-256 alone. The fault cases themselves (damaged files, a full disk, resumes) are
 * test/run/file-faults.test.ts, which prints their table.
 *   npm run bench -- faults
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tfjs from '@tensorflow/tfjs';
import { startEngine } from '../src/backend/backend.js';
import { compileModels } from '../src/compile/model-builder.js';
import { loadConfig } from '../src/config/load.js';
import { sha256 } from '../src/core/durable-file.js';
import { saveCheckpoint, type TrainerState } from '../src/engine/checkpoint.js';
import { createRegistry } from '../src/registry/index.js';
import { initialScheduleState } from '../src/registry/schedules.js';
import { median, printMachine, printTable } from './report.js';

printMachine('faults');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const { tf } = await startEngine('auto');
const loaded = loadConfig(path.join(root, 'configs', 'ensemble16.yaml'), { registry: createRegistry() });
const [compiled] = compileModels(loaded, ['resnet18'], { tf });
const model = compiled!.model;
const optimizer = tf.train.adam(1e-3);
// One step, so Adam has its two slots per weight as in a real checkpoint.
const x = tf.randomNormal([2, 48, 48, 1]);
const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 7);
optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tfjs.Tensor) as tfjs.Scalar);
const best = model.getWeights().map((w) => w.clone());
const state: TrainerState = { epoch: 0, step: 1, schedule: initialScheduleState(), callbacks: [], bestEpoch: 0, history: [], stopped: false, fingerprint: 'bench' };

const dir = mkdtempSync(path.join(tmpdir(), 'fer-bench-faults-'));
const durable: number[] = [];
const plain: number[] = [];
const hashing: number[] = [];
let bytes = 0;
for (let i = 0; i < repeats; i++) {
  let start = performance.now();
  await saveCheckpoint(tf, path.join(dir, 'checkpoint'), model, optimizer, state, best);
  durable.push(performance.now() - start);

  // The same bytes the plain way (what fer did before): gathered, written, renamed.
  start = performance.now();
  const slots = await optimizer.getWeights();
  const chunks = [...model.getWeights(), ...slots.map((s) => s.tensor), ...best].map((t) => {
    const values = t.dataSync();
    return Buffer.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  });
  const staging = path.join(dir, 'plain.partial');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const values = Buffer.concat(chunks);
  writeFileSync(path.join(staging, 'values.bin'), values);
  writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify({ state }));
  rmSync(path.join(dir, 'plain'), { recursive: true, force: true });
  renameSync(staging, path.join(dir, 'plain'));
  plain.push(performance.now() - start);
  bytes = values.length;

  start = performance.now();
  sha256(values);
  hashing.push(performance.now() - start);
}
rmSync(dir, { recursive: true, force: true });

const base = median(plain);
console.log(`\nResNet-18 checkpoint: ${(bytes / 1e6).toFixed(1)} MB (${model.countParams().toLocaleString('en')} parameters x 4: weights, Adam m and v, best), ${repeats} writes each, median`);
printTable('checkpoint write', [
  ['plain: write + rename (baseline)', base, 1],
  ['fer: write + fsync + SHA-256 sidecar + rename', median(durable), median(durable) / base],
  ['SHA-256 of values.bin alone', median(hashing), median(hashing) / base],
]);
