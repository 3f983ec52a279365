import { FerError } from '../core/errors.js';
import path from 'node:path';
import type { FerConfig } from '../config/types.js';
import { classNames as modelClasses } from '../config/shape.js';
import { listRuns, readPredictions, readRunManifest, readTaskStatus, taskDir, writeAtomic, writePredictions } from '../store/run-folder.js';
import type { Task } from '../store/tasks.js';
import { combine, fitWeights, type CombineMethod } from '../ensemble/combine.js';
import { confusionSvg } from '../pictures/confusion.js';
import { svgToPng } from '../pictures/render.js';
import { computeMetrics, type Metrics } from '../ensemble/metrics.js';
import type { EnsembleSummary } from '../ensemble/summary.js';
import { formatReport } from '../ensemble/report.js';
import { viewsLabel } from '../data/test-time.js';

/**
 * The ensemble of a finished run, from the predictions its tasks saved (no model is loaded):
 * - a member's out-of-fold (OOF) predictions are its fold models' predictions on their validation
 *   rows, which together cover every training row once;
 * - a member's test predictions are the mean of its fold models' (or its final-fit model's);
 * - members are combined per model type and over all, by the configured method; fitted weights
 *   (ensemble.fit_weights) are fitted on the OOF predictions only.
 */
interface MemberPredictions {
  name: string;
  model: string;
  weight: number;
  oof?: { rows: Int32Array; labels: Uint8Array; probabilities: Float32Array };
  test?: { rows: Int32Array; labels: Uint8Array; probabilities: Float32Array };
}

/** A member's predictions; `variant` `.plain`: those made without the test-time views. */
function gatherMember(runDir: string, tasks: readonly Task[], classes: number, variant: '' | '.plain' = ''): MemberPredictions {
  const first = tasks[0]!;
  const folds = tasks.filter((t) => t.fold !== null);
  const final = tasks.find((t) => t.fold === null);
  const result: MemberPredictions = { name: first.member, model: first.model, weight: first.weight };
  // OOF: every fold's validation rows, put in dataset row order.
  const parts = folds.map((t) => readPredictions(path.join(taskDir(runDir, t.key), `predictions.validation${variant}.csv`), classes)).filter((p) => p !== undefined);
  if (parts.length > 0 && parts.length === folds.length) {
    const rows = parts.flatMap((p) => Array.from(p.rows));
    const order = rows.map((_, i) => i).sort((a, b) => rows[a]! - rows[b]!);
    const flatRows = Int32Array.from(order, (i) => rows[i]!);
    const allLabels = parts.flatMap((p) => Array.from(p.labels));
    const labels = Uint8Array.from(order, (i) => allLabels[i]!);
    const all = parts.flatMap((p) => Array.from(p.probabilities));
    const probabilities = new Float32Array(order.length * classes);
    order.forEach((source, target) => probabilities.set(all.slice(source * classes, (source + 1) * classes), target * classes));
    result.oof = { rows: flatRows, labels, probabilities };
  }
  const testSources = final ? [final] : folds;
  const tests = testSources.map((t) => readPredictions(path.join(taskDir(runDir, t.key), `predictions.test${variant}.csv`), classes)).filter((p) => p !== undefined);
  if (tests.length > 0 && tests.length === testSources.length) {
    const probabilities = combine(tests.map((t) => t.probabilities), classes, 'mean');
    result.test = { rows: tests[0]!.rows, labels: tests[0]!.labels, probabilities };
  }
  return result;
}

