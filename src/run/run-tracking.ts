import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeKernelChoice } from '../backend/kernel-choice.js';
import { describeInitSource } from '../compile/transfer.js';
import { pathsRelativeTo } from '../config/paths.js';
import type { FerConfig } from '../config/types.js';
import { rowsOfSplit, type Dataset } from '../data/dataset.js';
import type { EpochMetrics, TaskStatus } from '../store/run-folder.js';
import type { EnsembleSummary } from '../ensemble/summary.js';
import type { Metrics } from '../ensemble/metrics.js';
import { PARENT_RUN, type DatasetRecord, type RunSource, type TrackStatus } from '../track/journal.js';
import { flattenConfig } from '../track/params.js';
import { redactUri } from '../track/settings.js';
import type { RunTracker } from '../track/tracker.js';
import { readJson, taskDir, writeAtomic, type RunManifest } from '../store/run-folder.js';
import type { Task } from '../store/tasks.js';
import { childRunName, foldLabel, parentRunName } from './run-name.js';
import { ensembleModelPackage, taskModelPackage } from './model-package.js';
import { classNames } from '../config/shape.js';
import type { PictureFile } from '../pictures/picture-file.js';

/**
 * Turns what the runner does into tracking events: one parent run per `fer run` (the resolved config
 * as params, config files as artifacts, the dataset it used, ensemble metrics and a Markdown
 * description), and one child run per task under it, with per-epoch metrics (step = epoch), its
 * best weights and metrics CSV. How each sink shows them is the sink's business (track/sinks/).
 */
export interface RunTrackingContext {
  tracker: RunTracker;
  runDir: string;
  config: FerConfig;
  configFile: string;
  configFiles: readonly string[];
  dataset: Dataset;
  manifest: RunManifest & { uid: string };
  tasks: readonly Task[];
  cwd: string;
  /** The `--set` overrides the run was started with: they name the parent run. */
  overrides: readonly string[];
  /** Tags the caller adds to every run (a sweep's trial: which sweep, which trial, its MLflow parent). */
  extraTags?: Record<string, string>;
  /** The parent run's name, when not the one made from the config and overrides (a sweep's trial: its id). */
  runName?: string;
  /**
   * A smoke run (smoke.ts): its weights are two batches' noise, so no model is logged or registered
   * (4.4 GB of them for ensemble16, uploaded three times over); everything else is tracked as in
   * the real run.
   */
  smoke?: boolean;
}

const EPOCH_KEYS: [keyof EpochMetrics, string][] = [
  ['loss', 'loss'],
  ['accuracy', 'accuracy'],
  ['val_loss', 'val_loss'],
  ['val_accuracy', 'val_accuracy'],
  ['test_loss', 'test_loss'],
  ['test_accuracy', 'test_accuracy'],
  ['learning_rate', 'learning_rate'],
  ['seconds', 'epoch_seconds'],
  ['images_per_second', 'images_per_second'],
  ['stage', 'stage'],
];

const NOTICES_TAG = 'fer.notices';
/** The artifact holding the parent's params whole (sinks with limits on param values point to it). */
const PARAMS_ARTIFACT = 'config/params.json';

export class RunTracking {
  private readonly tracker: RunTracker;
  private readonly tasks: Map<string, Task>;

  constructor(private readonly context: RunTrackingContext) {
    this.tracker = context.tracker;
    this.tasks = new Map(context.tasks.map((t) => [t.key, t]));
  }

  /** Who ran it, from which config file and commit. */
  private source(): RunSource {
    const { configFile, cwd } = this.context;
    const commit = gitCommit(path.dirname(path.resolve(cwd, configFile)));
    return { user: os.userInfo().username, file: path.relative(cwd, configFile) || configFile, ...(commit ? { commit } : {}) };
  }

  /** fer's tags on every run (version, backend, digests, where the run folder is) and the config's own. */
  private runTags(): Record<string, string> {
    const { config, manifest, cwd } = this.context;
    return {
      'fer.version': manifest.ferVersion,
      'fer.backend': manifest.backend ?? 'unknown',
      ...(manifest.kernels ? { 'fer.kernels': describeKernelChoice(manifest.kernels), 'fer.cpu': manifest.kernels.cpu } : {}),
      'fer.data_digest': manifest.dataDigest,
      'fer.config_digest': manifest.configDigest,
      'fer.run_dir': path.relative(cwd, this.context.runDir) || this.context.runDir,
      ...config.tracking.tags,
      ...this.context.extraTags,
    };
  }

