import type { Static, TObject } from '@sinclair/typebox';
import { formatShape, type Shape, type Tf, type TfInitializer, type TfLayer, type TfRegularizer } from '../core/tf.js';
import type { Definition } from './registry.js';
import type { ItemSpec, RegularizerSpec } from './schema-helpers.js';

export type LayerFamily =
  | 'convolution'
  | 'dense'
  | 'normalization'
  | 'regularization'
  | 'pooling'
  | 'shape'
  | 'activation'
  | 'merge'
  | 'plugin';

/** What a builder gets besides its arguments. */
export interface LayerBuildContext {
  readonly tf: Tf;
  /** The layer's unique, stable name in the model (also the scope of its weights). */
  readonly name: string;
  readonly trainable: boolean;
  /** Shapes of the tensors the layer will be applied to, batch first. */
  readonly inputShapes: readonly Shape[];
  /** A seeded initializer; `role` (kernel, bias...) keeps the seeds of one layer's weights apart. */
  initializer(spec: ItemSpec, role: string): TfInitializer;
  regularizer(spec: RegularizerSpec | null | undefined): TfRegularizer | undefined;
  /** The tfjs identifier of an activation name (`hard_sigmoid` -> `hardSigmoid`). */
  activation(name: string): string;
  /** A seed for a layer's own randomness (dropout masks, noise). */
  seed(role: string): number;
}

export interface LayerDefinition<A extends TObject = TObject> extends Definition {
  readonly family: LayerFamily;
  /** The Keras class this corresponds to: shown in docs, and accepted as a spelling hint. */
  readonly keras?: string;
  /** Other spellings users are likely to bring (common abbreviations): did-you-mean hints, never accepted names. */
  readonly aliases?: readonly string[];
  readonly args: A;
  /** `multiple` for merge layers (add, concat...), which take `inputs: [a, b, ...]`. */
  readonly inputs?: 'single' | 'multiple';
  /**
   * Checks the input shapes before building; returns what is wrong (and how to fix it) or undefined.
   * Errors tfjs would throw anyway are caught too, but these read better.
   */
  checkInput?(shapes: readonly Shape[], args: Static<A>, inputNames: readonly string[]): string | undefined;
  build(args: Static<A>, context: LayerBuildContext): TfLayer;
}

/** Keeps the argument type of `build` tied to the schema at the definition site. */
export function defineLayer<A extends TObject>(definition: LayerDefinition<A>): LayerDefinition<A> {
  return definition;
}

/** A requirement on the input rank (batch included), phrased for users. */
export function requireRank(shapes: readonly Shape[], rank: number, what: string, fix: string): string | undefined {
  const shape = shapes[0];
  if (shape === undefined || shape.length === rank) return undefined;
  return `${what} needs an input of rank ${rank - 1} (${rank === 4 ? 'height x width x channels' : 'features'}), got ${formatShape(shape)}; ${fix}`;
}

export function pair(value: number | readonly [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}