export function evaluateRun(runDir: string, config: FerConfig, tasks: readonly Task[], write = true): EnsembleSummary {
  const classNames = modelClasses(config);
  const classes = classNames.length;
  const byMember = new Map<string, Task[]>();
  for (const task of tasks) byMember.set(task.member, [...(byMember.get(task.member) ?? []), task]);
  const members = [...byMember.values()].map((t) => gatherMember(runDir, t, classes));
  const method: CombineMethod = config.ensemble?.combine ?? 'mean';

  let weights = members.map((m) => m.weight);
  const allOof = members.every((m) => m.oof);
  if (method === 'weighted_mean' && config.ensemble?.fit_weights && allOof) {
    weights = fitWeights(members.map((m) => m.oof!.probabilities), members[0]!.oof!.labels, classes);
  }
  const combineSet = (set: MemberPredictions[], part: 'oof' | 'test', setWeights: number[]): Metrics | undefined => {
    if (set.length === 0 || !set.every((m) => m[part])) return undefined;
    const probabilities = combine(set.map((m) => m[part]!.probabilities), classes, method, setWeights);
    return computeMetrics(probabilities, set[0]![part]!.labels, classNames);
  };

  const summary: EnsembleSummary = {
    method,
    weights: Object.fromEntries(members.map((m, i) => [m.name, weights[i]!])),
    classes: classNames,
    members: members.map((m) => ({
      name: m.name,
      model: m.model,
      ...(m.oof ? { oof: computeMetrics(m.oof.probabilities, m.oof.labels, classNames) } : {}),
      ...(m.test ? { test: computeMetrics(m.test.probabilities, m.test.labels, classNames) } : {}),
    })),
    models: {},
    ensemble: {},
  };
  for (const model of new Set(members.map((m) => m.model))) {
    const indices = members.map((m, i) => (m.model === model ? i : -1)).filter((i) => i >= 0);
    const set = indices.map((i) => members[i]!);
    const setWeights = indices.map((i) => weights[i]!);
    const oof = combineSet(set, 'oof', setWeights);
    const test = combineSet(set, 'test', setWeights);
    summary.models[model] = { ...(oof ? { oof } : {}), ...(test ? { test } : {}) };
  }
  const oof = combineSet(members, 'oof', weights);
  const test = combineSet(members, 'test', weights);
  summary.ensemble = { ...(oof ? { oof } : {}), ...(test ? { test } : {}) };
  if ((config.evaluation?.tta ?? []).length > 0) {
    // The same ensemble from the images alone, beside it: the gain of the test-time views.
    const plain = [...byMember.values()].map((t) => gatherMember(runDir, t, classes, '.plain'));
    const plainOof = combineSet(plain, 'oof', weights);
    const plainTest = combineSet(plain, 'test', weights);
    summary.views = { label: viewsLabel(config.evaluation.tta), withoutViews: { ...(plainOof ? { oof: plainOof } : {}), ...(plainTest ? { test: plainTest } : {}) } };
  }

  if (write) {
    const dir = path.join(runDir, 'ensemble');
    writeAtomic(path.join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeAtomic(path.join(dir, 'report.txt'), `${formatReport(summary)}\n`);
    const shown = summary.ensemble.test ?? summary.ensemble.oof;
    if (shown) {
      writeAtomic(path.join(dir, 'confusion-matrix.json'), `${JSON.stringify({ classes: classNames, split: summary.ensemble.test ? 'test' : 'out-of-fold', confusion: shown.confusion }, null, 2)}\n`);
      const split = summary.ensemble.test ? 'test' : 'out-of-fold';
      const svg = confusionSvg(shown.confusion, classNames, `${config.name}: ${split} accuracy ${(shown.accuracy * 100).toFixed(1)}%`, `ensemble (${method}) of ${members.length} member${members.length === 1 ? '' : 's'}, ${shown.rows} ${split} images; cells: share of the row, count`);
      writeAtomic(path.join(dir, 'confusion-matrix.svg'), svg);
      writeAtomic(path.join(dir, 'confusion-matrix.png'), svgToPng(svg));
    }
    if (members.every((m) => m.test)) {
      const probabilities = combine(members.map((m) => m.test!.probabilities), classes, method, weights);
      writePredictions(path.join(dir, 'predictions.test.csv'), members[0]!.test!.rows, members[0]!.test!.labels, probabilities, classNames);
    }
  }
  return summary;
}

/** `fer run --collect` finds the run folder unfinished, or trained under another config or data. */
export class CollectError extends FerError {
  constructor(message: string, hint: string) {
    super(message, hint);
    this.name = 'CollectError';
  }
}

/**
 * Before `--collect` builds an ensemble, every task must be finished in this run folder under this
 * config and data (its fingerprint). Each shard reads the YAML itself, so a config edited between
 * shards, other `--set`s, plugins or data give another digest and so another run folder: that, or a
 * task trained under another fingerprint, is said plainly (a CollectError) instead of ending
 * quietly with no ensemble. Nothing is written.
 */
export function checkCollectable(options: { runDir: string; runsDir: string; experiment: string; configDigest: string; dataDigest: string; cwd: string }, tasks: readonly Task[], fingerprint: (task: Task) => string): void {
  const where = (dir: string) => path.relative(options.cwd, dir) || dir;
  const same = 'each shard must run the same config, overrides, plugins and data; a config edited since the shards ran gives another run folder';
  if (!readRunManifest(options.runDir)) {
    const others = listRuns(options.runsDir).filter((r) => r.manifest.experiment === options.experiment);
    const differs = (mine: string, theirs: string) => (mine === theirs ? 'same' : `${theirs.slice(0, 12)}, this one ${mine.slice(0, 12)}`);
    const found = others.map((r) => `${where(r.dir)} (${r.manifest.state}; config digest ${differs(options.configDigest, r.manifest.configDigest)}; data digest ${differs(options.dataDigest, r.manifest.dataDigest)})`);
    throw new CollectError(
      `nothing to collect: no run of this config and data at ${where(options.runDir)}${found.length > 0 ? `; runs of experiment ${options.experiment}: ${found.join(', ')}` : ''}`,
      `${same}: collect with the config the shards ran (a run folder keeps it in config.resolved.yaml and sources/)`,
    );
  }
  const stale: string[] = [];
  const unfinished: string[] = [];
  for (const task of tasks) {
    const status = readTaskStatus(options.runDir, task.key);
    if (status && status.fingerprint !== fingerprint(task)) stale.push(`${task.key} (fingerprint ${status.fingerprint}, this config's ${fingerprint(task)})`);
    else if (status?.state !== 'finished') unfinished.push(`${task.key} (${status?.state ?? 'not started'})`);
  }
  if (stale.length === 0 && unfinished.length === 0) return;
  const parts = [
    ...(unfinished.length > 0 ? [`${unfinished.length} of ${tasks.length} tasks not finished: ${unfinished.join(', ')}`] : []),
    ...(stale.length > 0 ? [`${stale.length} trained under another config or data: ${stale.join(', ')}`] : []),
  ];
  throw new CollectError(
    `cannot build the ensemble of ${where(options.runDir)}: ${parts.join('; ')}`,
    stale.length > 0 ? `${same}; rerun the shards of those tasks with this config (fer run <config> --shard i/n), then collect again` : 'finish the shards that have these tasks (fer run <config> --shard i/n, rerun to resume), then collect again',
  );
}

