import { FerError } from '../../core/errors.js';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { EnsembleSummary } from '../../ensemble/summary.js';
import { listRuns, readJson, readRunManifest, readTaskStatus } from '../../store/run-folder.js';
import { openRun } from '../../store/saved-run.js';
import { MlflowClient, type Run } from '../../track/sinks/mlflow/client.js';
import { resolveMlflowSettings } from '../../track/sinks/mlflow/settings.js';
import { defaultIo, runCommand, type CommandIo } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp } from '../help.js';

interface RunsOptions extends GlobalOptions {
  action: 'list' | 'show';
  id?: string;
  trackingUri?: string;
  experiment?: string;
  runs: string;
  limit: number;
  json: boolean;
}

/** One row of `fer runs list`, the same for a server and the local folder. */
interface RunRow {
  runId: string;
  experiment: string;
  name: string;
  status: string;
  started: string;
  children: number;
  test_accuracy: number | null;
  where: string;
}

const tagsOf = (run: Run) => Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
const metric = (run: Run, key: string) => run.data.metrics?.find((m) => m.key === key)?.value ?? null;
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);

export const runsCommand: CommandModule<GlobalOptions, RunsOptions> = {
  command: 'runs <action> [id]',
  describe: 'A quick look at runs from the terminal: on the MLflow server if one is set, else under runs/',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .positional('action', { choices: ['list', 'show'] as const, demandOption: true, describe: 'list runs, or show one' })
      .positional('id', { type: 'string', describe: 'for show: an MLflow run id, or a run folder' })
      .option('tracking-uri', { type: 'string', describe: 'MLflow server (default: MLFLOW_TRACKING_URI; none: the local runs folder)' })
      .option('experiment', { type: 'string', describe: 'only this experiment' })
      .option('runs', { type: 'string', default: 'runs', describe: 'the local runs folder' })
      .option('limit', { type: 'number', default: 20, describe: 'list at most this many, newest first' })
      .option('json', { type: 'boolean', default: false, describe: 'list: {"runs": [{"runId", "experiment", "name", "status", "started", "children", "test_accuracy", "where"}]}' }),
      { examples: [['fer runs list', 'the latest runs'], ['fer runs show runs/demo/run-3f2a9c1b7e40', 'one local run and its tasks']], env: ['MLFLOW_TRACKING_URI', 'MLFLOW_EXPERIMENT_NAME', 'MLFLOW_TRACKING_USERNAME'] },
    ) as unknown as Argv<RunsOptions>,
  handler: async (argv: ArgumentsCamelCase<RunsOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const settings = resolveMlflowSettings({ ...(argv.trackingUri ? { cliUri: argv.trackingUri } : {}), configName: '' });
      const localShow = argv.action === 'show' && argv.id !== undefined && (argv.id.includes('/') || argv.id.startsWith('run-'));
      if (!settings.uri || localShow) return local(io, argv);
      const client = new MlflowClient({ uri: settings.uri, credentials: settings.credentials });
      try {
        return argv.action === 'list' ? await serverList(io, argv, client) : await serverShow(io, argv, client);
      } finally {
        await client.close();
      }
    });
  },
};

async function serverList(io: CommandIo, argv: RunsOptions, client: MlflowClient): Promise<void> {
  const experiments = await client.searchExperiments();
  const chosen = argv.experiment ? experiments.filter((e) => e.name === argv.experiment) : experiments;
  if (argv.experiment && chosen.length === 0) throw new Error(`no experiment "${argv.experiment}" on ${client.uri}`);
  const names = new Map(chosen.map((e) => [e.experiment_id, e.name]));
  const runs = chosen.length > 0 ? await client.searchRuns(chosen.map((e) => e.experiment_id), '', ['attributes.start_time DESC']) : [];
  const children = new Map<string, number>();
  for (const r of runs) {
    const parent = tagsOf(r)['mlflow.parentRunId'];
    if (parent) children.set(parent, (children.get(parent) ?? 0) + 1);
  }
  const rows: RunRow[] = runs
    .filter((r) => !tagsOf(r)['mlflow.parentRunId'])
    .slice(0, argv.limit)
    .map((r) => ({
      runId: r.info.run_id,
      experiment: names.get(r.info.experiment_id) ?? r.info.experiment_id,
      name: r.info.run_name ?? '',
      status: r.info.status,
      started: r.info.start_time ? new Date(Number(r.info.start_time)).toISOString() : '',
      children: children.get(r.info.run_id) ?? 0,
      test_accuracy: metric(r, 'test_accuracy'),
      where: `${client.uri}/#/experiments/${r.info.experiment_id}/runs/${r.info.run_id}`,
    }));
  printRows(io, argv, rows);
}

