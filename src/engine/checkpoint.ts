import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf, TfOptimizer } from '../core/tf.js';
import type { EpochMetrics } from '../store/run-folder.js';
import type { ScheduleState } from '../registry/schedules.js';
import { DamagedFileError, diskFullOr, readVerified, readVerifiedJson, writeDurable } from '../core/durable-file.js';

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

export interface Manifest {
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
 * sibling folder (each file synced, with its SHA-256 beside it) and renamed into place, so a kill
 * at any moment leaves the previous checkpoint whole, and a damaged one is named, not loaded.
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
  const values = model.getWeights();
  const weights = pack(model.weights.map((w, i) => ({ name: w.name, tensor: values[i]! })), chunks, offset);
  const slots = await optimizer.getWeights();
  const optimizerEntries = pack(slots, chunks, offset);
  const bestEntries = best ? pack(best.map((t, i) => ({ name: `best/${i}`, tensor: t })), chunks, offset) : null;
  const averageEntries = average ? pack(average.map((t, i) => ({ name: `average/${i}`, tensor: t })), chunks, offset) : undefined;
  const manifest: Manifest = { format: FORMAT, state, weights, optimizer: optimizerEntries, best: bestEntries, ...(averageEntries ? { average: averageEntries } : {}) };
  // getWeights hands out the optimizer's live variables (and one fresh iterations tensor): free only the latter.
  tf.dispose(slots.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable)));
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging, { recursive: true });
    writeDurable(path.join(staging, 'values.bin'), chunks);
    writeDurable(path.join(staging, 'manifest.json'), JSON.stringify(manifest));
  } catch (error) {
    // A full disk leaves the previous checkpoint as it was, and no half of this one.
    rmSync(staging, { recursive: true, force: true });
    throw diskFullOr(error, path.join(staging, 'values.bin'), offset.bytes);
  }
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  rmSync(old, { recursive: true, force: true });
}

/** A checkpoint read and checked, ready to restore. */
export interface OpenCheckpoint {
  folder: string;
  state: TrainerState;
  manifest: Manifest;
  data: Buffer;
}

/**
 * The checkpoint of this task (same fingerprint) in `dir`, or in `dir.old` (left by a kill during
 * the rename), each checked against its SHA-256. A damaged one is named in `notices` and the other
 * is tried; with none intact, training starts afresh (and the notices say so).
 */
export function readCheckpoint(dir: string, fingerprint: string): { checkpoint?: OpenCheckpoint; notices: string[] } {
  const damaged: string[] = [];
  for (const folder of [dir, `${dir}.old`]) {
    let manifest: Manifest | undefined;
    let data: Buffer | undefined;
    try {
      manifest = readVerifiedJson<Manifest>(path.join(folder, 'manifest.json'));
      if (manifest === undefined || manifest.format !== FORMAT || manifest.state.fingerprint !== fingerprint) continue;
      data = readVerified(path.join(folder, 'values.bin'));
      if (data === undefined) throw new DamagedFileError(path.join(folder, 'values.bin'), 'the file is missing');
      const needed = [...manifest.weights, ...manifest.optimizer, ...(manifest.best ?? []), ...(manifest.average ?? [])].reduce((end, e) => Math.max(end, e.offset + e.length * 4), 0);
      if (data.length < needed) throw new DamagedFileError(path.join(folder, 'values.bin'), `${data.length} bytes, its manifest needs ${needed}`);
    } catch (error) {
      if (!(error instanceof DamagedFileError)) throw error;
      damaged.push(error.message);
      continue;
    }
    const notices = damaged.map((d) => `${d}: resumed from the previous checkpoint (${path.basename(folder)}, after epoch ${manifest.state.epoch + 1})`);
    return { checkpoint: { folder, state: manifest.state, manifest, data }, notices };
  }
  return { notices: damaged.map((d) => `${d}: not resumed from it, training from the first epoch`) };
}

/**
 * Restores a checkpoint into the model and optimizer; returns its state and best weights, or
 * undefined (nothing restored) when its tensors do not fit the model.
 */
export async function restoreCheckpoint(
  tf: Tf,
  checkpoint: OpenCheckpoint,
  model: tfjs.LayersModel,
  optimizer: TfOptimizer,
): Promise<{ state: TrainerState; best: tfjs.Tensor[] | null; average?: tfjs.Tensor[] } | undefined> {
  const { manifest, data } = checkpoint;
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
