import type { FerConfig } from '../config/types.js';
import { entryOf } from '../core/item-spec.js';
import { ExportError } from './export-error.js';
import type { ImageShape } from '../core/image.js';
import type { GraphBuilder } from './graph-builder.js';
import type { NodeRef } from './layers-json.js';

/**
 * The views of an image a member sees at test time; its probabilities are the mean over them. This
 * is where test-time augmentation enters the export: a view is stock layers applied to the raw
 * image before preprocessing, defined once and shared by every model of the ensemble. Today a run
 * predicts on the image as it is, so there is one view, the identity; a config setting for
 * test-time views adds its views here (flipHorizontalView below is one, built of stock layers).
 */
export interface TestTimeView {
  name: string;
  /** Defines the view's layers (called once per export) and returns how to apply them to the input. */
  build(graph: GraphBuilder, shape: ImageShape): (input: NodeRef) => NodeRef;
}

export const identityView: TestTimeView = { name: 'identity', build: () => (input) => input };

/**
 * The image mirrored left to right, exactly: the width axis moved last (Permute), multiplied by the
 * reversing permutation matrix (a Dense layer without bias: every output is one input times 1), and
 * moved back.
 */
export const flipHorizontalView: TestTimeView = {
  name: 'flip_horizontal',
  build(graph, { width }) {
    const kernel = Buffer.alloc(width * width * 4);
    for (let i = 0; i < width; i++) kernel.writeFloatLE(1, (i * width + (width - 1 - i)) * 4);
    const toLast = graph.define('views/flip_horizontal/width_last', 'Permute', { dims: [1, 3, 2] });
    const reverse = graph.define('views/flip_horizontal/reverse', 'Dense', { units: width, use_bias: false, activation: 'linear' }, { specs: [{ name: 'views/flip_horizontal/reverse/kernel', shape: [width, width], dtype: 'float32' }], data: kernel });
    const back = graph.define('views/flip_horizontal/width_back', 'Permute', { dims: [1, 3, 2] });
    return (input) => graph.call(back, [graph.call(reverse, [graph.call(toLast, [input])])]);
  },
};

/**
 * The views the run's config asks for at test time (`evaluation.tta`), in the order the run's own
 * predictions take them. `flip` has an exact form in stock layers; crops and shifts do not yet, so
 * a run that uses them is refused rather than exported with other numbers than fer predict gives.
 */
export function testTimeViews(config: FerConfig): TestTimeView[] {
  const tta = config.evaluation?.tta ?? [];
  if (tta.length === 0) return [identityView];
  const names = tta.map((item) => entryOf(item).name);
  if (names.length === 1 && names[0] === 'flip' && (config.evaluation?.combine ?? 'mean') === 'mean') return [identityView, flipHorizontalView];
  throw new ExportError(
    `the run's test-time views (evaluation.tta: ${names.join(', ')}${config.evaluation?.combine === 'geometric_mean' ? ', combined by geometric_mean' : ''}) have no portable form: only \`flip\` averaged by mean is exported`,
    'export a run trained without them, or with evaluation.tta: [flip]',
  );
}
