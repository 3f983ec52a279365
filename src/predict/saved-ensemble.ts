import type * as tfjs from '@tensorflow/tfjs';
import { startEngine } from '../backend/backend.js';
import { classNames } from '../config/shape.js';
import { FerError } from '../core/errors.js';
import { inputGradientMaps } from '../engine/saliency.js';
import { silentProgress, type Progress } from '../core/progress.js';
import type { Tf } from '../core/tf.js';
import { imageSize, type ImageShape } from '../core/image.js';
import { combine, type CombineMethod } from '../ensemble/combine.js';
import { memberModels, type MemberModels } from '../store/member-models.js';
import { loadModel } from '../store/model-io.js';
import { taskModelDir } from '../store/run-folder.js';
import { activateRunPlugins, openRun, taskPreprocessor, type SavedRun } from '../store/saved-run.js';
import type { Task } from '../store/tasks.js';
import { testTime, type TestTime } from '../data/test-time.js';
import { builtinRegistry } from '../registry/index.js';

const PROGRESS_TASK = 'predicting';

/** Images per forward pass: large enough to keep the backend busy, small enough to stay light. */
const BATCH_SIZE = 256;

/** Class probabilities for a set of images, row-major (images x classes). */
export interface EnsemblePrediction {
  /** The ensemble's: its members combined as the run combined them. */
  probabilities: Float32Array;
  /** Each member's (the mean of its models), in member order. */
  members: Float32Array[];
}

/**
 * A finished run's ensemble, ready to predict new images: `fer predict` and `fer evaluate` (on a
 * split without saved predictions) both use it. Each member's probabilities are the mean of the
 * models its test predictions came from (its final fit, else its fold models), each model with the
 * preprocessing it was trained with; members are combined by the run's method and weights
 * (ensemble/summary.json), so it reproduces the run's own test predictions.
 *
 * A call to predict loads each model once, runs every image through it in batches and releases it
 * before loading the next: an ensemble of 64 models never holds more than one in memory, and no
 * tensor outlives the call. Pass all the images in one call.
 */
export class SavedEnsemble {
  private constructor(
    readonly run: SavedRun,
    private readonly tf: Tf,
    readonly members: readonly MemberModels[],
    /** The classes the models predict, in output order (the merged ones with data.merge_classes). */
    readonly classes: readonly string[],
    readonly method: CombineMethod,
    /** The test-time views the run was configured with (none for a run without evaluation.tta). */
    readonly views: TestTime,
  ) {}

  /**
   * Opens the run in `runDir` (or one already opened): checks every model it needs is saved, starts the run's backend (or
   * uses the given tf) and activates the plugins it was trained with, so their layers load.
   */
  static async open(runDir: string | SavedRun, options: { tf?: Tf } = {}): Promise<SavedEnsemble> {
    const run = typeof runDir === 'string' ? openRun(runDir) : runDir;
    const members = memberModels(run);
    const tf = options.tf ?? (await startEngine(run.config.engine.backend)).tf;
    await activateRunPlugins(run, tf);
    const method = run.summary?.method ?? run.config.ensemble?.combine ?? 'mean';
    const views = testTime(run.config.evaluation, run.registry ?? builtinRegistry());
    return new SavedEnsemble(run, tf, members, classNames(run.config), method, views);
  }

  /** The images the ensemble takes: the run's data.image (raw values, 0-255). */
  get imageShape(): ImageShape {
    return this.run.config.data!.image;
  }

