import path from 'node:path';
import { drawSaliency } from '../../predict/saliency.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfigWithPlugins } from '../../config/read.js';
import { ConfigError, isConfigError } from '../../core/diagnostic.js';
import { BACKEND_NAMES, predictBackend, predictNativePackage, type BackendRequest } from '../../backend/backend.js';
import { formatReport } from '../../ensemble/report.js';
import { estimatePrepared, prepareRun, runExperiment } from '../../run/runner.js';
import { describeEstimate, LONG_RUN_SECONDS, shortenings, type RunEstimate } from '../../run/estimate.js';
import { canRedraw } from '../../core/terminal.js';
import { createDisplay, type RunDisplay } from '../../run/display.js';
import { askYesNo } from '../prompt.js';
import { smokeLoaded } from '../../run/smoke.js';
import { expandTasks, parseShard, shardTasks } from '../../store/tasks.js';
import { createProgress } from '../../core/progress.js';
import { EXIT_STOPPED, stopOnInterrupt } from '../interrupt.js';
import { defaultIo, EXIT_FAILURE, EXIT_OK, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { shellCommand } from '../shell-words.js';
import { withHelp, withSet } from '../help.js';

interface RunOptions extends GlobalOptions {
  config: string;
  dryRun: boolean;
  json: boolean;
  workers?: number;
  backend?: BackendRequest;
  shard?: string;
  collect: boolean;
  new: boolean;
  runs: string;
  trackingUri?: string;
  yes: boolean;
  smoke: boolean;
}


/**
 * The `--collect` command for the run a shard wrote to: the same config, runs folder and `--set`s
 * (they are part of the run's identity, so without them the collect looks for another run), and the
 * same tracking server (the collect logs the ensemble there).
 */
function collectCommand(argv: RunOptions): string {
  return shellCommand([
    'fer',
    'run',
    argv.config,
    '--collect',
    ...(argv.runs !== 'runs' ? ['--runs', argv.runs] : []),
    ...(argv.set ?? []).flatMap((s) => ['--set', s]),
    ...(argv.trackingUri ? ['--tracking-uri', argv.trackingUri] : []),
  ]);
}

export const runCommandModule: CommandModule<GlobalOptions, RunOptions> = {
  command: 'run <config>',
  describe: 'Train every ensemble member on every fold, then combine and evaluate the ensemble (rerun to resume)',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('config', { type: 'string', demandOption: true, describe: 'config file' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list the tasks, their seeds and backend, and train nothing' })
      .option('json', { type: 'boolean', default: false, describe: 'with --dry-run: {"tasks": [{"key", "member", "fold", "seed"}]}; otherwise the summary as JSON' })
      .option('workers', { type: 'number', describe: 'worker processes (default: one per core, each with one thread)' })
      .option('backend', { choices: ['auto', ...BACKEND_NAMES], describe: 'compute backend (default: engine.backend of the config)' })
      .option('shard', { type: 'string', describe: 'run only shard i of n of the tasks, e.g. 2/4 (for job arrays sharing a runs folder)' })
      .option('collect', { type: 'boolean', default: false, describe: 'train nothing: build the ensemble from the finished tasks of all shards' })
      .option('new', { type: 'boolean', default: false, describe: 'start a new run folder even if this config and data already have one' })
      .option('runs', { type: 'string', default: 'runs', describe: 'the runs folder' })
      .option('smoke', { type: 'boolean', default: false, describe: `every task for 2 epochs of about 2 small batches on a slice of the data, then the ensemble, report and tracking (no models logged: its weights are noise): the whole pipeline in minutes, as experiment <name>-smoke (its own run folder and MLflow experiment)` })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'start a run estimated to take over an hour without asking (runs not on a terminal never ask)' })
      .option('tracking-uri', { type: 'string', describe: 'MLflow tracking server (default: tracking.uri of the config, then MLFLOW_TRACKING_URI; none: local only)' })),
      { examples: [['fer run configs/demo.yaml', 'the synthetic demo, in about a minute'], ['fer run configs/ensemble16.yaml --dry-run', 'the 64 tasks of the reference experiment and how long they would take here'], ['fer run configs/ensemble16.yaml --smoke', 'all of it in miniature, to check the config end to end in minutes'], ['fer run configs/ensemble16.yaml --shard 3/8', 'one eighth of it (a Slurm array task)']], env: ['config', 'MLFLOW_TRACKING_URI', 'MLFLOW_EXPERIMENT_NAME', 'MLFLOW_TRACKING_USERNAME', 'FER_LOCK_STALE_SECONDS', 'FER_KERNELS', 'FER_CACHE', 'CUDA_VISIBLE_DEVICES'], exits: '130 stopped by Ctrl-C (rerun to continue); 1 also when a tracking server cannot take the run\'s artifacts from here (they wait for fer sync)' },
    ) as unknown as Argv<RunOptions>,
  handler: async (argv: ArgumentsCamelCase<RunOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const shard = argv.shard === undefined ? undefined : parseShard(argv.shard);
      if (argv.shard !== undefined && !shard) {
        throw new ConfigError([{ severity: 'error', code: 'override-syntax', message: `--shard ${argv.shard}: expected i/n with 1 <= i <= n, e.g. --shard 2/4` }]);
      }
      if (argv.dryRun) {
        const read = await loadConfigWithPlugins(argv.config, { overrides: argv.set ?? [] });
        const config = (argv.smoke ? smokeLoaded(read) : read).config;
        const all = expandTasks(config);
        const tasks = shardTasks(all, shard);
        const backend = predictBackend(argv.backend ?? config.engine.backend);
        // The estimate needs the data (its rows) and workers to time the models; the task list does not.
        let estimate: RunEstimate | undefined;
        let problem: string | undefined;
        try {
          const prepared = await prepareRun({ configFile: argv.config, overrides: argv.set ?? [], cwd: process.cwd(), runsDir: path.resolve(argv.runs), fresh: argv.new, smoke: argv.smoke, dataProgress: createProgress(process.stderr) });
          estimate = await estimatePrepared({ ...(argv.backend ? { backend: argv.backend } : {}), ...(argv.workers !== undefined ? { workers: argv.workers } : {}), ...(shard ? { shard } : {}), cwd: process.cwd(), smoke: argv.smoke }, prepared, (text) => io.stderr(text));
        } catch (error) {
          if (isConfigError(error)) throw error;
          problem = error instanceof Error ? error.message : String(error);
        }
        if (argv.json) {
          io.stdout(JSON.stringify({ tasks: tasks.map((t) => ({ key: t.key, member: t.member, fold: t.fold, seed: t.seed, model: t.model, backend })), estimate: estimate ? estimateJson(estimate) : null, ...(problem ? { estimateProblem: problem } : {}) }, null, 2));
        } else {
          io.stdout(`${tasks.length} task${tasks.length === 1 ? '' : 's'}${shard ? ` (shard ${shard.index}/${shard.count} of ${all.length})` : ''}, backend ${backend}, ${config.training.epochs} epochs each`);
          for (const t of tasks) io.stdout(`  ${t.key.padEnd(24)} model ${t.model.padEnd(12)} fold ${String(t.fold ?? 'all').padEnd(4)} seed ${t.seed}`);
          if (!estimate) io.stdout(`no time estimate: ${problem}`);
          else {
            for (const line of describeEstimate(estimate)) io.stdout(line);
            if (estimate.seconds > LONG_RUN_SECONDS) for (const line of shortenings(estimate, `fer run ${argv.config}`, false)) io.stdout(`  - ${line}`);
          }
        }
        return EXIT_OK;
      }
      const interrupt = stopOnInterrupt();
      try {
        const read = await loadConfigWithPlugins(argv.config, { overrides: argv.set ?? [] });
        const loaded = argv.smoke ? smokeLoaded(read) : read;
        const display = createDisplay(process.stderr, { epochs: loaded.config.training.epochs, batchSize: loaded.config.training.batch_size, color: io.color, live: canRedraw(process.stderr) });
        const result = await runExperiment({
          configFile: argv.config,
          overrides: argv.set ?? [],
          cwd: process.cwd(),
          runsDir: path.resolve(argv.runs),
          ...(argv.workers !== undefined ? { workers: argv.workers } : {}),
          ...(argv.backend ? { backend: argv.backend } : {}),
          ...(shard ? { shard } : {}),
          collectOnly: argv.collect,
          fresh: argv.new,
          smoke: argv.smoke,
          display,
          dataProgress: createProgress(process.stderr),
          signal: interrupt.signal,
          // A smoke run is itself the quick look: it is not estimated.
          ...(argv.smoke ? {} : { beforeTraining: (estimate, problem) => confirmEstimate(display, estimate, problem, { command: `fer run ${argv.config}`, ask: !argv.yes && !argv.json && process.stdin.isTTY === true && process.stderr.isTTY === true }) }),
          ...(argv.trackingUri ? { trackingUri: argv.trackingUri } : {}),
          modelPictures: (runDir, dataset) => drawSaliency(runDir, dataset),
        });
        display.close();
        if (result.declined) {
          io.stderr(interrupt.signal.aborted ? 'stopped before training; nothing was written' : 'not started');
          return interrupt.signal.aborted ? EXIT_STOPPED : EXIT_FAILURE;
        }
        const where = path.relative(process.cwd(), result.runDir) || result.runDir;
        if (argv.json) io.stdout(JSON.stringify({ runDir: where, state: result.state, tasks: result.tasks, summary: result.summary ?? null, tracking: result.tracking, estimate: result.estimate ? estimateJson(result.estimate) : null }, null, 2));
        else if (result.summary) {
          io.stdout(formatReport(result.summary));
          io.stdout(`\noutputs: ${where} (ensemble/report.txt, ensemble/confusion-matrix.png, tasks/*/*/metrics.csv)`);
        } else if (result.state === 'killed') io.stderr(`stopped; rerun the same command to continue (${where})`);
        if (argv.smoke && result.state === 'finished') io.stderr(`smoke run finished: the config works end to end (${where}); the real run: fer run ${argv.config}`);
        else if (shard) io.stderr(`shard ${shard.index}/${shard.count} done; when all shards are, build the ensemble with: ${collectCommand(argv)}`);
        // Artifacts a tracking server cannot take from here are not a finished delivery: say so in the exit code too.
        const held = result.tracking.sinks.some((sink) => (sink.held ?? 0) > 0);
        return result.state === 'killed' ? EXIT_STOPPED : result.state === 'failed' || held ? EXIT_FAILURE : EXIT_OK;
      } finally {
        interrupt.release();
      }
    });
  },
};

