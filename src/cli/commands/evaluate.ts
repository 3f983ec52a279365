import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type * as tfjs from '@tensorflow/tfjs';
import { rowsOfSplit } from '../../data/dataset.js';
import { loadDataset } from '../../data/load.js';
import { gatherRows } from '../../data/preprocess.js';
import { startEngine } from '../../backend/backend.js';
import { combine } from '../../ensemble/combine.js';
import { evaluateRun } from '../../run/collect.js';
import { computeMetrics } from '../../ensemble/metrics.js';
import { formatReport } from '../../ensemble/report.js';
import { loadModel } from '../../store/model-io.js';
import { activateRunPlugins, memberModels, openRun, taskPreprocessor } from '../../store/saved-run.js';
import { taskDir } from '../../store/run-folder.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';

interface EvaluateOptions extends GlobalOptions {
  run: string;
  split: string;
  json: boolean;
}

export const evaluateCommand: CommandModule<GlobalOptions, EvaluateOptions> = {
  command: 'evaluate <run>',
  describe: "Recompute a run's metrics: members and ensemble, per class, confusion matrix",
  builder: (yargs: Argv<GlobalOptions>) =>
    yargs
      .positional('run', { type: 'string', demandOption: true, describe: 'a run folder (runs/<experiment>/run-<id>)' })
      .option('split', {
        type: 'string',
        default: 'test',
        describe: '`test` and `oof` (out-of-fold) use the saved predictions; any other split of the data is predicted with the saved models',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the metrics as JSON' }) as Argv<EvaluateOptions>,
  handler: async (argv: ArgumentsCamelCase<EvaluateOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const run = openRun(path.resolve(argv.run));
      if (argv.split === 'test' || argv.split === 'oof' || argv.split === 'validation') {
        const summary = evaluateRun(run.dir, run.config, run.tasks, false);
        const part = argv.split === 'test' ? 'test' : 'oof';
        if (!summary.ensemble[part]) throw new Error(`the run has no ${part === 'test' ? 'test' : 'out-of-fold'} predictions to evaluate`);
        if (argv.json) io.stdout(JSON.stringify({ split: part, ensemble: summary.ensemble[part], members: summary.members.map((m) => ({ name: m.name, model: m.model, metrics: m[part] })), method: summary.method }, null, 2));
        else io.stdout(formatReport(part === 'test' ? summary : { ...summary, ensemble: { oof: summary.ensemble.oof! } }));
        return;
      }
      // Another split: predict it with every saved model.
      const engine = await startEngine(run.config.engine.backend);
      const { tf } = engine;
      await activateRunPlugins(run, tf);
      const { dataset } = await loadDataset({ data: run.config.data!, seed: run.config.seed });
      const rows = rowsOfSplit(dataset, argv.split);
      if (rows.length === 0) throw new Error(`the data has no split \`${argv.split}\`; its splits are ${dataset.splitNames.join(', ')}`);
      const classes = dataset.classes.length;
      const memberProbabilities: Float32Array[] = [];
      const members = memberModels(run);
      for (const member of members) {
        const perModel: Float32Array[] = [];
        for (const task of member.tasks) {
          const model = await loadModel(tf, path.join(taskDir(run.dir, task.key), 'model'));
          const preprocessor = taskPreprocessor(run, task);
          const out = new Float32Array(rows.length * classes);
          for (let start = 0; start < rows.length; start += 256) {
            const part = rows.subarray(start, Math.min(rows.length, start + 256));
            const inputs = preprocessor.apply(gatherRows(dataset, part), part.length);
            const shape = preprocessor.outputShape;
            const p = tf.tidy(() => model.predict(tf.tensor4d(inputs, [part.length, shape.height, shape.width, shape.channels])) as tfjs.Tensor);
            out.set(p.dataSync(), start * classes);
            p.dispose();
          }
          model.dispose();
          perModel.push(out);
        }
        memberProbabilities.push(combine(perModel, classes, 'mean'));
      }
      const labels = rows.map((r) => dataset.labels[r]!);
      const method = run.config.ensemble?.combine ?? 'mean';
      const ensemble = computeMetrics(combine(memberProbabilities, classes, method, members.map((m) => m.weight)), labels, dataset.classes);
      const perMember = members.map((m, i) => ({ name: m.member, model: m.model, metrics: computeMetrics(memberProbabilities[i]!, labels, dataset.classes) }));
      if (argv.json) io.stdout(JSON.stringify({ split: argv.split, ensemble, members: perMember, method }, null, 2));
      else {
        io.stdout(formatReport({ method, weights: {}, classes: dataset.classes, members: perMember.map((m) => ({ name: m.name, model: m.model, test: m.metrics })), models: {}, ensemble: { test: ensemble } }).replace(/test acc/g, `${argv.split} acc`));
      }
    });
  },
};
