import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { isConfigError } from '../core/diagnostic.js';
import { formatDiagnostic } from '../core/diagnostic-format.js';
import { FerError } from '../core/errors.js';
import type { RunDisplay } from '../run/display.js';
import { runExperiment, type RunOptions } from '../run/runner.js';
import { readTaskStatus, writeAtomic } from '../store/run-folder.js';
import { RunBusyError } from '../store/run-lock.js';
import { loadSweep, WITHOUT_SWEEP, type LoadedSweep } from './load.js';
import { objectiveLoss, sweepSummary, trialLimit } from './outcome.js';
import { findPruning, pruneThresholds, pruningMonitor, taskCurves, type Threshold } from './pruning.js';
import { readObjective } from './objective.js';
import { formatSweepReport } from './report.js';
import { objectivePng, parallelCoordinatesPng } from './pictures.js';
import { SweepTracking } from './tracking.js';
import { propose } from './samplers.js';
import { overridesOf, paramsOf, type Assignment } from './space.js';
import { hasObjective, readSweepFile, readTrial, readTrials, sweepDir, trialDir, trialId, writeSweepFile, writeTrial, type SweepFile, type TrialRecord } from './state.js';

/** What a sweep is run with: what fer run takes for each trial (workers are per trial), and its own. */
export interface SweepOptions extends Pick<RunOptions, 'configFile' | 'overrides' | 'cwd' | 'runsDir' | 'workers' | 'backend' | 'shard' | 'collectOnly' | 'signal' | 'trackingUri'> {
  /** A display for one trial's run. */
  display: (trial: string) => RunDisplay;
  log: (text: string) => void;
  /** How long to wait between looks at a trial another shard runs. */
  pollMilliseconds?: number;
}

export interface SweepOutcome {
  dir: string;
  file: SweepFile;
  /** Whether the sweep stopped for an interrupt (rerun to continue). */
  stopped: boolean;
}

/** The sweep's folder was made by another spec: its trials would not mean the same. */
export class SweepChangedError extends FerError {
  constructor(dir: string) {
    super(`${dir} holds a sweep with other parameters, objective, search or pruning`, 'give the sweep another name (name: in its file), or move that folder away to start over');
  }
}

/**
 * Runs a sweep: trial after trial, each a fer run in runs/<sweep>/trials/<id>. Trial k is proposed
 * from the trials 0 .. k-workers (all of them finished, pruned or failed first), so what it tries
 * depends on the seed and that history only: shards running trials side by side, one process
 * running them in turn, and a sweep cut and continued all propose the same trials. A trial cut by
 * an interrupt keeps its record (state running) and resumes from its checkpoints on the next run.
 */
export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const sweep = await loadSweep(options.configFile, options.overrides, options.cwd);
  const dir = sweepDir(options.runsDir, sweep.name);
  const previous = readSweepFile(dir);
  if (previous && previous.digest !== sweep.digest) throw new SweepChangedError(path.relative(options.cwd, dir) || dir);
  if (options.collectOnly) return { dir, file: summarize(sweep, dir, options.cwd), stopped: false };

  const workers = sweep.spec.budget.workers ?? 1;
  const limit = trialLimit(sweep.spec);
  const monitor = pruningMonitor(sweep.spec);
  const writer = options.shard ? `sweep-shard-${options.shard.index}-of-${options.shard.count}` : 'sweep';
  const tracking = new SweepTracking(sweep, dir, writer, options.trackingUri, options.log);
  await tracking.start();
  let stopped = false;
  try {
  for (let k = 0; k < limit; k++) {
    if (options.signal?.aborted) {
      stopped = true;
      break;
    }
    const recorded = readTrial(dir, k);
    if (recorded && recorded.state !== 'running') continue;
    if (options.shard && k % options.shard.count !== options.shard.index - 1) continue;
    if (!recorded && overMinutes(sweep, dir, k)) {
      options.log(`budget: ${sweep.spec.budget.minutes} minutes of trials used; no new trials`);
      break;
    }
    const earlier = await waitForEarlier(dir, k - workers + 1, options);
    if (earlier === undefined) {
      stopped = true;
      break;
    }
    let record = recorded;
    if (!record) {
      const history = earlier.filter(hasObjective).map((t) => ({ assignment: t.assignment, loss: objectiveLoss(sweep.spec, t.objective) }));
      const assignment = propose(sweep.spec.space, sweep.spec.search, k, history);
      if (assignment === undefined) break;
      const thresholds = pruneThresholds(
        sweep.spec.pruning,
        monitor,
        earlier.filter(hasObjective).map((t) => taskCurves(trialDir(dir, t.id), monitor)),
        sweep.base.config.training.epochs,
      );
      record = newRecord(sweep, k, assignment, thresholds);
      writeTrial(dir, record);
    }
    await tracking.learnParent(2000);
    const done = await runTrial(sweep, dir, record, options, tracking);
    const file = summarize(sweep, dir, options.cwd);
    if (done === 'stopped') {
      stopped = true;
      break;
    }
    tracking.trialEnded(readTrial(dir, k) ?? record, file);
  }
  } finally {
    const file = summarize(sweep, dir, options.cwd);
    const complete = !stopped && file.trials.every((t) => t.state !== 'running');
    await tracking.finish(complete, sweep.base.config.tracking.flush_seconds);
  }
  return { dir, file: summarize(sweep, dir, options.cwd), stopped };
}