  /** The parent run: params, dataset, config files, a first description. Repeated calls add only what is new. */
  start(): void {
    const { config, runDir, dataset, tracker } = { ...this.context, tracker: this.tracker };
    tracker.open({ run: PARENT_RUN, name: this.context.runName ?? this.parentName(), startTime: Date.parse(this.context.manifest.created), uid: this.context.manifest.uid, source: this.source(), tags: this.runTags() });
    // The tracking section is where the run is reported, not what it is; a URI may hold credentials.
    // Templates are definitions, long and full of docs: one digest each shows in a comparison
    // that a block changed; the definitions themselves are in config/config.resolved.yaml.
    const { tracking, description: _description, templates, ...rest } = config;
    const templateDigests = Object.fromEntries(Object.entries(templates ?? {}).map(([name, t]) => [name, `sha256:${createHash('sha256').update(JSON.stringify(t)).digest('hex').slice(0, 12)}`]));
    // Paths as the config file sees them: the same params from every checkout and machine.
    const params = flattenConfig({ ...pathsRelativeTo(rest, this.context.configFile), templates: templateDigests, tracking: { ...tracking, uri: tracking.uri ? redactUri(tracking.uri) : null } });
    const paramsFile = path.join(runDir, 'tracking', 'params.json');
    writeAtomic(paramsFile, `${JSON.stringify(params, null, 2)}\n`);
    tracker.logParams(PARENT_RUN, params, PARAMS_ARTIFACT);
    tracker.logArtifact(PARENT_RUN, paramsFile, PARAMS_ARTIFACT);
    tracker.logArtifact(PARENT_RUN, path.join(runDir, 'config.resolved.yaml'), 'config/config.resolved.yaml');
    const sources = path.join(runDir, 'sources');
    if (existsSync(sources)) for (const file of readdirSync(sources).sort()) tracker.logArtifact(PARENT_RUN, path.join(sources, file), `config/sources/${file}`);
    tracker.logDataset(PARENT_RUN, datasetRecord(dataset, config));
    tracker.setNote(PARENT_RUN, this.describe());
    tracker.setTags(PARENT_RUN, this.initTags());
  }

  /** The parent's name in a runs table: the config's name plus its overrides or a short id. */
  parentName(): string {
    return parentRunName(this.context.config.name, path.basename(this.context.runDir), this.context.overrides);
  }

  /** fer.init.<model>: where a model's initial weights came from, and their digest. */
  private initTags(): Record<string, string> {
    const tags: Record<string, string> = {};
    const baseDir = path.dirname(this.context.configFile);
    for (const [name, model] of Object.entries(this.context.config.models)) {
      if (!model.init) continue;
      try {
        const source = describeInitSource(model.init, baseDir);
        tags[`fer.init.${name}`] = `${source.description} sha256:${source.digest}`;
      } catch (error) {
        tags[`fer.init.${name}`] = `unreadable: ${(error as Error).message}`;
      }
    }
    return tags;
  }

  taskStart(key: string): void {
    const task = this.tasks.get(key);
    if (!task) return;
    const { config } = this.context;
    this.tracker.open({
      run: key,
      name: childRunName(this.context.runName ?? this.parentName(), key),
      parent: PARENT_RUN,
      startTime: Date.now(),
      uid: this.context.manifest.uid,
      source: this.source(),
      tags: { ...this.runTags(), 'fer.member': task.member, 'fer.model': task.model, 'fer.fold': foldLabel(task.fold) },
    });
    this.tracker.logParams(key, {
      member: task.member,
      model: task.model,
      fold: foldLabel(task.fold),
      seed: String(task.seed),
      epochs: String(config.training.epochs),
      batch_size: String(config.training.batch_size),
      optimizer: JSON.stringify(config.training.optimizer),
    });
  }

  epoch(key: string, metrics: EpochMetrics): void {
    if (!this.tracker.isOpen(key)) this.taskStart(key);
    // A task resumed after a kill that came between the worker's metrics.json and the journal:
    // the epochs the journal lacks go first, so every sink gets the steps in order (TensorBoard
    // draws a step that comes late as a line going back in time).
    if (metrics.epoch > 1 && !this.tracker.hasStep(key, 'loss', metrics.epoch - 1)) this.catchUpEpochs(key, metrics.epoch);
    this.logEpoch(key, metrics);
  }

  private logEpoch(key: string, metrics: EpochMetrics): void {
    this.tracker.logMetrics(key, Object.fromEntries(EPOCH_KEYS.map(([from, to]) => [to, metrics[from] as number | undefined])), metrics.epoch);
  }

