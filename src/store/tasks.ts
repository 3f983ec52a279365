import type { FerConfig } from '../config/types.js';
import { expandMembers, type MemberInstance } from './members.js';
import { deriveSeed } from '../core/seed.js';

/**
 * Task expansion: an experiment trains every ensemble member instance on every fold (ensemble16:
 * 16 members x 4 folds = 64 tasks), plus, when `folds.final_fit` asks, each member once on all the
 * training rows. Seeds (docs/seeds.md):
 *   member seed = deriveSeed(seed, 'member', member index)   class-weight noise
 *   task seed   = deriveSeed(seed, 'task', member index, fold) initial weights, batch order, augmentation, dropout
 * where fold is the fold number from 0, or 'all' for the final fit.
 */
export interface Task {
  /** Stable identifier, also the task's folder name: `cnn-3/fold-1`, `cnn-3/all`. */
  key: string;
  member: string;
  model: string;
  memberIndex: number;
  /** The validation fold, or null for a final fit on all training rows. */
  fold: number | null;
  seed: number;
  memberSeed: number;
  weight: number;
}

export function memberSeed(experimentSeed: number, member: MemberInstance): number {
  return deriveSeed(experimentSeed, 'member', member.index);
}

export function expandTasks(config: FerConfig): Task[] {
  const members = expandMembers(config);
  const k = config.folds?.k ?? 0;
  const finalFit = config.folds ? config.folds.final_fit : true;
  const tasks: Task[] = [];
  for (const member of members) {
    const common = { member: member.name, model: member.model, memberIndex: member.index, memberSeed: memberSeed(config.seed, member), weight: member.weight };
    for (let fold = 0; fold < k; fold++) {
      tasks.push({ ...common, key: `${member.name}/fold-${fold}`, fold, seed: deriveSeed(config.seed, 'task', member.index, fold) });
    }
    if (finalFit) tasks.push({ ...common, key: `${member.name}/all`, fold: null, seed: deriveSeed(config.seed, 'task', member.index, 'all') });
  }
  return tasks;
}

/** `--shard i/n`: every n-th task from the i-th (1-based), so any engine can split the work deterministically; without a shard, every task. */
export function shardTasks(tasks: readonly Task[], shard: { index: number; count: number } | undefined): Task[] {
  return tasks.filter((_, i) => !shard || i % shard.count === shard.index - 1);
}

export function parseShard(text: string): { index: number; count: number } | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return index >= 1 && index <= count ? { index, count } : undefined;
}
