import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../core/tf.js';

/**
 * An exponential moving average of a model's weights (`training.ema`): after every optimizer
 * update, average <- decay x average + (1 - decay) x weight, for every weight of the model (batch
 * norm's moving statistics included, so the averaged model is consistent). The update is tensor
 * work inside the training step, on tfjs variables, so a recorded step records it too (the
 * variables it assigns become the function's outputs). Validation, test predictions, the kept
 * best epoch and the saved model use the average (`swapIn`); training continues from the raw
 * weights (`swapOut`).
 */
export class WeightAverage {
  private readonly averages: tfjs.Variable[];
  private raw: tfjs.Tensor[] | null = null;

  constructor(
    private readonly tf: Tf,
    private readonly model: tfjs.LayersModel,
    readonly decay: number,
  ) {
    this.averages = model.weights.map((w, i) => tf.variable(this.copy(w.read()), false, `ema_${i}_${w.name.replace(/[^A-Za-z0-9_]/g, '_')}`));
  }

  /**
   * A tensor with its own data: a clone, or a variable assigned a tensor, shares the original's,
   * and the recorded step tells variables apart by their data.
   */
  private copy(t: tfjs.Tensor): tfjs.Tensor {
    return this.tf.tensor(t.dataSync() as Float32Array, t.shape, t.dtype);
  }

  /** Inside the step, after the optimizer's update. */
  update(): void {
    const { tf } = this;
    const weights = this.model.weights;
    this.averages.forEach((average, i) => {
      average.assign(tf.add(tf.mul(average, this.decay), tf.mul(weights[i]!.read(), 1 - this.decay)));
    });
  }

  /** The averaged values (copies, the caller's to dispose). */
  values(): tfjs.Tensor[] {
    return this.averages.map((a) => this.copy(a));
  }

  /** Sets averages from a checkpoint. */
  restore(values: readonly tfjs.Tensor[]): void {
    this.averages.forEach((a, i) => {
      const value = this.copy(values[i]!);
      a.assign(value);
      value.dispose();
    });
  }

  /** Puts the averaged weights into the model, keeping the raw ones for swapOut. */
  swapIn(): void {
    if (this.raw) return;
    this.raw = this.model.getWeights().map((w) => this.tf.keep(this.copy(w)));
    const averaged = this.values();
    this.model.setWeights(averaged);
    this.tf.dispose(averaged);
  }

  /** Back to the raw weights training goes on from. */
  swapOut(): void {
    if (!this.raw) return;
    this.model.setWeights(this.raw);
    this.tf.dispose(this.raw);
    this.raw = null;
  }

  dispose(): void {
    this.swapOut();
    this.tf.dispose(this.averages);
  }
}
