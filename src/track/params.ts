/**
 * A nested config as flat params: dotted keys (`training.optimizer.adam.learning_rate`), lists of
 * plain values as one JSON value, lists of objects by index (`models.cnn.layers.3.conv2d.filters`).
 * Comparing two runs then shows exactly which YAML values differed. Values are whole: a sink with
 * limits (MLflow's) cuts them as it delivers.
 */
export function flattenConfig(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  walk(value, '', out);
  return out;
}

function walk(value: unknown, prefix: string, out: Record<string, string>): void {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) {
      out[prefix] = JSON.stringify(value);
      return;
    }
    value.forEach((v, i) => walk(v, prefix ? `${prefix}.${i}` : String(i), out));
    return;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) {
      if (prefix) out[prefix] = '{}';
      return;
    }
    for (const [k, v] of entries) walk(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  if (prefix) out[prefix] = value === null || value === undefined ? 'null' : String(value);
}