/** The estimate as --json prints it (per-task seconds stay internal). */
function estimateJson(e: RunEstimate) {
  return { tasks: e.tasks, epochs: e.epochs, rows: e.rows, images: e.images, seconds: Math.round(e.seconds), workers: e.workers, threads: e.threads, backend: e.backend, long: e.seconds > LONG_RUN_SECONDS, models: e.models };
}

/**
 * Shows the work and its estimate before training; a run estimated over an hour also gets what
 * would shorten it and, on a terminal without --yes, a question. No estimate is no reason to stop.
 */
async function confirmEstimate(display: RunDisplay, estimate: RunEstimate | undefined, problem: string | undefined, how: { command: string; ask: boolean }): Promise<boolean> {
  if (!estimate) {
    display.message(`no time estimate: ${problem ?? 'unknown reason'}`);
    return true;
  }
  if (estimate.tasks === 0) return true;
  for (const line of describeEstimate(estimate)) display.message(line);
  if (estimate.seconds <= LONG_RUN_SECONDS) return true;
  display.message('that is long; what would shorten it:');
  for (const line of shortenings(estimate, how.command, estimate.backend === 'tensorflow' && predictNativePackage() === '@tensorflow/tfjs-node-gpu')) display.message(`  - ${line}`);
  if (!how.ask) return true;
  return askYesNo('start it? [y/N] ');
}
