import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { BACKEND_NAMES, type BackendRequest } from '../../backend/backend.js';
import { ConfigError } from '../../core/diagnostic.js';
import { FerError } from '../../core/errors.js';
import { canRedraw } from '../../core/terminal.js';
import { createDisplay, formatDuration } from '../../run/display.js';
import { describeEstimate } from '../../run/estimate.js';
import { parseShard } from '../../store/tasks.js';
import { runSweep } from '../../sweep/driver.js';
import { estimateBaseTrial } from '../../sweep/estimate.js';
import { loadSweep } from '../../sweep/load.js';
import { trialLimit } from '../../sweep/outcome.js';
import { describeDistribution, gridSize } from '../../sweep/space.js';
import { readSweepFile, readTrials, sweepDir, type SweepFile } from '../../sweep/state.js';
import { withHelp, withSet } from '../help.js';
import { EXIT_STOPPED, stopOnInterrupt } from '../interrupt.js';
import { defaultIo, EXIT_FAILURE, EXIT_OK, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';

interface SweepCliOptions extends GlobalOptions {
  config: string;
  dryRun: boolean;
  json: boolean;
  best: boolean;
  write?: string;
  workers?: number;
  backend?: BackendRequest;
  shard?: string;
  collect: boolean;
  runs: string;
  trackingUri?: string;
}


/** What --json prints: the trials and the best, nothing internal. */
function jsonOf(file: SweepFile): unknown {
  return {
    sweep: file.sweep,
    trials: file.trials.map((t) => ({ id: t.id, params: t.params, state: t.state, objective: t.objective ?? null, runDir: t.runDir })),
    best: file.best,
  };
}

export const sweepCommand: CommandModule<GlobalOptions, SweepCliOptions> = {
  command: 'sweep <config>',
  describe: 'Search hyperparameters and architectures declared in the config\'s sweep: section; each trial is a fer run (rerun to continue)',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('config', { type: 'string', demandOption: true, describe: 'config file with a sweep: section' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the search space, the number of trials and an estimated time; train nothing' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"sweep", "trials": [{"id", "params", "state", "objective", "runDir"}], "best"}' })
      .option('best', { type: 'boolean', default: false, describe: 'print the best trial\'s resolved config as YAML (ready for fer run)' })
      .option('write', { type: 'string', describe: 'with --best: write it to this file instead' })
      .option('workers', { type: 'number', describe: 'worker processes per trial (default: one per core)' })
      .option('backend', { choices: ['auto', ...BACKEND_NAMES], describe: 'compute backend (default: engine.backend of the config)' })
      .option('shard', { type: 'string', describe: 'run only trials i, i+n, ... of the sweep, e.g. 2/4 (job arrays sharing a runs folder)' })
      .option('collect', { type: 'boolean', default: false, describe: 'train nothing: gather the trials of all shards into sweep.json and report.txt' })
      .option('runs', { type: 'string', default: 'runs', describe: 'the runs folder' })
      .option('tracking-uri', { type: 'string', describe: 'MLflow tracking server (default: tracking.uri of the config, then MLFLOW_TRACKING_URI)' })),
      {
        examples: [
          ['fer sweep configs/sweeps/quick-sweep.yaml --dry-run', 'the space and budget of the example sweep'],
          ['fer sweep configs/sweeps/quick-sweep.yaml --best --write best.yaml', 'the best trial as a config for fer run'],
        ],
        env: ['config', 'MLFLOW_TRACKING_URI', 'FER_CACHE'],
      },
    ) as unknown as Argv<SweepCliOptions>,
  handler: async (argv: ArgumentsCamelCase<SweepCliOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const shard = argv.shard === undefined ? undefined : parseShard(argv.shard);
      if (argv.shard !== undefined && !shard) {
        throw new ConfigError([{ severity: 'error', code: 'override-syntax', message: `--shard ${argv.shard}: expected i/n with 1 <= i <= n, e.g. --shard 2/4` }]);
      }
      const sets = argv.set ?? [];
      const cwd = process.cwd();
      const runsDir = path.resolve(argv.runs);
      if (argv.dryRun || argv.best) {
        const sweep = await loadSweep(argv.config, sets, cwd);
        const dir = sweepDir(runsDir, sweep.name);
        if (argv.best) {
          const file = readSweepFile(dir);
          if (!file?.best) throw new FerError(`${path.relative(cwd, dir) || dir} has no finished trial yet`, `run fer sweep ${argv.config} first`);
          const resolved = path.join(dir, 'trials', file.best.id, 'config.resolved.yaml');
          if (!existsSync(resolved)) throw new FerError(`the best trial ${file.best.id} has no resolved config at ${resolved}`);
          const text = `# fer sweep ${argv.config}: best trial ${file.best.id}, ${sweep.spec.objective.metric} ${file.best.objective}\n${readFileSync(resolved, 'utf8')}`;
          if (argv.write) {
            writeFileSync(argv.write, text);
            io.stderr(`wrote ${argv.write} (trial ${file.best.id}); run it with: fer run ${argv.write}`);
          } else io.stdout(text.trimEnd());
          return EXIT_OK;
        }
        const limit = trialLimit(sweep.spec);
        const done = readTrials(dir).filter((t) => t.seconds !== undefined && t.state !== 'running');
        const meanSeconds = done.length > 0 ? done.reduce((s, t) => s + t.seconds!, 0) / done.length : undefined;
        const count = Number.isFinite(limit) ? limit : undefined;
        // Before any trial: fer run's estimate of the base experiment (rates timed or cached); the trials' own times after.
        const measured =
          meanSeconds === undefined
            ? await estimateBaseTrial(sweep, { overrides: sets, cwd, runsDir, ...(argv.backend ? { backend: argv.backend } : {}), ...(argv.workers !== undefined ? { workers: argv.workers } : {}) }, (text) => io.stderr(text))
            : undefined;
        const perTrial = meanSeconds ?? measured!.seconds;
        const estimate = count !== undefined ? perTrial * Math.max(0, count - done.length) : undefined;
        if (argv.json) {
          io.stdout(
            JSON.stringify(
              {
                sweep: sweep.name,
                space: sweep.spec.space.dimensions.map((d) => ({ name: d.name, distribution: describeDistribution(d.dist), ...(d.condition ? { when: { [sweep.spec.space.dimensions[d.condition.parent]!.name]: optionLabel(sweep, d.condition) } } : {}) })),
                search: sweep.spec.search,
                objective: sweep.spec.objective,
                pruning: sweep.spec.pruning,
                budget: sweep.spec.budget,
                trials: count ?? null,
                gridSize: gridSize(sweep.spec.space) ?? null,
                estimatedSeconds: estimate ?? null,
                trialSeconds: perTrial,
                ...(measured
                  ? {
                      measured: {
                        backend: measured.backend,
                        workers: measured.workers,
                        imagesPerTrial: measured.images,
                        models: Object.fromEntries(Object.entries(measured.models).map(([model, r]) => [model, { trainImagesPerSecond: r.trainImagesPerSecond, source: r.source }])),
                      },
                    }
                  : {}),
              },
              null,
              2,
            ),
          );
          return EXIT_OK;
        }
        io.stdout(`sweep ${sweep.name}: ${sweep.spec.search.method} search (seed ${sweep.spec.search.seed}), ${sweep.spec.objective.direction} ${sweep.spec.objective.metric} on ${sweep.spec.objective.split}, pruning ${sweep.spec.pruning.method}`);
        io.stdout('space:');
        for (const d of sweep.spec.space.dimensions) {
          io.stdout(`  ${d.name}: ${describeDistribution(d.dist)}${d.condition ? `  (when ${sweep.spec.space.dimensions[d.condition.parent]!.name} = ${optionLabel(sweep, d.condition)})` : ''}`);
        }
        const budget = [count !== undefined ? `${count} trials` : undefined, sweep.spec.budget.minutes !== undefined ? `${sweep.spec.budget.minutes} minutes` : undefined].filter(Boolean).join(', at most ');
        io.stdout(`budget: ${budget}${done.length > 0 ? ` (${done.length} done)` : ''}`);
        if (measured) {
          io.stdout('a trial (the base experiment, as fer run --dry-run estimates it):');
          for (const line of describeEstimate(measured)) io.stdout(`  ${line}`);
        }
        const how = measured ? `about ${formatDuration(perTrial)} a trial` : `the ${done.length} trial${done.length === 1 ? '' : 's'} done took ${formatDuration(perTrial)} each`;
        io.stdout(`estimated time: ${estimate !== undefined ? formatDuration(estimate) : `${formatDuration(perTrial)} a trial, until the minutes run out`} (${how})`);
        return EXIT_OK;
      }

      const interrupt = stopOnInterrupt();
      try {
        // The display counts epochs and batches of the base experiment (a trial may search them: then it is approximate).
        const base = await loadSweep(argv.config, sets, cwd).then((s) => s.base.config.training, () => ({ epochs: 0, batch_size: 0 }));
        const outcome = await runSweep({
          configFile: argv.config,
          overrides: sets,
          cwd,
          runsDir,
          ...(argv.workers !== undefined ? { workers: argv.workers } : {}),
          ...(argv.backend ? { backend: argv.backend } : {}),
          ...(shard ? { shard } : {}),
          collectOnly: argv.collect,
          display: () => createDisplay(process.stderr, { epochs: base.epochs, batchSize: base.batch_size, color: io.color, live: canRedraw(process.stderr) }),
          log: (text) => io.stderr(text),
          signal: interrupt.signal,
          ...(argv.trackingUri ? { trackingUri: argv.trackingUri } : {}),
        });
        const where = path.relative(cwd, outcome.dir) || outcome.dir;
        if (argv.json) io.stdout(JSON.stringify(jsonOf(outcome.file), null, 2));
        else {
          io.stdout(readFileSync(path.join(outcome.dir, 'report.txt'), 'utf8').trimEnd());
          io.stdout(`\noutputs: ${where} (sweep.json, report.txt, trials/<id>: each a fer run folder)`);
        }
        if (outcome.stopped) io.stderr(`stopped; rerun the same command to continue (${where})`);
        const failed = outcome.file.trials.length > 0 && outcome.file.trials.every((t) => t.state === 'failed');
        return outcome.stopped ? EXIT_STOPPED : failed ? EXIT_FAILURE : EXIT_OK;
      } finally {
        interrupt.release();
      }
    });
  },
};

function optionLabel(sweep: Awaited<ReturnType<typeof loadSweep>>, condition: { parent: number; option: number }): string {
  const parent = sweep.spec.space.dimensions[condition.parent]!.dist;
  return 'options' in parent ? parent.options[condition.option]!.label : String(condition.option);
}
