import type { LocatedNode } from './located.js';

/**
 * Deep merge for composition (`extends` and overrides): maps merge key by key, anything else
 * (scalars, lists) is replaced whole by the overriding side. Lists are not concatenated because a
 * layer stack or a member list that half-inherits is never what a researcher means.
 */
export function mergeLocated(base: LocatedNode, override: LocatedNode): LocatedNode {
  if (base.kind !== 'map' || override.kind !== 'map') return override;
  const entries = new Map(base.entries);
  for (const [key, value] of override.entries) {
    const inherited = entries.get(key);
    entries.set(key, inherited === undefined ? value : { ...mergeLocated(inherited, value), keySpan: value.keySpan ?? inherited.keySpan });
  }
  return { ...override, entries };
}
