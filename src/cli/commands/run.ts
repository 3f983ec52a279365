import path from 'node:path';
import { drawSaliency } from '../../predict/saliency.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfigWithPlugins } from '../../config/read.js';
import { ConfigError } from '../../core/diagnostic.js';
import { BACKEND_NAMES, predictBackend, type BackendRequest } from '../../backend/backend.js';
import { formatReport } from '../../ensemble/report.js';
import { createDisplay } from '../../run/display.js';
import { killWorkers } from '../../run/pool.js';
import { runExperiment } from '../../run/runner.js';
import { expandTasks, parseShard, shardTasks } from '../../store/tasks.js';
import { createProgress } from '../../core/progress.js';
import { defaultIo, EXIT_FAILURE, EXIT_OK, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { shellCommand } from '../shell-words.js';

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
}

const EXIT_STOPPED = 130;

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
    yargs
      .positional('config', { type: 'string', demandOption: true, describe: 'config file' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list the tasks, their seeds and backend, and train nothing' })
      .option('json', { type: 'boolean', default: false, describe: 'with --dry-run: {"tasks": [{"key", "member", "fold", "seed"}]}; otherwise the summary as JSON' })
      .option('workers', { type: 'number', describe: 'worker processes (default: one per core, each with one thread)' })
      .option('backend', { choices: ['auto', ...BACKEND_NAMES], describe: 'compute backend (default: engine.backend of the config)' })
      .option('shard', { type: 'string', describe: 'run only shard i of n of the tasks, e.g. 2/4 (for job arrays sharing a runs folder)' })
      .option('collect', { type: 'boolean', default: false, describe: 'train nothing: build the ensemble from the finished tasks of all shards' })
      .option('new', { type: 'boolean', default: false, describe: 'start a new run folder even if this config and data already have one' })
      .option('runs', { type: 'string', default: 'runs', describe: 'the runs folder' })
      .option('tracking-uri', { type: 'string', describe: 'MLflow tracking server (default: tracking.uri of the config, then MLFLOW_TRACKING_URI; none: local only)' })
      .example('$0 run configs/demo.yaml', 'the synthetic demo, in about a minute')
      .example('$0 run configs/ensemble16.yaml --dry-run', 'the 64 tasks of the reference experiment')
      .example('$0 run configs/ensemble16.yaml --shard 3/8', 'one eighth of it (a Slurm array task)') as unknown as Argv<RunOptions>,
  handler: async (argv: ArgumentsCamelCase<RunOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const shard = argv.shard === undefined ? undefined : parseShard(argv.shard);
      if (argv.shard !== undefined && !shard) {
        throw new ConfigError([{ severity: 'error', code: 'override-syntax', message: `--shard ${argv.shard}: expected i/n with 1 <= i <= n, e.g. --shard 2/4` }]);
      }
      if (argv.dryRun) {
        const loaded = await loadConfigWithPlugins(argv.config, { overrides: argv.set ?? [] });
        const all = expandTasks(loaded.config);
        const tasks = shard ? shardTasks(all, shard) : all;
        const backend = predictBackend(argv.backend ?? loaded.config.engine.backend);
        if (argv.json) {
          io.stdout(JSON.stringify({ tasks: tasks.map((t) => ({ key: t.key, member: t.member, fold: t.fold, seed: t.seed, model: t.model, backend })) }, null, 2));
        } else {
          io.stdout(`${tasks.length} task${tasks.length === 1 ? '' : 's'}${shard ? ` (shard ${shard.index}/${shard.count} of ${all.length})` : ''}, backend ${backend}, ${loaded.config.training.epochs} epochs each`);
          for (const t of tasks) io.stdout(`  ${t.key.padEnd(24)} model ${t.model.padEnd(12)} fold ${String(t.fold ?? 'all').padEnd(4)} seed ${t.seed}`);
        }
        return EXIT_OK;
      }
      const controller = new AbortController();
      let interrupts = 0;
      const onInterrupt = () => {
        // The first interrupt stops after the current batches; a second one quits at once.
        if (++interrupts > 1) {
          killWorkers();
          process.exit(EXIT_STOPPED);
        }
        controller.abort();
      };
      process.on('SIGINT', onInterrupt);
      process.on('SIGTERM', onInterrupt);
      try {
        const loaded = await loadConfigWithPlugins(argv.config, { overrides: argv.set ?? [] });
        const display = createDisplay(process.stderr, loaded.config.training.epochs, loaded.config.training.batch_size);
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
          display,
          dataProgress: createProgress(process.stderr),
          signal: controller.signal,
          ...(argv.trackingUri ? { trackingUri: argv.trackingUri } : {}),
          modelPictures: (runDir, dataset) => drawSaliency(runDir, dataset),
        });
        display.close();
        const where = path.relative(process.cwd(), result.runDir) || result.runDir;
        if (argv.json) io.stdout(JSON.stringify({ runDir: where, state: result.state, tasks: result.tasks, summary: result.summary ?? null, tracking: result.tracking }, null, 2));
        else if (result.summary) {
          io.stdout(formatReport(result.summary));
          io.stdout(`\noutputs: ${where} (ensemble/report.txt, ensemble/confusion-matrix.png, tasks/*/*/metrics.csv)`);
        } else if (result.state === 'killed') io.stderr(`stopped; rerun the same command to continue (${where})`);
        else if (shard) io.stderr(`shard ${shard.index}/${shard.count} done; when all shards are, build the ensemble with: ${collectCommand(argv)}`);
        return result.state === 'killed' ? EXIT_STOPPED : result.state === 'failed' ? EXIT_FAILURE : EXIT_OK;
      } finally {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
      }
    });
  },
};
