import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { batchNormLayerClass } from '../layers/fused-batch-norm.js';
import { randomLayers } from '../layers/random-layers.js';
import type { Tf } from '../core/tf.js';

/**
 * Saving and loading models in the TensorFlow.js layers format (model.json + weights.bin), the
 * format tfjs-node's `file://` loader and tensorflowjs_converter use, through in-memory handlers so
 * it works on every backend. fer's own layer classes are registered before a load.
 */
export async function saveModel(tf: Tf, model: tfjs.LayersModel, dir: string): Promise<void> {
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData as ArrayBuffer;
      writeFileSync(path.join(staging, 'weights.bin'), Buffer.from(weightData));
      const manifest = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: 'fer',
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(path.join(staging, 'model.json'), JSON.stringify(manifest));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
}

/** A saved model's files as they are on disk: its topology (JSON), weight specs and weight bytes in spec order. */
export interface SavedModelFiles {
  modelTopology: object;
  weightSpecs: tfjs.io.WeightsManifestEntry[];
  weightData: Buffer;
}

/** Reads a saved model's model.json and weight files without loading it into tfjs (export rewrites them). */
export function readModelFiles(dir: string): SavedModelFiles {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tfjs.io.WeightsManifestEntry[] }[];
  };
  const buffers = manifest.weightsManifest.flatMap((group) => group.paths.map((p) => readFileSync(path.join(dir, p))));
  return { modelTopology: manifest.modelTopology, weightSpecs: manifest.weightsManifest.flatMap((group) => group.weights), weightData: Buffer.concat(buffers) };
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
