import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { batchNormLayerClass } from '../layers/fused-batch-norm.js';
import { randomLayers } from '../layers/random-layers.js';
import type { Tf } from '../core/tf.js';
import { DamagedFileError, diskFullOr, readVerified, writeDurable } from '../core/durable-file.js';
import { FerError } from '../core/errors.js';

/**
 * Saving and loading models in the TensorFlow.js layers format (model.json + weights.bin), the
 * format tfjs-node's `file://` loader and tensorflowjs_converter use, through in-memory handlers so
 * it works on every backend. fer's own layer classes are registered before a load. Each file is
 * written synced with its SHA-256 beside it (`weights.bin.sha256`), in a staging folder renamed
 * into place; a load checks them and names a damaged file (DamagedFileError) rather than loading
 * weights that are not the ones trained.
 */
export async function saveModel(tf: Tf, model: tfjs.LayersModel, dir: string): Promise<void> {
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging, { recursive: true });
  } catch (error) {
    throw diskFullOr(error, staging, 0);
  }
  try {
    await saveInto(tf, model, staging);
  } catch (error) {
    // A full disk leaves no half model behind.
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
}

async function saveInto(tf: Tf, model: tfjs.LayersModel, staging: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData as ArrayBuffer;
      writeDurable(path.join(staging, 'weights.bin'), new Uint8Array(weightData));
      const manifest = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: 'fer',
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeDurable(path.join(staging, 'model.json'), JSON.stringify(manifest));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

const RETRAIN = 'run the experiment again (fer run <config>): it trains again every task whose files are damaged';

/** A saved model's files as they are on disk: its topology (JSON), weight specs and weight bytes in spec order. */
export interface SavedModelFiles {
  modelTopology: object;
  weightSpecs: tfjs.io.WeightsManifestEntry[];
  weightData: Buffer;
}

/**
 * Reads a saved model's model.json and weight files, each checked against its SHA-256, without
 * loading it into tfjs (export rewrites them); a damaged or missing file is named.
 */
export function readModelFiles(dir: string): SavedModelFiles {
  const manifestFile = path.join(dir, 'model.json');
  const manifestBytes = readVerified(manifestFile, RETRAIN);
  if (!manifestBytes) throw new FerError(`${manifestFile} does not exist`, 'the task has not finished: run the experiment again to finish it');
  let manifest: { modelTopology: object; weightsManifest: { paths: string[]; weights: tfjs.io.WeightsManifestEntry[] }[] };
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as typeof manifest;
  } catch (error) {
    throw new DamagedFileError(manifestFile, `not valid JSON (${(error as Error).message})`, RETRAIN);
  }
  const buffers = manifest.weightsManifest.flatMap((group) =>
    group.paths.map((p) => {
      const file = path.join(dir, p);
      const bytes = readVerified(file, RETRAIN);
      if (!bytes) throw new DamagedFileError(file, 'the file is missing', RETRAIN);
      return bytes;
    }),
  );
  // One weight file (fer's own saves) is used as read: a copy of an ensemble's gigabytes costs seconds.
  const weightData = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
  return { modelTopology: manifest.modelTopology, weightSpecs: manifest.weightsManifest.flatMap((group) => group.weights), weightData };
}

export async function loadModel(tf: Tf, dir: string): Promise<tfjs.LayersModel> {
  // Registers FerBatchNormalization, FerDropout and the noise layers under their class names.
  batchNormLayerClass(tf);
  randomLayers(tf);
  const { modelTopology, weightSpecs, weightData } = readModelFiles(dir);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology,
      weightSpecs,
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    }),
  );
}
