import type { ImageShape } from '../core/image.js';
import type { FittedStep } from '../data/preprocess.js';
import { ExportError } from './export-error.js';
import type { GraphBuilder } from './graph-builder.js';
import type { NodeRef } from './layers-json.js';

/**
 * A task's fitted preprocessing steps (preprocess.json) as stock layers, so the export takes raw
 * pixels as fer predict does. Each step computes what data/preprocess.ts computes:
 * - scale: Rescaling(factor);
 * - subtract_mean per dataset: Rescaling(1, -mean); per pixel: a BatchNormalization over the
 *   flattened image whose moving mean is the mean image, moving variance 1 and epsilon 0, so it
 *   subtracts exactly;
 * - standardize: LayerNormalization over the whole image without scale or offset, with epsilon
 *   e^2: 1/sqrt(var + e^2) is 1/max(std, e) up to float rounding, and 0 for a constant image as fer gives;
 * - to_rgb: the channel concatenated three times.
 * `resize` has no stock equivalent: tfjs's Resizing layer aligns corners, fer resizes with
 * half-pixel centres (TensorFlow 2's default), and the pixels would differ.
 *
 * Returns a function that applies the steps to an input (once per test-time view; the layers and
 * their weights are shared between the calls).
 */
export function preprocessingLayers(graph: GraphBuilder, steps: readonly FittedStep[], inputShape: ImageShape, prefix: string): (input: NodeRef) => NodeRef {
  const calls: ((x: NodeRef) => NodeRef)[] = [];
  let shape = inputShape;
  steps.forEach((step, i) => {
    const name = `${prefix}preprocess_${i + 1}_${step.type.replace(/\W/g, '_')}`;
    const { height, width, channels } = shape;
    switch (step.type) {
      case 'scale': {
        graph.define(name, 'Rescaling', { scale: step.factor as number, offset: 0 });
        calls.push((x) => graph.call(name, [x]));
        break;
      }
      case 'subtract_mean': {
        const mean = step.mean as number | number[];
        if (typeof mean === 'number') {
          graph.define(name, 'Rescaling', { scale: 1, offset: -mean });
          calls.push((x) => graph.call(name, [x]));
          break;
        }
        const size = height * width * channels;
        const flat = graph.define(`${name}/flatten`, 'Reshape', { target_shape: [size] });
        const data = Buffer.alloc(size * 8);
        mean.forEach((m, k) => data.writeFloatLE(m, k * 4));
        for (let k = 0; k < size; k++) data.writeFloatLE(1, (size + k) * 4);
        graph.define(
          name,
          'BatchNormalization',
          { axis: -1, epsilon: 0, center: false, scale: false, momentum: 0.99 },
          {
            specs: [
              { name: `${name}/moving_mean`, shape: [size], dtype: 'float32' },
              { name: `${name}/moving_variance`, shape: [size], dtype: 'float32' },
            ],
            data,
          },
        );
        const back = graph.define(`${name}/unflatten`, 'Reshape', { target_shape: [height, width, channels] });
        calls.push((x) => graph.call(back, [graph.call(name, [graph.call(flat, [x])])]));
        break;
      }
      case 'standardize': {
        const epsilon = step.epsilon as number;
        graph.define(name, 'LayerNormalization', { axis: [1, 2, 3], epsilon: epsilon * epsilon, center: false, scale: false });
        calls.push((x) => graph.call(name, [x]));
        break;
      }
      case 'to_rgb': {
        graph.define(name, 'Concatenate', { axis: -1 });
        calls.push((x) => graph.call(name, [x, x, x]));
        shape = { ...shape, channels: 3 };
        break;
      }
      case 'resize':
        throw new ExportError(
          'the preprocessing step `resize` has no stock TensorFlow.js layer that resizes as fer does (half-pixel centres; tfjs\'s Resizing aligns corners)',
          'train on images of the size the model takes (data.image), and resize before predicting',
        );
      default:
        throw new ExportError(`the preprocessing step \`${step.type}\` has no portable form in TensorFlow.js`, step.type.includes('/') ? `it comes from the plugin \`${step.type.split('/')[0]}\`; preprocess the images before the model instead` : undefined);
    }
  });
  return (input) => calls.reduce((x, call) => call(x), input);
}