function newRecord(sweep: LoadedSweep, index: number, assignment: Assignment, thresholds: Threshold[]): TrialRecord {
  const now = new Date().toISOString();
  const overrides = overridesOf(sweep.spec.space, assignment);
  if (thresholds.length > 0) {
    // The trial's own callbacks stay (they may have been searched too): the pruning one is added to whichever it has.
    const callbacks = overrides.find((o) => o.startsWith('training.callbacks='));
    const existing = callbacks ? (JSON.parse(callbacks.slice('training.callbacks='.length)) as unknown[]) : sweep.base.config.training.callbacks;
    const prune = { prune_below: { monitor: pruningMonitor(sweep.spec), thresholds, rule: sweep.spec.pruning.method } };
    const next = `training.callbacks=${JSON.stringify([...existing, prune])}`;
    if (callbacks) overrides[overrides.indexOf(callbacks)] = next;
    else overrides.push(next);
  }
  return { id: trialId(index), index, state: 'running', assignment, params: paramsOf(sweep.spec.space, assignment), overrides, started: now, updated: now };
}

/** Waits until trials 0 .. upTo-1 all have an outcome (other shards run some); undefined when interrupted. */
async function waitForEarlier(dir: string, upTo: number, options: SweepOptions): Promise<TrialRecord[] | undefined> {
  let announced = false;
  for (;;) {
    const trials: TrialRecord[] = [];
    let waiting: string | undefined;
    for (let i = 0; i < upTo; i++) {
      const t = readTrial(dir, i);
      if (!t || t.state === 'running') {
        waiting = trialId(i);
        break;
      }
      trials.push(t);
    }
    if (waiting === undefined) return trials;
    if (!options.shard) {
      // Alone, this process ran every earlier trial; one not done was cut short and is this process's to resume first.
      throw new FerError(`trial ${waiting} has no outcome yet`, 'run fer sweep again: it resumes the trials in order');
    }
    if (!announced) options.log(`waiting for trial ${waiting} (another shard runs it): trials are proposed from the ones before them`);
    announced = true;
    if (options.signal?.aborted) return undefined;
    await new Promise((resolve) => setTimeout(resolve, options.pollMilliseconds ?? 2000));
  }
}

function overMinutes(sweep: LoadedSweep, dir: string, index: number): boolean {
  const minutes = sweep.spec.budget.minutes;
  if (minutes === undefined) return false;
  const used = readTrials(dir)
    .filter((t) => t.index < index)
    .reduce((s, t) => s + (t.seconds ?? 0), 0);
  return used >= minutes * 60;
}

