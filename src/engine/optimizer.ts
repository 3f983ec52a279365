import type { FerRegistry } from '../registry/index.js';
import type { Tf, TfOptimizer } from '../core/tf.js';
import type { ItemSpec } from '../registry/schema-helpers.js';
import { createNativeOptimizer, nativeOptimizersAvailable } from '../backend/native/optimizers.js';

/** Builds the optimizer a training section names; returns it with its base learning rate. */
export function buildOptimizer(tf: Tf, registry: FerRegistry, spec: ItemSpec): { optimizer: TfOptimizer; baseRate: number } {
  const [type, raw] = typeof spec === 'string' ? [spec, null] : (Object.entries(spec)[0] ?? ['adam', null]);
  const definition = registry.optimizers.get(type);
  if (!definition) throw new Error(`unknown optimizer \`${type}\``);
  // Defaults come from the definition's schema (the config was validated, but a bare name has no arguments).
  const args: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(definition.args.properties)) {
    const value = (raw as Record<string, unknown> | null)?.[key];
    args[key] = value ?? (schema as { default?: unknown }).default;
  }
  const baseRate = args.learning_rate as number;
  // On the native backend Adam, AdamW and SGD run as TensorFlow's fused kernels (native-optimizers.ts).
  if (nativeOptimizersAvailable(tf)) {
    const a = args as Record<string, number & boolean>;
    if (type === 'adam' || type === 'adamw') {
      return {
        optimizer: createNativeOptimizer(tf, { kind: 'adam', learningRate: baseRate, beta1: a.beta_1, beta2: a.beta_2, epsilon: a.epsilon, ...(type === 'adamw' ? { weightDecay: a.weight_decay } : {}) }),
        baseRate,
      };
    }
    if (type === 'sgd') {
      const momentum = (a.momentum ?? 0) > 0 || a.nesterov;
      return { optimizer: createNativeOptimizer(tf, { kind: momentum ? 'momentum' : 'sgd', learningRate: baseRate, momentum: a.momentum, nesterov: a.nesterov }), baseRate };
    }
  }
  return { optimizer: definition.build(args as never, tf), baseRate };
}

/** SGD-family optimizers cache the rate (setLearningRate); the others read the field at each step. */
export function setLearningRate(optimizer: TfOptimizer, rate: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (r: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
  else o.learningRate = rate;
}
