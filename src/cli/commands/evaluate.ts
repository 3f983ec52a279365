import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { FerError } from '../../core/errors.js';
import { createProgress } from '../../core/progress.js';
import { formatReport } from '../../ensemble/report.js';
import { evaluateSplit } from '../../predict/evaluate-split.js';
import { SavedEnsemble } from '../../predict/saved-ensemble.js';
import { evaluateRun } from '../../run/collect.js';
import { openRun } from '../../store/saved-run.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp } from '../help.js';

interface EvaluateOptions extends GlobalOptions {
  run: string;
  split: string;
  json: boolean;
}

export const evaluateCommand: CommandModule<GlobalOptions, EvaluateOptions> = {
  command: 'evaluate <run>',
  describe: "Recompute a run's metrics: members and ensemble, per class, confusion matrix",
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .positional('run', { type: 'string', demandOption: true, describe: 'a run folder (runs/<experiment>/run-<id>)' })
      .option('split', {
        type: 'string',
        default: 'test',
        describe: '`test` and `oof` (out-of-fold) use the saved predictions; any other split of the data is predicted with the saved models',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the metrics as JSON' }),
      { env: ['FER_KERNELS'] },
    ) as Argv<EvaluateOptions>,
  handler: async (argv: ArgumentsCamelCase<EvaluateOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const run = openRun(path.resolve(argv.run));
      if (argv.split === 'test' || argv.split === 'oof' || argv.split === 'validation') {
        const summary = evaluateRun(run.dir, run.config, run.tasks, false);
        const part = argv.split === 'test' ? 'test' : 'oof';
        if (!summary.ensemble[part]) throw new FerError(`the run has no ${part === 'test' ? 'test' : 'out-of-fold'} predictions to evaluate`);
        if (argv.json) io.stdout(JSON.stringify({ split: part, ensemble: summary.ensemble[part], members: summary.members.map((m) => ({ name: m.name, model: m.model, metrics: m[part] })), method: summary.method }, null, 2));
        else io.stdout(formatReport(part === 'test' ? summary : { ...summary, ensemble: { oof: summary.ensemble.oof! } }));
        return;
      }
      // Another split: predict it with the saved models.
      const ensemble = await SavedEnsemble.open(run);
      const result = await evaluateSplit(ensemble, argv.split, { progress: createProgress(process.stderr) });
      const { method } = ensemble;
      if (argv.json) io.stdout(JSON.stringify({ split: result.split, ensemble: result.ensemble, members: result.members, method }, null, 2));
      else {
        io.stdout(formatReport({ method, weights: {}, classes: result.classes, members: result.members.map((m) => ({ name: m.name, model: m.model, test: m.metrics })), models: {}, ensemble: { test: result.ensemble } }).replace(/test acc/g, `${argv.split} acc`));
      }
    });
  },
};