  /**
   * Something the worker said about how a task runs (its training steps fell back to op by op, say):
   * kept on the child run as the `fer.notices` tag, one line each, so a slower run explains itself
   * where runs are compared. Lines from an earlier process of a resumed run stay.
   */
  notice(key: string, message: string): void {
    if (!this.tracker.isOpen(key)) this.taskStart(key);
    const earlier = this.tracker.tag(key, NOTICES_TAG)?.split('\n') ?? [];
    if (earlier.includes(message)) return;
    this.tracker.setTags(key, { [NOTICES_TAG]: [...earlier, message].join('\n') });
  }

  /**
   * One reading of the machine's use on a task's run, at the step after its last one (a resumed
   * task goes on numbering), so each reading is a new point and none is sent twice.
   */
  systemMetrics(key: string, metrics: Record<string, number>, timestamp: number): void {
    if (!this.tracker.isOpen(key)) return;
    const first = Object.keys(metrics)[0];
    if (!first) return;
    this.tracker.logMetrics(key, metrics, this.tracker.nextStep(key, first), timestamp);
  }

  /**
   * Epochs (before `before`) in the task's metrics.json the journal lacks (a runner killed between
   * the two), journaled in epoch order: nothing lost, nothing out of order.
   */
  private catchUpEpochs(key: string, before = Number.POSITIVE_INFINITY): void {
    const history = readJson<EpochMetrics[]>(path.join(taskDir(this.context.runDir, key), 'metrics.json')) ?? [];
    for (const m of history) if (m.epoch < before && !this.tracker.hasStep(key, 'loss', m.epoch)) this.logEpoch(key, m);
  }

  taskFinished(key: string, bestEpoch: number): void {
    if (!this.tracker.isOpen(key)) this.taskStart(key);
    this.catchUpEpochs(key);
    const dir = taskDir(this.context.runDir, key);
    const status = readJson<Pick<TaskStatus, 'summary' | 'kept'>>(path.join(dir, 'status.json'));
    const summary = status?.summary;
    this.tracker.logMetrics(
      key,
      {
        best_epoch: bestEpoch,
        final_val_accuracy: summary?.val_accuracy,
        final_test_accuracy: summary?.test_accuracy,
        // With test-time views: the same predictions from the images alone, beside the figures above.
        final_val_accuracy_plain: summary?.val_accuracy_plain,
        final_test_accuracy_plain: summary?.test_accuracy_plain,
        train_seconds: summary?.seconds,
      },
      0,
    );
    if (status?.kept) this.tracker.setTags(key, { 'fer.kept_weights': status.kept });
    this.tracker.logArtifact(key, path.join(dir, 'metrics.csv'), 'metrics.csv');
    // The weights go once, as the task's logged model (a server before MLflow 3 keeps it among the
    // run's artifacts): a copy among the run's own artifacts too was a second upload of every
    // model (43 MB per ResNet-18 task).
    if (existsSync(path.join(dir, 'model')) && !this.context.smoke) {
      const { dataset, manifest } = this.context;
      const pkg = taskModelPackage(this.context.runDir, key, dataset.image, classNames(this.context.config), manifest.created, manifest.ferVersion);
      this.tracker.logModel(key, manifest.uid, pkg.name, pkg.files, { 'fer.member': this.tasks.get(key)?.member ?? '', 'fer.best_epoch': String(bestEpoch) });
    }
    this.tracker.close(key, 'FINISHED');
  }

  taskEnded(key: string, status: Exclude<TrackStatus, 'FINISHED'>, error?: string): void {
    if (!this.tracker.isOpen(key)) this.taskStart(key);
    this.catchUpEpochs(key);
    const dir = taskDir(this.context.runDir, key);
    if (existsSync(path.join(dir, 'metrics.csv'))) this.tracker.logArtifact(key, path.join(dir, 'metrics.csv'), 'metrics.csv');
    if (error) {
      this.tracker.setTags(key, { 'fer.error': error });
      this.tracker.setNote(key, `**${status}**\n\n\`\`\`\n${error.slice(0, 4000)}\n\`\`\``);
    }
    this.tracker.close(key, status);
  }

