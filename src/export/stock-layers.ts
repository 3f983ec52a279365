import { ExportError } from './export-error.js';

/**
 * fer's own layer classes as the stock TensorFlow.js classes they are at inference. fer trains with
 * subclasses (fused batch norm, dropout and noise with stateless random ops) that keep the stock
 * weights and config but register their own class names, which stock tfjs cannot load. At
 * inference they compute exactly what the stock layer computes (batch norm with its moving
 * statistics, dropout and noise as the identity), so the export names the stock class and keeps
 * the weights. The weight penalty serialises as tfjs's own L1L2 already.
 */
const STOCK_CLASS: Readonly<Record<string, { className: string; keep: readonly string[] }>> = {
  FerBatchNormalization: {
    className: 'BatchNormalization',
    keep: ['axis', 'momentum', 'epsilon', 'center', 'scale', 'beta_initializer', 'gamma_initializer', 'moving_mean_initializer', 'moving_variance_initializer', 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint'],
  },
  FerDropout: { className: 'Dropout', keep: ['rate', 'noiseShape', 'seed'] },
  FerGaussianNoise: { className: 'GaussianNoise', keep: ['stddev'] },
  FerGaussianDropout: { className: 'GaussianDropout', keep: ['rate'] },
  FerAlphaDropout: { className: 'AlphaDropout', keep: ['rate', 'noiseShape'] },
};

/** Keys every layer's config may carry (tfjs's base Layer reads them). */
const BASE_KEYS = ['name', 'trainable', 'dtype', 'batch_input_shape'];

interface Serialized {
  class_name: string;
  config: Record<string, unknown>;
}

function isSerialized(value: unknown): value is Serialized {
  return typeof value === 'object' && value !== null && typeof (value as Serialized).class_name === 'string' && typeof (value as Serialized).config === 'object';
}

/**
 * The value with every fer class replaced by its stock class, everywhere in it (layers of nested
 * models, regularizers, initializers). A plugin's class (`plugin.Name`, the form fer requires of
 * them) or any other fer class has no stock form: an ExportError names the layer it is in.
 */
export function toStockClasses<T>(value: T, where: string): T {
  if (Array.isArray(value)) return value.map((v) => toStockClasses(v, where)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const inner = isSerialized(value) && typeof value.config.name === 'string' ? value.config.name : where;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) out[key] = toStockClasses(v, inner);
  if (!isSerialized(value)) return out as T;
  const className = value.class_name;
  const stock = STOCK_CLASS[className];
  if (stock) {
    const config = out.config as Record<string, unknown>;
    const kept = Object.fromEntries([...BASE_KEYS, ...stock.keep].filter((k) => k in config).map((k) => [k, config[k]]));
    return { ...out, class_name: stock.className, config: kept } as T;
  }
  if (className.includes('.')) {
    const plugin = className.split('.')[0]!;
    throw new ExportError(
      `the layer \`${inner}\` is a ${className} of the plugin \`${plugin}\`, which has no portable form: stock TensorFlow.js cannot load it`,
      'export a member without plugin layers (--member NAME), or load the model in a program that registers the plugin class',
    );
  }
  if (/^Fer[A-Z]/.test(className)) {
    throw new ExportError(`the layer \`${inner}\` is fer's ${className}, which has no stock TensorFlow.js equivalent yet`);
  }
  return out as T;
}
