import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { FerError } from '../../core/errors.js';
import { listRuns } from '../../store/run-folder.js';
import { journalFiles } from '../../track/journal.js';
import { SINK_KINDS, sinkForTarget } from '../../track/sink-kinds.js';
import type { Sink } from '../../track/sink.js';
import { MlflowSink } from '../../track/sinks/mlflow/sink.js';
import { resolveMlflowSettings } from '../../track/sinks/mlflow/settings.js';
import { defaultIo, EXIT_FAILURE, EXIT_OK, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp } from '../help.js';

interface SyncOptions extends GlobalOptions {
  run?: string;
  to?: string;
  experiment?: string;
  runs: string;
  json: boolean;
}

export const syncCommand: CommandModule<GlobalOptions, SyncOptions> = {
  command: 'sync [run]',
  describe: "Deliver runs' tracking journals to an MLflow server or a TensorBoard folder (runs recorded offline, while a server was down, or where TensorBoard could not be written)",
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .positional('run', { type: 'string', describe: 'a run folder (default: every run under --runs)' })
      .option('to', { type: 'string', describe: `where to: ${SINK_KINDS.map((k) => k.targetForm).join(', or ')} (default: MLFLOW_TRACKING_URI)` })
      .option('experiment', { type: 'string', describe: 'the MLflow experiment (default: the one recorded with the run)' })
      .option('runs', { type: 'string', default: 'runs', describe: 'the runs folder, when no run is named' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"uri", "runs": [{"runDir", "journals": [{"journal", "delivered", "pending", "rejected"}]}]}' }),
      { examples: [['fer sync runs/demo/run-3f2a9c1b7e40 --to http://127.0.0.1:5000', 'one run to an MLflow server'], ['fer sync runs/demo/run-3f2a9c1b7e40 --to tensorboard:runs/tensorboard', 'one run as TensorBoard event files'], ['MLFLOW_TRACKING_URI=http://mlflow:5000 fer sync', 'everything under runs/']], env: ['MLFLOW_TRACKING_URI', 'MLFLOW_EXPERIMENT_NAME', 'MLFLOW_TRACKING_USERNAME'], exits: '1 also when entries are left: a server away, or artifacts it cannot take from here' },
    ) as Argv<SyncOptions>,
  handler: async (argv: ArgumentsCamelCase<SyncOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const sink = destination(argv.to);
      const dirs = argv.run ? [path.resolve(argv.run)] : listRuns(path.resolve(argv.runs)).map((r) => r.dir);
      for (const dir of dirs) if (!existsSync(dir)) throw new Error(`${dir}: no such run folder`);
      const report: { uri: string; runs: { runDir: string; journals: { journal: string; delivered: number; pending: number; rejected: { seq: number; error: string }[] }[] }[] } = { uri: sink.target, runs: [] };
      let incomplete = false;
      try {
        for (const dir of dirs) {
          const journals = journalFiles(dir);
          const entry: (typeof report.runs)[number] = { runDir: path.relative(process.cwd(), dir) || dir, journals: [] };
          if (journals.length === 0) io.stderr(`${entry.runDir}: no tracking journal (nothing recorded to send)`);
          for (const journal of journals) {
            const delivery = sink.open({ runDir: dir, journalFile: journal, ...(argv.experiment ? { experiment: argv.experiment } : {}) });
            try {
              const result = await delivery.deliver();
              entry.journals.push({ journal: path.basename(journal), ...result });
              if (!argv.json) io.stderr(`${entry.runDir} ${path.basename(journal)}: ${result.delivered} sent, ${result.rejected.length} refused, ${result.pending} left`);
              for (const r of result.rejected) io.stderr(`  refused entry ${r.seq}: ${r.error}`);
              const held = delivery.held();
              if (held) {
                incomplete = true;
                const why = `${held.error.message}${held.error.hint ? ` (${held.error.hint})` : ''}`;
                io.stderr(`${entry.runDir} ${path.basename(journal)}: ${held.entries} artifact entr${held.entries === 1 ? 'y' : 'ies'} held back: ${why}; everything else is delivered`);
              }
            } catch (error) {
              incomplete = true;
              const pending = delivery.pending();
              entry.journals.push({ journal: path.basename(journal), delivered: 0, pending, rejected: [] });
              // An error with a hint needs someone to act (credentials, a missing library): every run would meet it.
              if (error instanceof FerError && error.hint !== undefined) throw error;
              io.stderr(`${entry.runDir} ${path.basename(journal)}: ${(error as Error).message}; ${pending} entries left for the next sync`);
            }
          }
          report.runs.push(entry);
        }
      } finally {
        await sink.close();
      }
      if (argv.json) io.stdout(JSON.stringify(report, null, 2));
      return incomplete ? EXIT_FAILURE : EXIT_OK;
    });
  },
};

/** The sink `--to` names, or the MLflow server in MLFLOW_TRACKING_URI. */
function destination(to: string | undefined): Sink {
  if (to !== undefined && to.trim() !== '') return sinkForTarget(to);
  const settings = resolveMlflowSettings({ configName: '' });
  if (!settings.uri) {
    throw new FerError('fer sync needs a destination: none given', `pass --to with ${SINK_KINDS.map((k) => k.targetForm).join(', or ')}, or set MLFLOW_TRACKING_URI`);
  }
  return new MlflowSink(settings.uri, settings.credentials, settings.uriSource);
}
