import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { PARENT_RUN } from '../track/journal.js';
import { runTracking } from '../track/sink-kinds.js';
import { RunTracker, type TrackingOutcome } from '../track/tracker.js';
import { writeAtomic } from '../store/run-folder.js';
import type { LoadedSweep } from './load.js';
import { hasObjective, type SweepFile, type TrialRecord } from './state.js';

/**
 * The sweep in tracking: one parent run for the sweep (its spec as an artifact, the objective of
 * each trial as a metric with the trial's number as step, the best trial's id and objective), and
 * each trial's own fer run nested under it through `mlflow.parentRunId` (the trial's tasks are
 * nested under the trial as in any fer run). The sweep keeps its own journal in runs/<sweep>/tracking,
 * so it is delivered exactly once like a run's, and `fer sync` sends it later if the server is down.
 */
export class SweepTracking {
  private readonly tracker: RunTracker;
  private parentRunId: string | undefined;

  constructor(
    private readonly sweep: LoadedSweep,
    private readonly dir: string,
    writer: string,
    trackingUri: string | undefined,
    log: (text: string) => void,
  ) {
    const where = runTracking({ ...(trackingUri ? { cliUri: trackingUri } : {}), config: sweep.base.config.tracking, configName: sweep.name });
    this.tracker = new RunTracker({ runDir: dir, writer, experiment: where.experiment, sinks: where.sinks, log });
  }

  /** Opens the sweep's run and waits briefly for the server's id, which the trials nest under. */
  async start(): Promise<void> {
    await this.tracker.preflight();
    const spec = path.join(this.dir, 'sweep.spec.yaml');
    const section = readFileSync(this.sweep.file, 'utf8');
    writeAtomic(spec, section);
    this.tracker.open({ run: PARENT_RUN, name: `sweep ${this.sweep.name}`, startTime: Date.now(), uid: sweepUid(this.dir), tags: { 'fer.sweep': this.sweep.name, 'fer.kind': 'sweep', 'fer.sweep_digest': this.sweep.digest } });
    this.tracker.logParams(PARENT_RUN, {
      'sweep.search': this.sweep.spec.search.method,
      'sweep.seed': String(this.sweep.spec.search.seed),
      'sweep.objective': `${this.sweep.spec.objective.direction} ${this.sweep.spec.objective.metric} on ${this.sweep.spec.objective.split}`,
      'sweep.pruning': this.sweep.spec.pruning.method,
      'sweep.space': stringify(this.sweep.spec.space.dimensions.map((d) => d.name)).slice(0, 500),
    });
    this.tracker.logArtifact(PARENT_RUN, spec, `sweep/${path.basename(this.sweep.file)}`);
    await this.learnParent(this.sweep.base.config.tracking.flush_seconds * 1000);
  }

  /** Waits (at most `milliseconds`) for the server to have the sweep's run, whose id trials nest under; a server that is down leaves them unnested. */
  async learnParent(milliseconds: number): Promise<void> {
    if (this.parentRunId !== undefined || !this.tracker.sinks.some((s) => s.kind === 'mlflow')) return;
    // A busy server may take a while to create the run; one that cannot be reached is not waited for.
    const deadline = Date.now() + milliseconds;
    while (this.parentRunId === undefined && Date.now() < deadline && !this.tracker.offline) {
      const outcome = await this.tracker.flush(Math.min(1000, deadline - Date.now()));
      this.parentRunId = outcome.find((o) => o.kind === 'mlflow')?.parentRunId;
    }
  }

  /** Tags a trial's fer run carries: its sweep and id, and its parent when the server gave one. */
  trialTags(trial: TrialRecord): Record<string, string> {
    return { 'fer.sweep': this.sweep.name, 'fer.trial': trial.id, ...(this.parentRunId ? { 'mlflow.parentRunId': this.parentRunId } : {}) };
  }

  /** After a trial: its objective as a point of the sweep's curve, and the best so far. */
  trialEnded(trial: TrialRecord, file: SweepFile): void {
    if (hasObjective(trial)) this.tracker.logMetrics(PARENT_RUN, { objective: trial.objective }, trial.index + 1);
    const counts = (state: string) => file.trials.filter((t) => t.state === state).length;
    this.tracker.logMetrics(PARENT_RUN, { trials_finished: counts('finished'), trials_pruned: counts('pruned'), trials_failed: counts('failed'), ...(file.best ? { best_objective: file.best.objective } : {}) }, trial.index + 1);
    if (file.best) this.tracker.setTags(PARENT_RUN, { 'fer.sweep.best_trial': file.best.id, 'fer.sweep.best_objective': String(file.best.objective) });
  }

  async finish(complete: boolean, flushSeconds: number): Promise<TrackingOutcome> {
    for (const file of ['report.txt', 'objective.png', 'parallel-coordinates.png']) {
      const where = path.join(this.dir, file);
      if (existsSync(where)) this.tracker.logArtifact(PARENT_RUN, where, `sweep/${file}`);
    }
    // A sweep stopped early stays open: the next `fer sweep` continues the same run.
    if (complete) this.tracker.close(PARENT_RUN, 'FINISHED');
    return this.tracker.finish(flushSeconds * 1000);
  }
}

/** Names the sweep's run across reruns and shards: made once, kept in the sweep's folder. */
function sweepUid(dir: string): string {
  const file = path.join(dir, 'sweep.uid');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const uid = randomUUID();
  writeAtomic(file, `${uid}\n`);
  return uid;
}