  /**
   * The class probabilities of `images`: raw pixel values (0-255) of images of imageShape,
   * row-major, one after another (the bytes a dataset stores, or floats). `progress` hears of
   * each model as it starts.
   */
  async predict(images: Float32Array | Uint8Array, options: { progress?: Progress } = {}): Promise<EnsemblePrediction> {
    const progress = options.progress ?? silentProgress;
    const size = imageSize(this.imageShape);
    const count = images.length / size;
    if (!Number.isInteger(count)) {
      const { height, width, channels } = this.imageShape;
      throw new FerError(`${images.length} pixel values are not a whole number of ${height}x${width}x${channels} images`);
    }
    if (count === 0) return { probabilities: new Float32Array(0), members: this.members.map(() => new Float32Array(0)) };
    const models = this.members.reduce((n, m) => n + m.tasks.length, 0);
    let done = 0;
    const members: Float32Array[] = [];
    for (const member of this.members) {
      const outputs: Float32Array[] = [];
      for (const task of member.tasks) {
        progress.update(PROGRESS_TASK, done / models, `model ${done + 1}/${models}: ${task.key}`);
        outputs.push(await this.predictWith(task, images, count));
        done++;
      }
      members.push(combine(outputs, this.classes.length, 'mean'));
    }
    progress.done(PROGRESS_TASK, `${count} image${count === 1 ? '' : 's'} with ${models} model${models === 1 ? '' : 's'}`);
    const probabilities = combine(members, this.classes.length, this.method, this.members.map((m) => m.weight));
    return { probabilities, members };
  }

  /**
   * Saliency maps: for each image, how much each pixel of the model's input moves the probability
   * of `classes[i]` (the magnitude of the input gradient, the largest over channels), averaged over
   * every model of the ensemble. One map per image, of the models' input size, row-major.
   */
  async saliency(images: Float32Array | Uint8Array, classes: readonly number[]): Promise<{ maps: Float32Array; height: number; width: number }> {
    const { tf } = this;
    const count = classes.length;
    const models = this.members.flatMap((m) => m.tasks);
    let maps: Float32Array | undefined;
    let height = 0;
    let width = 0;
    for (const task of models) {
      const preprocessor = taskPreprocessor(this.run, task);
      const size = imageSize(preprocessor.inputShape);
      const shape = preprocessor.outputShape;
      height = shape.height;
      width = shape.width;
      const inputs = preprocessor.apply(Float32Array.from(images.subarray(0, count * size)), count);
      const model = await loadModel(tf, taskModelDir(this.run.dir, task.key));
      try {
        const values = await inputGradientMaps(tf, model, inputs, shape, classes, this.classes.length);
        if (!maps) maps = new Float32Array(values.length);
        for (let i = 0; i < values.length; i++) maps[i]! += values[i]! / models.length;
      } finally {
        model.dispose();
      }
    }
    return { maps: maps ?? new Float32Array(0), height, width };
  }

  /** One task's model on every image, in batches; the model is released before this returns. */
  private async predictWith(task: Task, images: Float32Array | Uint8Array, count: number): Promise<Float32Array> {
    const { tf } = this;
    const classes = this.classes.length;
    const preprocessor = taskPreprocessor(this.run, task);
    const size = imageSize(preprocessor.inputShape);
    const shape = preprocessor.outputShape;
    const out = new Float32Array(count * classes);
    const model = await loadModel(tf, taskModelDir(this.run.dir, task.key));
    try {
      for (let start = 0; start < count; start += BATCH_SIZE) {
        const n = Math.min(BATCH_SIZE, count - start);
        // A copy: preprocessing works in place, and the caller's images stay as they were.
        const inputs = preprocessor.apply(Float32Array.from(images.subarray(start * size, (start + n) * size)), n);
        // The run's test-time views (evaluation.tta), as its own test predictions used them.
        const output = tf.tidy(() =>
          this.views.predict(tf, tf.tensor4d(inputs, [n, shape.height, shape.width, shape.channels]), (view) => model.predict(view, { batchSize: n }) as tfjs.Tensor2D),
        ) as tfjs.Tensor;
        try {
          if (output.shape.length !== 2 || output.shape[1] !== classes) {
            throw new FerError(`the model of ${task.key} outputs shape [${output.shape.join(', ')}], not [${n}, ${classes}] for the run's ${classes} classes`);
          }
          out.set((await output.data()) as Float32Array, start * classes);
        } finally {
          output.dispose();
        }
      }
    } finally {
      model.dispose();
    }
    return out;
  }
}
