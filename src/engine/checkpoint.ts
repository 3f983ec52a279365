import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf, TfOptimizer } from '../core/tf.js';
import type { EpochMetrics } from '../store/run-folder.js';
import type { ScheduleState } from '../registry/schedules.js';

/** What a training run needs to continue exactly where it stopped (after the last finished epoch). */
export interface TrainerState {
  /** The last finished epoch, from 0; -1 before the first. */
  epoch: number;
  /** Batches trained so far (the dropout and noise layers draw from it). */
  step: number;
  schedule: ScheduleState;
  /** Each training callback's own state (early stopping's best value and wait...), in callback order. */
  callbacks: unknown[];
  /** The epoch (from 0) whose weights are kept as the best, when a callback restores the best; -1 before one. */
  bestEpoch: number;
  history: EpochMetrics[];
  stopped: boolean;
  /** Identifies what is being trained (task, config, data); a checkpoint of something else is ignored. */
  fingerprint: string;
  /** Whether training steps run as recorded TensorFlow functions, once decided (graph-step.ts). */
  graphSteps?: 'graph' | 'eager';
}

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  length: number;
}

/** 2: callbacks' states replaced early stopping's (a format-1 checkpoint is not resumed). */
const FORMAT = 2;

interface Manifest {
  format: typeof FORMAT;
  state: TrainerState;
  weights: TensorEntry[];
  optimizer: TensorEntry[];
  best: TensorEntry[] | null;
  /** The moving average of the weights (training.ema), when kept. */
  average?: TensorEntry[];
}

/**
 * A checkpoint folder: manifest.json (trainer state and tensor layout) and values.bin (model
 * weights, optimizer slots, best weights). The RNG needs no state of its own: every random stream
 * derives from the task seed with the epoch or step, both in the trainer state. Written to a
 * sibling folder and renamed into place, so a kill at any moment leaves the previous checkpoint whole.
 */
function pack(tensors: { name: string; tensor: tfjs.Tensor }[], chunks: Buffer[], offset: { bytes: number }): TensorEntry[] {
  return tensors.map(({ name, tensor }) => {
    const values = tensor.dataSync();
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const entry: TensorEntry = { name, shape: tensor.shape, dtype: tensor.dtype as 'float32' | 'int32', offset: offset.bytes, length: values.length };
    chunks.push(Buffer.from(bytes));
    offset.bytes += bytes.length;
    return entry;
  });
}

function unpack(tf: Tf, entries: TensorEntry[], data: Buffer): { name: string; tensor: tfjs.Tensor }[] {
  return entries.map((e) => {
    const slice = data.subarray(e.offset, e.offset + e.length * 4);
    const copy = new Uint8Array(slice).buffer;
    const values = e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    return { name: e.name, tensor: tf.tensor(values, e.shape, e.dtype) };
  });
}

export async function saveCheckpoint(
  tf: Tf,
  dir: string,
  model: tfjs.LayersModel,
  optimizer: TfOptimizer,
  state: TrainerState,
  best: tfjs.Tensor[] | null,
  average: tfjs.Tensor[] | null = null,
): Promise<void> {
  const chunks: Buffer[] = [];
  const offset = { bytes: 0 };
  const weights = pack(model.weights.map((w, i) => ({ name: w.name, tensor: model.getWeights()[i]! })), chunks, offset);
  const slots = await optimizer.getWeights();
  const optimizerEntries = pack(slots, chunks, offset);
  const bestEntries = best ? pack(best.map((t, i) => ({ name: `best/${i}`, tensor: t })), chunks, offset) : null;
  const averageEntries = average ? pack(average.map((t, i) => ({ name: `average/${i}`, tensor: t })), chunks, offset) : undefined;
  const manifest: Manifest = { format: FORMAT, state, weights, optimizer: optimizerEntries, best: bestEntries, ...(averageEntries ? { average: averageEntries } : {}) };
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(path.join(staging, 'values.bin'), Buffer.concat(chunks));
  writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify(manifest));
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  rmSync(old, { recursive: true, force: true });
  // getWeights hands out the optimizer's live variables (and one fresh iterations tensor): free only the latter.
  tf.dispose(slots.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable)));
}

/**
 * Restores a checkpoint into the model and optimizer when it belongs to this run (same fingerprint);
 * returns its state and best weights, or undefined to start afresh. A checkpoint left behind by a
 * kill during the rename (only `.old` present) is used too.
 */
/** The trainer state of a checkpoint, without loading its tensors (to pick the stage before loading). */
export function readCheckpointState(dir: string, fingerprint: string): TrainerState | undefined {
  for (const folder of [dir, `${dir}.old`]) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as Manifest;
      if (manifest.format === FORMAT && manifest.state.fingerprint === fingerprint) return manifest.state;
    } catch {
      // not there, or being replaced: try the other
    }
  }
  return undefined;
}

export async function loadCheckpoint(
  tf: Tf,
  dir: string,
  model: tfjs.LayersModel,
  optimizer: TfOptimizer,
  fingerprint: string,
): Promise<{ state: TrainerState; best: tfjs.Tensor[] | null; average?: tfjs.Tensor[] } | undefined> {
  const folder = existsSync(path.join(dir, 'manifest.json')) ? dir : existsSync(path.join(`${dir}.old`, 'manifest.json')) ? `${dir}.old` : undefined;
  if (!folder) return undefined;
  let manifest: Manifest;
  let data: Buffer;
  try {
    manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as Manifest;
    data = readFileSync(path.join(folder, 'values.bin'));
  } catch {
    return undefined;
  }
  if (manifest.format !== FORMAT || manifest.state.fingerprint !== fingerprint) return undefined;
  const weights = unpack(tf, manifest.weights, data);
  if (weights.length !== model.weights.length || weights.some((w, i) => w.tensor.shape.join() !== model.weights[i]!.shape.join())) {
    tf.dispose(weights.map((w) => w.tensor));
    return undefined;
  }
  model.setWeights(weights.map((w) => w.tensor));
  tf.dispose(weights.map((w) => w.tensor));
  const slots = unpack(tf, manifest.optimizer, data);
  if (slots.length > 0) await optimizer.setWeights(slots);
  // The optimizer's variables hold their own reference to the data.
  tf.dispose(slots.map((s) => s.tensor));
  const best = manifest.best ? unpack(tf, manifest.best, data).map((b) => b.tensor) : null;
  const average = manifest.average ? unpack(tf, manifest.average, data).map((a) => a.tensor) : undefined;
  return { state: manifest.state, best, ...(average ? { average } : {}) };
}
