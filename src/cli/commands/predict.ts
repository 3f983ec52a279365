import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { argmax } from '../../ensemble/metrics.js';
import { readPredictionInputs } from '../../predict/inputs.js';
import { SavedEnsemble } from '../../predict/saved-ensemble.js';
import { openRun } from '../../store/saved-run.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp } from '../help.js';

interface PredictOptions extends GlobalOptions {
  run: string;
  inputs: string[];
  json: boolean;
}

export const predictCommand: CommandModule<GlobalOptions, PredictOptions> = {
  command: 'predict <run> <inputs..>',
  describe: "Predict the emotion of images (.png, .jpg) or of a CSV's rows with a run's saved ensemble",
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .positional('run', { type: 'string', demandOption: true, describe: 'a finished run folder' })
      .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'image files, or a CSV with a pixels column' })
      .option('json', { type: 'boolean', default: false, describe: 'print [{"input", "emotion", "probabilities": {...}}]' }),
      { env: ['FER_KERNELS'] },
    ) as Argv<PredictOptions>,
  handler: async (argv: ArgumentsCamelCase<PredictOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      // The inputs first: a missing or unreadable one is reported before the backend starts.
      const run = openRun(path.resolve(argv.run));
      const { names, pixels } = await readPredictionInputs(argv.inputs, run.config);
      const ensemble = await SavedEnsemble.open(run);
      const { probabilities } = await ensemble.predict(pixels);
      const classes = ensemble.classes;
      const results = names.map((input, i) => ({
        input,
        emotion: classes[argmax(probabilities, i, classes.length)]!,
        probabilities: Object.fromEntries(classes.map((c, k) => [c, Number(probabilities[i * classes.length + k]!.toFixed(4))])),
      }));
      if (argv.json) {
        io.stdout(JSON.stringify(results, null, 2));
        return;
      }
      const width = Math.max(...names.map((n) => n.length), 5);
      io.stdout(`${'input'.padEnd(width)}  ${'emotion'.padEnd(10)}  ${classes.map((c) => c.slice(0, 8).padStart(8)).join(' ')}`);
      for (const r of results) {
        io.stdout(`${r.input.padEnd(width)}  ${r.emotion.padEnd(10)}  ${classes.map((c) => `${(r.probabilities[c]! * 100).toFixed(1)}%`.padStart(8)).join(' ')}`);
      }
    });
  },
};
