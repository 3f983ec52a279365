import type * as tfjs from '@tensorflow/tfjs';

/**
 * The tfjs namespace a backend loaded (tfjs, tfjs-node...), as a type: every layer above passes it
 * around instead of importing tfjs, so which backend runs is decided once (backend/) and code that
 * only describes models (registry, schema, config) never loads TensorFlow.
 */
export type Tf = typeof tfjs;
export type TfLayer = tfjs.layers.Layer;
export type TfInitializer = ReturnType<Tf['initializers']['zeros']>;
export type TfRegularizer = ReturnType<Tf['regularizers']['l2']>;
export type TfOptimizer = tfjs.Optimizer;
/** A tensor shape with the batch dimension first (null: any size). */
export type Shape = readonly (number | null)[];

/** Shape without the batch dimension, as users write it: 48x48x1. */
export function formatShape(shape: Shape): string {
  const dims = shape.slice(1);
  return dims.length === 0 ? '(scalar)' : dims.map((d) => (d === null ? '?' : String(d))).join('x');
}
