import type * as tfjs from '@tensorflow/tfjs';
import type { EvaluationConfig } from '../config/types.js';
import { entryOf, type Item } from '../core/item-spec.js';
import type { Tf } from '../core/tf.js';
import type { FerRegistry } from '../registry/index.js';

/**
 * Test-time augmentation (`evaluation.tta`): the views of a batch of model inputs the config lists
 * (registry/test-time.ts), and the average of a model's probabilities over them. Everything here
 * is a pure function of tensors, so the run's test predictions, `fer evaluate`, `fer predict` and
 * an exported graph compute the same numbers from the same views.
 */
export interface TestTime {
  /** Whether there is more than the image itself. */
  readonly active: boolean;
  /** What the config asked for, one line (for reports and MLflow): `flip`, `ten_crop(size 48, resize 54)`, `none`. */
  readonly label: string;
  /** The views of a batch: the entries compose, each taking every view of the one before. */
  views(tf: Tf, x: tfjs.Tensor4D): tfjs.Tensor4D[];
  /** The averaged probabilities of `predict` (batch x classes) over the views of `x`. */
  predict(tf: Tf, x: tfjs.Tensor4D, predict: (view: tfjs.Tensor4D) => tfjs.Tensor2D): tfjs.Tensor2D;
}

/** The views of an evaluation section; a section without `tta` gives the image itself, one view. */
export function testTime(evaluation: Pick<EvaluationConfig, 'tta' | 'combine'> | undefined, registry: FerRegistry): TestTime {
  const entries = (evaluation?.tta ?? []).map((item: Item) => {
    const { name, args } = entryOf(item);
    const definition = registry.testTimeViews.get(name);
    if (!definition) throw new Error(`evaluation.tta: unknown test-time view \`${name}\``);
    return { name, args, definition };
  });
  const combineMethod = evaluation?.combine ?? 'mean';
  const label = viewsLabel(evaluation?.tta ?? []);
  const views = (tf: Tf, x: tfjs.Tensor4D): tfjs.Tensor4D[] =>
    entries.reduce<tfjs.Tensor4D[]>((batches, { definition, args }) => batches.flatMap((b) => definition.views(tf, b, args as never)), [x]);
  return {
    active: entries.length > 0,
    label,
    views,
    predict(tf, x, predict) {
      if (entries.length === 0) return predict(x);
      return tf.tidy(() => {
        const outputs = views(tf, x).map((view) => predict(view));
        return combineViews(tf, outputs, combineMethod);
      });
    },
  };
}

/** Test-time views as one line (reports, MLflow): `flip x shift(pixels 2)`, `ten_crop(size 48, resize 56)`, `none`. */
export function viewsLabel(tta: readonly Item[]): string {
  if (tta.length === 0) return 'none';
  return tta
    .map((item) => {
      const { name, args } = entryOf(item);
      const shown = Object.entries(args as Record<string, unknown>).filter(([, v]) => v !== null);
      return shown.length === 0 ? name : `${name}(${shown.map(([k, v]) => `${k} ${String(v)}`).join(', ')})`;
    })
    .join(' x ');
}

/** The mean, or the renormalised geometric mean, of the views' probabilities. */
export function combineViews(tf: Tf, outputs: tfjs.Tensor2D[], method: 'mean' | 'geometric_mean'): tfjs.Tensor2D {
  if (outputs.length === 1) return outputs[0]!;
  const stacked = tf.stack(outputs) as tfjs.Tensor3D;
  if (method === 'mean') return tf.mean(stacked, 0) as tfjs.Tensor2D;
  const logMean = tf.mean(tf.log(tf.maximum(stacked, 1e-12)), 0);
  const unnormalised = tf.exp(logMean);
  return tf.div(unnormalised, tf.sum(unnormalised, -1, true)) as tfjs.Tensor2D;
}
