import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { PlainValue } from '../config/located.js';
import { readJson, writeAtomic } from '../store/run-folder.js';
import type { Assignment } from './space.js';

/**
 * A sweep on disk: runs/<sweep>/trials/<id>/ is each trial's fer run folder, with trial.json (what
 * the sweep decided for it and how it ended) beside run.json; runs/<sweep>/sweep.json gathers them.
 * Each trial's record is written by the one process running it, atomically, so shards sharing the
 * folder never write the same file; sweep.json is rebuilt from the records by whoever finishes one.
 */
export type TrialState = 'running' | 'finished' | 'pruned' | 'failed';

export interface TrialRecord {
  id: string;
  /** From 0: the order proposals are made in. */
  index: number;
  state: TrialState;
  assignment: Assignment;
  params: Record<string, PlainValue>;
  /** The --set overrides that make the trial's config from the sweep file. */
  overrides: string[];
  objective?: number;
  /** Set when the trial was pruned: the first epoch a task stopped at, and why. */
  pruned?: { epoch: number; reason: string };
  error?: string;
  seconds?: number;
  started: string;
  updated: string;
}

export interface SweepFile {
  sweep: string;
  digest: string;
  configFile: string;
  objective: { metric: string; split: string; direction: string };
  updated: string;
  trials: (TrialRecord & { runDir: string })[];
  best: { id: string; objective: number; params: Record<string, PlainValue> } | null;
}

export function sweepDir(runsDir: string, name: string): string {
  return path.join(runsDir, name);
}

export function trialId(index: number): string {
  return `t${String(index + 1).padStart(4, '0')}`;
}

export function trialDir(dir: string, id: string): string {
  return path.join(dir, 'trials', id);
}

export function readTrial(dir: string, index: number): TrialRecord | undefined {
  return readJson<TrialRecord>(path.join(trialDir(dir, trialId(index)), 'trial.json'));
}

export function writeTrial(dir: string, record: TrialRecord): void {
  writeAtomic(path.join(trialDir(dir, record.id), 'trial.json'), `${JSON.stringify(record, null, 2)}\n`);
}

/** Every trial recorded, in trial order. */
export function readTrials(dir: string): TrialRecord[] {
  const folder = path.join(dir, 'trials');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => /^t\d+$/.test(name))
    .flatMap((name) => readJson<TrialRecord>(path.join(folder, name, 'trial.json')) ?? [])
    .sort((a, b) => a.index - b.index);
}

/** Finished and pruned trials count: both measured the objective. Failed and running ones have none. */
export function hasObjective(trial: TrialRecord): trial is TrialRecord & { objective: number } {
  return (trial.state === 'finished' || trial.state === 'pruned') && trial.objective !== undefined && Number.isFinite(trial.objective);
}

/** The best trial: by objective in the sweep's direction, pruned trials included, ties to the earlier. */
export function bestTrial(trials: readonly TrialRecord[], direction: 'maximize' | 'minimize'): (TrialRecord & { objective: number }) | undefined {
  let best: (TrialRecord & { objective: number }) | undefined;
  for (const t of trials) {
    if (!hasObjective(t)) continue;
    if (!best || (direction === 'maximize' ? t.objective > best.objective : t.objective < best.objective)) best = t;
  }
  return best;
}

export function readSweepFile(dir: string): SweepFile | undefined {
  return readJson<SweepFile>(path.join(dir, 'sweep.json'));
}

export function writeSweepFile(dir: string, file: SweepFile): void {
  writeAtomic(path.join(dir, 'sweep.json'), `${JSON.stringify(file, null, 2)}\n`);
}
