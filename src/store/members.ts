import type { FerConfig } from '../config/types.js';

/** One trained instance of a model in the ensemble: `cnn-3` is the third instance of member `cnn`. */
export interface MemberInstance {
  /** Unique, stable name: `<member name or model>-<n>`, n from 1. */
  name: string;
  model: string;
  /** Position among all instances, from 0 (it takes part in the instance's seed). */
  index: number;
  weight: number;
}

/**
 * Every member instance of the ensemble, in config order. Without an `ensemble` section each model
 * is one member, so a config with a single model needs no ensemble section.
 */
export function expandMembers(config: FerConfig): MemberInstance[] {
  const members = config.ensemble?.members ?? Object.keys(config.models).map((model) => ({ model, count: 1, weight: 1 }));
  const out: MemberInstance[] = [];
  for (const member of members) {
    const prefix = ('name' in member && member.name) || member.model;
    for (let i = 1; i <= member.count; i++) {
      out.push({ name: `${prefix}-${i}`, model: member.model, index: out.length, weight: member.weight });
    }
  }
  return out;
}
