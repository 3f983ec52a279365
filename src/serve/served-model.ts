import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { FerError } from '../core/errors.js';
import type { Tf } from '../core/tf.js';
import { exportRun, WEIGHTS_FILE, type ExportMetadata, type ModelExport } from '../export/export-run.js';
import { readRunManifest } from '../store/run-folder.js';

/** The model fer serve answers with and hands to the page: an export's model.json and its weight files by name. */
export interface ServedModel {
  modelJson: ModelExport['modelJson'];
  files: ReadonlyMap<string, Buffer>;
  metadata: ExportMetadata;
}

/**
 * The model of a run folder (exported in memory, as `fer export` would write it) or of an export
 * folder (`fer export`'s output, read as written): both serve the same model to the server and the page.
 */
export function servedModel(dir: string): ServedModel {
  const modelFile = path.join(dir, 'model.json');
  if (existsSync(modelFile)) {
    const modelJson = JSON.parse(readFileSync(modelFile, 'utf8')) as ModelExport['modelJson'];
    const metadata = modelJson.userDefinedMetadata?.fer;
    if (!metadata) throw new FerError(`${modelFile} is not a fer export (its userDefinedMetadata has no \`fer\` entry)`, 'export a run with `fer export <run dir>`, or serve the run folder itself');
    const files = new Map(modelJson.weightsManifest.flatMap((group) => group.paths).map((p) => [p, readFileSync(path.join(dir, p))]));
    return { modelJson, files, metadata };
  }
  if (!readRunManifest(dir)) throw new FerError(`${dir} is neither a run folder (no run.json) nor an export folder (no model.json)`, 'runs are under runs/<experiment>/run-<id>/ (`fer runs list` shows them); `fer export` writes export folders');
  const exported = exportRun(dir);
  return { modelJson: exported.modelJson, files: new Map([[WEIGHTS_FILE, exported.weights]]), metadata: exported.metadata };
}

/** The most images one forward pass takes when concurrent requests are batched together. */
const MAX_BATCH = 64;

interface Pending {
  pixels: Float32Array;
  count: number;
  resolve(probabilities: Float32Array): void;
  reject(error: unknown): void;
}

/**
 * The served model loaded into tfjs (the server's backend), predicting batches of raw pixels.
 * Requests that arrive while a forward pass runs wait and then go through together in one pass
 * (up to MAX_BATCH images): one pass over 16 images costs far less than 16 passes, so throughput
 * grows with the number of clients instead of each request queueing behind the others alone.
 * A batch's rows do not affect each other (inference: batch norm uses its moving statistics).
 */
export class Predictor {
  private queue: Pending[] = [];
  private running = false;

  private constructor(
    private readonly tf: Tf,
    private readonly model: tfjs.LayersModel | tfjs.GraphModel,
    readonly metadata: ExportMetadata,
  ) {}

  static async load(tf: Tf, served: ServedModel): Promise<Predictor> {
    const weightData = Buffer.concat(served.modelJson.weightsManifest.flatMap((group) => group.paths.map((p) => served.files.get(p)!)));
    const artifacts = tf.io.fromMemory({
      modelTopology: served.modelJson.modelTopology as unknown as tfjs.io.ModelJSON['modelTopology'],
      weightSpecs: served.modelJson.weightsManifest.flatMap((group) => group.weights) as tfjs.io.WeightsManifestEntry[],
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    });
    const model = served.modelJson.format === 'graph-model' ? await tf.loadGraphModel(artifacts) : await tf.loadLayersModel(artifacts);
    return new Predictor(tf, model, served.metadata);
  }

  /** Class probabilities of `count` images of raw pixels (0-255), row-major (images x classes). */
  predict(pixels: Float32Array, count: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ pixels, count, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Runs the queued requests, as many as fit in a batch per forward pass, until none wait. */
  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const batch: Pending[] = [];
      let images = 0;
      while (this.queue.length > 0 && (batch.length === 0 || images + this.queue[0]!.count <= MAX_BATCH)) {
        const next = this.queue.shift()!;
        batch.push(next);
        images += next.count;
      }
      try {
        const size = this.metadata.input.height * this.metadata.input.width * this.metadata.input.channels;
        const pixels = batch.length === 1 ? batch[0]!.pixels : new Float32Array(images * size);
        if (batch.length > 1) {
          let offset = 0;
          for (const p of batch) {
            pixels.set(p.pixels, offset);
            offset += p.pixels.length;
          }
        }
        const probabilities = await this.forward(pixels, images);
        const classes = probabilities.length / images;
        let row = 0;
        for (const p of batch) {
          p.resolve(probabilities.slice(row * classes, (row + p.count) * classes));
          row += p.count;
        }
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.running = false;
  }

  private async forward(pixels: Float32Array, count: number): Promise<Float32Array> {
    const { height, width, channels } = this.metadata.input;
    const output = this.tf.tidy(() => this.model.predict(this.tf.tensor4d(pixels, [count, height, width, channels])) as tfjs.Tensor);
    try {
      return (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