/** Runs (or resumes) one trial and records how it ended. */
async function runTrial(sweep: LoadedSweep, dir: string, record: TrialRecord, options: SweepOptions, tracking: SweepTracking): Promise<'done' | 'stopped'> {
  const runDir = trialDir(dir, record.id);
  const started = Date.now();
  const params = Object.entries(record.params)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : JSON.stringify(v)}`)
    .join(' ');
  options.log(`trial ${record.id}: ${params}`);
  const finish = (update: Partial<TrialRecord>) => {
    const seconds = (record.seconds ?? 0) + (Date.now() - started) / 1000;
    writeTrial(dir, { ...record, ...update, seconds, updated: new Date().toISOString() });
  };
  let result: Awaited<ReturnType<typeof runExperiment>>;
  try {
    result = await runExperiment({
      configFile: sweep.file,
      overrides: [...options.overrides, WITHOUT_SWEEP, ...record.overrides],
      cwd: options.cwd,
      runsDir: options.runsDir,
      runDir,
      trackingTags: tracking.trialTags(record),
      trackingName: `${sweep.name} ${record.id}`,
      beforeTrackingEnd: (state) => {
        if (state !== 'finished') return { tags: { 'fer.trial_state': state === 'killed' ? 'running' : 'failed' } };
        const { objective, pruned } = judgeTrial(sweep, runDir, record);
        return {
          tags: { 'fer.trial_state': !Number.isFinite(objective) ? 'failed' : pruned ? 'pruned' : 'finished', ...(pruned ? { 'fer.pruned': `epoch ${pruned.epoch}: ${pruned.reason}` } : {}) },
          ...(Number.isFinite(objective) ? { metrics: { [`objective_${sweep.spec.objective.metric}`]: objective } } : {}),
        };
      },
      display: options.display(record.id),
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.trackingUri ? { trackingUri: options.trackingUri } : {}),
    });
  } catch (error) {
    // Another process holds the trial: not the trial's failure, and not ours to record.
    if (error instanceof RunBusyError) throw error;
    const message = isConfigError(error) ? error.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d, { color: false })).join('\n') : error instanceof Error ? error.message : String(error);
    finish({ state: 'failed', error: message });
    options.log(`trial ${record.id} FAILED: ${message.split('\n')[0]}`);
    return 'done';
  }
  if (result.state === 'killed') {
    finish({ state: 'running' });
    return 'stopped';
  }
  if (result.state !== 'finished') {
    const errors = result.tasks.flatMap((t) => readTaskStatus(runDir, t.key)?.error ?? []);
    const message = errors[0] ?? `the run ended ${result.state}`;
    finish({ state: 'failed', error: message });
    options.log(`trial ${record.id} FAILED: ${message.split('\n')[0]}`);
    return 'done';
  }
  const { objective, pruned } = judgeTrial(sweep, runDir, record);
  if (!Number.isFinite(objective)) {
    finish({ state: 'failed', error: `no ${sweep.spec.objective.metric} on ${sweep.spec.objective.split} (did the loss diverge?)` });
    options.log(`trial ${record.id} FAILED: its objective is not a number`);
    return 'done';
  }
  finish({ state: pruned ? 'pruned' : 'finished', objective, ...(pruned ? { pruned } : {}) });
  options.log(`trial ${record.id}: ${sweep.spec.objective.metric} ${objective.toFixed(4)}${pruned ? `, pruned at epoch ${pruned.epoch} (${pruned.reason})` : ''}`);
  return 'done';
}

/** A finished trial's objective, and whether (and where) pruning stopped it. */
function judgeTrial(sweep: LoadedSweep, runDir: string, record: TrialRecord): { objective: number; pruned?: { epoch: number; reason: string } } {
  const objective = readObjective(runDir, sweep.spec.objective);
  const pruned = findPruning(runDir, pruningMonitor(sweep.spec), thresholdsOf(record), sweep.spec.pruning.method);
  return { objective, ...(pruned ? { pruned } : {}) };
}

function thresholdsOf(record: TrialRecord): Threshold[] {
  const callbacks = record.overrides.find((o) => o.startsWith('training.callbacks='));
  if (!callbacks) return [];
  const items = JSON.parse(callbacks.slice('training.callbacks='.length)) as { prune_below?: { thresholds: Threshold[] } }[];
  return items.find((i) => i.prune_below)?.prune_below?.thresholds ?? [];
}

/** Rebuilds sweep.json and report.txt from the trials' records. */
function summarize(sweep: LoadedSweep, dir: string, cwd: string): SweepFile {
  const file = sweepSummary(sweep, readTrials(dir), (id) => path.relative(cwd, trialDir(dir, id)) || trialDir(dir, id));
  writeSweepFile(dir, file);
  writeFileSync(path.join(dir, 'report.txt'), formatSweepReport(file));
  const title = `${sweep.name.toUpperCase()}: ${sweep.spec.objective.metric.toUpperCase()} ON ${sweep.spec.objective.split.toUpperCase()}`;
  writeAtomic(path.join(dir, 'objective.png'), objectivePng(file.trials, sweep.spec.objective.direction, title));
  writeAtomic(path.join(dir, 'parallel-coordinates.png'), parallelCoordinatesPng(sweep.spec.space, file.trials, sweep.spec.objective.direction, title));
  return file;
}