  /** Ends the parent: ensemble metrics and files when finished, the failures when not. */
  end(state: RunManifest['state'], summary: EnsembleSummary | undefined, failures: { key: string; error: string }[]): void {
    const { runDir } = this.context;
    if (summary) {
      this.tracker.logMetrics(PARENT_RUN, summaryMetrics(summary), 0);
      const dir = path.join(runDir, 'ensemble');
      for (const file of ['confusion-matrix.png', 'confusion-matrix.svg', 'confusion-matrix.json', 'summary.json', 'report.txt', 'predictions.test.csv']) {
        if (existsSync(path.join(dir, file))) this.tracker.logArtifact(PARENT_RUN, path.join(dir, file), `ensemble/${file}`);
      }
      // At the artifact root too, where MLflow's compare view sets runs' images side by side.
      if (existsSync(path.join(dir, 'confusion-matrix.png'))) this.tracker.logArtifact(PARENT_RUN, path.join(dir, 'confusion-matrix.png'), 'confusion-matrix.png');
      if (!this.context.smoke) this.logEnsembleModel(summary);
    }
    if (failures.length > 0) {
      this.tracker.setTags(PARENT_RUN, { 'fer.error': failures.map((f) => `${f.key}: ${f.error}`).join('\n') });
    }
    this.tracker.setNote(PARENT_RUN, this.describe(summary, failures, state));
    if (state === 'finished') this.tracker.close(PARENT_RUN, 'FINISHED');
    else if (state === 'failed') this.tracker.close(PARENT_RUN, 'FAILED');
    else if (state === 'killed') this.tracker.close(PARENT_RUN, 'KILLED');
    // 'running' (a shard done, others not): the parent stays open for the next writer.
  }

  /**
   * The run's pictures, each on the run it belongs to under `pictures/` (PNG and SVG); the parent's
   * PNGs at its artifact root as well, for MLflow's compare view.
   */
  pictures(files: readonly PictureFile[]): void {
    for (const p of files) {
      this.tracker.logArtifact(p.run, p.png, `pictures/${p.name}.png`);
      this.tracker.logArtifact(p.run, p.svg, `pictures/${p.name}.svg`);
      if (p.run === PARENT_RUN) this.tracker.logArtifact(p.run, p.png, `${p.name}.png`);
    }
  }

  /**
   * The saved ensemble as the parent's model, and, when `tracking.register` names a registered
   * model, a new version of it with the run's test accuracy and data digest as tags.
   */
  private logEnsembleModel(summary: EnsembleSummary): void {
    const { runDir, manifest, dataset, config } = this.context;
    let pkg: ReturnType<typeof ensembleModelPackage>;
    try {
      pkg = ensembleModelPackage(runDir, dataset.image, manifest.ferVersion);
    } catch (error) {
      // The run's results stand without it; the reason stays on the run.
      this.tracker.setTags(PARENT_RUN, { 'fer.model_error': (error as Error).message });
      return;
    }
    const accuracy = summary.ensemble.test?.accuracy;
    const logged = this.tracker.logModel(PARENT_RUN, manifest.uid, pkg.name, pkg.files, { 'fer.combine': summary.method, ...(accuracy !== undefined ? { 'fer.test_accuracy': String(accuracy) } : {}) });
    if (logged && config.tracking.register) {
      this.tracker.register({ run: PARENT_RUN, uid: manifest.uid, model: pkg.name, registeredModel: config.tracking.register, tags: registrationTags(summary, manifest.dataDigest, config.name) });
    }
  }