async function serverShow(io: CommandIo, argv: RunsOptions, client: MlflowClient): Promise<void> {
  if (!argv.id) throw new FerError('fer runs show needs a run id', 'fer runs list shows them');
  const run = await client.getRun(argv.id);
  const children = await client.searchRuns([run.info.experiment_id], `tags.\`mlflow.parentRunId\` = '${argv.id.replace(/'/g, '')}'`);
  if (argv.json) {
    io.stdout(JSON.stringify({ run, children }, null, 2));
    return;
  }
  io.stdout(`${run.info.run_name} ${run.info.run_id} ${run.info.status} (experiment ${run.info.experiment_id})`);
  io.stdout(`  started ${run.info.start_time ? new Date(Number(run.info.start_time)).toISOString() : '?'}${run.info.end_time ? `, ended ${new Date(Number(run.info.end_time)).toISOString()}` : ''}`);
  const error = tagsOf(run)['fer.error'];
  if (error) io.stdout(`  error: ${error.split('\n')[0]}`);
  io.stdout(`  ${run.data.params?.length ?? 0} params; metrics:`);
  for (const m of [...(run.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key)).filter((m) => !m.key.includes('/'))) io.stdout(`    ${m.key.padEnd(20)} ${Number(m.value).toFixed(4)}`);
  if (children.length > 0) {
    io.stdout(`  ${children.length} child runs:`);
    for (const c of children.sort((a, b) => (a.info.run_name ?? '').localeCompare(b.info.run_name ?? ''))) {
      io.stdout(`    ${(c.info.run_name ?? '').padEnd(22)} ${c.info.status.padEnd(9)} val_acc ${pct(metric(c, 'val_accuracy'))}  epochs ${metric(c, 'loss') === null ? 0 : ((c.data.metrics ?? []).find((m) => m.key === 'loss')?.step ?? '?')}`);
    }
  }
}

function local(io: CommandIo, argv: RunsOptions): void {
  const runsDir = path.resolve(argv.runs);
  if (argv.action === 'list') {
    const rows: RunRow[] = listRuns(runsDir)
      .filter((r) => !argv.experiment || r.manifest.experiment === argv.experiment)
      .slice(0, argv.limit)
      .map(({ dir, manifest }) => ({
        runId: manifest.runId,
        experiment: manifest.experiment,
        name: manifest.experiment,
        status: manifest.state.toUpperCase(),
        started: manifest.created,
        children: manifest.tasks,
        test_accuracy: readJson<EnsembleSummary>(path.join(dir, 'ensemble', 'summary.json'))?.ensemble.test?.accuracy ?? null,
        where: path.relative(process.cwd(), dir) || dir,
      }));
    printRows(io, argv, rows);
    return;
  }
  if (!argv.id) throw new FerError('fer runs show needs a run', 'give a run folder (fer runs list shows them)');
  const found = argv.id.includes('/') ? path.resolve(argv.id) : listRuns(runsDir).find((r) => r.manifest.runId === argv.id)?.dir;
  const manifest = found ? readRunManifest(found) : undefined;
  if (!found || !manifest) throw new Error(`${argv.id}: not a run folder (no run.json)`);
  const tasks = openRun(found).tasks.map((t) => ({ key: t.key, status: readTaskStatus(found, t.key) }));
  const summary = readJson<EnsembleSummary>(path.join(found, 'ensemble', 'summary.json'));
  if (argv.json) {
    io.stdout(JSON.stringify({ manifest, tasks, summary: summary ?? null }, null, 2));
    return;
  }
  io.stdout(`${manifest.experiment} ${manifest.runId} ${manifest.state.toUpperCase()} (${path.relative(process.cwd(), found) || found})`);
  io.stdout(`  created ${manifest.created}, updated ${manifest.updated}, backend ${manifest.backend ?? '?'}, fer ${manifest.ferVersion}`);
  if (summary?.ensemble.test) io.stdout(`  test_accuracy  ${summary.ensemble.test.accuracy.toFixed(4)}  macro-F1 ${summary.ensemble.test.macroF1.toFixed(4)}`);
  if (summary?.ensemble.oof) io.stdout(`  oof_accuracy   ${summary.ensemble.oof.accuracy.toFixed(4)}`);
  io.stdout(`  ${tasks.length} tasks:`);
  for (const t of tasks) io.stdout(`    ${t.key.padEnd(22)} ${(t.status?.state ?? 'pending').toUpperCase().padEnd(9)} val_acc ${pct(t.status?.summary?.val_accuracy)}  epochs ${t.status?.epochs ?? 0}${t.status?.error ? `  ${t.status.error.split('\n')[0]}` : ''}`);
}

function printRows(io: CommandIo, argv: RunsOptions, rows: RunRow[]): void {
  if (argv.json) {
    io.stdout(JSON.stringify({ runs: rows }, null, 2));
    return;
  }
  if (rows.length === 0) {
    io.stdout('no runs');
    return;
  }
  io.stdout(`${'run'.padEnd(34)} ${'experiment'.padEnd(16)} ${'status'.padEnd(9)} ${'started'.padEnd(20)} tasks  test acc`);
  for (const r of rows) io.stdout(`${r.runId.padEnd(34)} ${r.experiment.padEnd(16)} ${r.status.padEnd(9)} ${r.started.slice(0, 19).padEnd(20)} ${String(r.children).padStart(5)}  ${pct(r.test_accuracy)}`);
}
