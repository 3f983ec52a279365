/**
 * A nested config as MLflow params: dotted keys (`training.optimizer.adam.learning_rate`), lists of
 * plain values as one JSON value, lists of objects by index (`models.cnn.layers.3.conv2d.filters`).
 * Comparing two runs in the MLflow UI then shows exactly which YAML values differed.
 */
export const PARAM_VALUE_LIMIT = 6000;
export const PARAM_KEY_LIMIT = 250;

export interface FlattenedParams {
  /** Fit for MLflow: values cut to its limit with a pointer to the artifact holding them whole. */
  params: Record<string, string>;
  /** Every value whole, for the params artifact. */
  whole: Record<string, string>;
  /** Keys whose value (or key) was too long for MLflow. */
  shortened: string[];
}

export function flattenParams(value: unknown, artifactName: string): FlattenedParams {
  const whole: Record<string, string> = {};
  walk(value, '', whole);
  const params: Record<string, string> = {};
  const shortened: string[] = [];
  for (const [key, text] of Object.entries(whole)) {
    let k = key;
    let v = text;
    if (k.length > PARAM_KEY_LIMIT) {
      k = `${k.slice(0, PARAM_KEY_LIMIT - 10)}…${hash(k)}`;
    }
    if (v.length > PARAM_VALUE_LIMIT) {
      const note = ` … (cut; whole in ${artifactName})`;
      v = `${v.slice(0, PARAM_VALUE_LIMIT - note.length)}${note}`;
    }
    if (k !== key || v !== text) shortened.push(key);
    params[k] = v;
  }
  return { params, whole, shortened };
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

/** A short stable suffix keeping cut keys distinct (FNV-1a, enough for this). */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
