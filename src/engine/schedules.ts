import { normalizeItem } from '../config/normalize.js';
import { entryOf, type Item, type ItemSpec } from '../core/item-spec.js';
import { builtinRegistry, type FerRegistry } from '../registry/index.js';
import type { Schedule } from '../registry/schedules.js';

export { initialScheduleState, type Schedule, type ScheduleState } from '../registry/schedules.js';

/** A constant rate: no schedule. */
const constant = (baseRate: number): Schedule => ({ rate: () => baseRate, endEpoch: () => {} });

/**
 * The schedule `training.schedule` names (registry/schedules.ts), for an optimizer's base rate over
 * the epochs of one stage; null or absent: the base rate throughout.
 */
export function buildSchedule(spec: ItemSpec | Item | null | undefined, baseRate: number, epochs: number, registry: FerRegistry = builtinRegistry()): Schedule {
  if (!spec) return constant(baseRate);
  const { name, args } = entryOf(normalizeItem(registry, 'schedule', spec));
  return registry.schedules.get(name)!.build(args as never, { baseRate, epochs });
}
