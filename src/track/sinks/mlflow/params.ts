import { flattenConfig } from '../../params.js';

/**
 * Params as MLflow takes them: keys at most 250 characters, values at most 6000 (its server refuses
 * longer ones). A value cut to fit says which artifact holds it whole.
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

/** A nested config as MLflow params (flattenConfig, then fitParams). */
export function flattenParams(value: unknown, artifactName: string): FlattenedParams {
  const whole = flattenConfig(value);
  return { ...fitParams(whole, artifactName), whole };
}

/** Cuts keys and values MLflow would refuse; `artifactName` is where the whole values are. */
export function fitParams(whole: Record<string, string>, artifactName: string | undefined): Omit<FlattenedParams, 'whole'> {
  const params: Record<string, string> = {};
  const shortened: string[] = [];
  for (const [key, text] of Object.entries(whole)) {
    let k = key;
    let v = text;
    if (k.length > PARAM_KEY_LIMIT) {
      k = `${k.slice(0, PARAM_KEY_LIMIT - 10)}…${hash(k)}`;
    }
    if (v.length > PARAM_VALUE_LIMIT) {
      const note = artifactName ? ` … (cut; whole in ${artifactName})` : ' … (cut)';
      v = `${v.slice(0, PARAM_VALUE_LIMIT - note.length)}${note}`;
    }
    if (k !== key || v !== text) shortened.push(key);
    params[k] = v;
  }
  return { params, shortened };
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