  /** The parent's description (Markdown), which sinks show with the run. */
  describe(summary?: EnsembleSummary, failures: { key: string; error: string }[] = [], state: RunManifest['state'] = 'running'): string {
    const { config, tasks, dataset } = this.context;
    const members = [...new Set(tasks.map((t) => t.member))];
    const folds = config.folds?.k ?? 1;
    const lines = [`**${config.name}**${config.description ? `: ${config.description}` : ''}`, ''];
    lines.push(`${members.length} member${members.length === 1 ? '' : 's'} x ${tasks.length / Math.max(1, members.length)} task${tasks.length === members.length ? '' : 's'} each (${folds} fold${folds === 1 ? '' : 's'}), ${tasks.length} child runs; data ${dataset.source}, ${dataset.labels.length} rows, digest \`${dataset.digest.slice(0, 12)}\`.`);
    lines.push('');
    if (failures.length > 0) {
      lines.push(`**FAILED**: ${failures.length} task${failures.length === 1 ? '' : 's'} failed.`, '');
      for (const f of failures.slice(0, 20)) lines.push(`- \`${f.key}\`: ${f.error.split('\n')[0]}`);
      lines.push('');
    } else if (state === 'killed') {
      lines.push('**KILLED**: stopped before the end; rerunning the same command continues it.', '');
    }
    if (summary) {
      const pct = (m: Metrics | undefined) => (m ? `${(m.accuracy * 100).toFixed(1)}%` : '-');
      const f1 = (m: Metrics | undefined) => (m ? m.macroF1.toFixed(3) : '-');
      lines.push('| | out-of-fold accuracy | test accuracy | test macro-F1 |', '|---|---|---|---|');
      lines.push(`| **ensemble (${summary.method})** | ${pct(summary.ensemble.oof)} | ${pct(summary.ensemble.test)} | ${f1(summary.ensemble.test)} |`);
      const plain = summary.views?.withoutViews;
      if (plain) lines.push(`| ensemble without test-time views | ${pct(plain.oof)} | ${pct(plain.test)} | ${f1(plain.test)} |`);
      for (const [model, m] of Object.entries(summary.models)) lines.push(`| all ${model} | ${pct(m.oof)} | ${pct(m.test)} | ${f1(m.test)} |`);
      for (const m of summary.members) lines.push(`| ${m.name} (${m.model}) | ${pct(m.oof)} | ${pct(m.test)} | ${f1(m.test)} |`);
      if (summary.views) lines.push('', `Test-time views: ${summary.views.label}.`);
      const kept = tasks.map((t) => [t.key, readJson<Pick<TaskStatus, 'kept'>>(path.join(taskDir(this.context.runDir, t.key), 'status.json'))?.kept] as const).filter(([, k]) => k);
      if (kept.length > 0) lines.push('', 'Weights kept:', ...kept.slice(0, 20).map(([key, k]) => `- \`${key}\`: ${k}`));
    } else if (failures.length === 0 && state === 'running') {
      lines.push('Training: results appear here when every task has finished.');
    }
    return lines.join('\n');
  }
}

/** A registered version's tags: what it scored on the test rows, on which data, from which config. */
export function registrationTags(summary: EnsembleSummary | undefined, dataDigest: string, configName: string): Record<string, string> {
  const test = summary?.ensemble.test;
  return {
    ...(test ? { test_accuracy: String(test.accuracy), test_macro_f1: String(test.macroF1) } : {}),
    data_digest: dataDigest,
    config: configName,
  };
}

/** Metric names group by their prefix before `/` (MLflow's charts, TensorBoard's sections). */
export function summaryMetrics(summary: EnsembleSummary): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (prefix: string, part: 'oof' | 'test', m: Metrics | undefined) => {
    if (!m) return;
    out[`${prefix}${part}_accuracy`] = m.accuracy;
    out[`${prefix}${part}_macro_f1`] = m.macroF1;
    out[`${prefix}${part}_log_loss`] = m.logLoss;
  };
  put('', 'oof', summary.ensemble.oof);
  put('', 'test', summary.ensemble.test);
  // With test-time views, the figures without them beside (test_accuracy is with them).
  put('plain/', 'oof', summary.views?.withoutViews.oof);
  put('plain/', 'test', summary.views?.withoutViews.test);
  const perClass = summary.ensemble.test ?? summary.ensemble.oof;
  const split = summary.ensemble.test ? 'test' : 'oof';
  for (const [name, c] of Object.entries(perClass?.perClass ?? {})) out[`${split}_recall/${name}`] = c.recall;
  for (const [model, m] of Object.entries(summary.models)) {
    put(`model/${model}/`, 'oof', m.oof);
    put(`model/${model}/`, 'test', m.test);
  }
  for (const m of summary.members) {
    put(`member/${m.name}/`, 'oof', m.oof);
    put(`member/${m.name}/`, 'test', m.test);
  }
  return out;
}

function datasetRecord(dataset: Dataset, config: FerConfig): DatasetRecord {
  const rows = Object.fromEntries(dataset.splitNames.map((s) => [s, rowsOfSplit(dataset, s).length]));
  const [kind, ...where] = dataset.source.split(' ');
  const location = where.join(' ');
  const name = location ? path.basename(location).replace(/(\.csv)?(\.gz)?$/, '') : (kind ?? 'data');
  return {
    name,
    digest: dataset.digest,
    context: 'training',
    source: { kind: kind ?? 'data', uri: location || (kind ?? ''), split: config.data?.split ?? {} },
    schema: { images: `uint8[${dataset.image.height},${dataset.image.width},${dataset.image.channels}]`, classes: dataset.classes },
    profile: { rows: dataset.labels.length, splits: rows },
  };
}

function gitCommit(dir: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}
