import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { describeRegistration, registerRun } from '../../run/register.js';
import { withHelp } from '../help.js';
import { defaultIo, EXIT_FAILURE, EXIT_OK, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';

interface RegisterOptions extends GlobalOptions {
  run: string;
  name: string;
  trackingUri?: string;
  json: boolean;
}

export const registerCommand: CommandModule<GlobalOptions, RegisterOptions> = {
  command: 'register <run> <name>',
  describe: "Register a finished run's ensemble in MLflow's Model Registry as a new version of <name>, tagged with its test accuracy and data digest",
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .positional('run', { type: 'string', demandOption: true, describe: 'a finished run folder' })
      .positional('name', { type: 'string', demandOption: true, describe: 'the registered model (created if new)' })
      .option('tracking-uri', { type: 'string', describe: 'MLflow tracking server (default: tracking.uri of the run, then MLFLOW_TRACKING_URI)' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"registeredModel", "version", "uri", "pending"}' }),
      {
        examples: [
          ['fer register runs/demo/run-3f2a9c1b7e40 fer-demo', 'a new version of fer-demo'],
        ],
        env: ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME'],
      },
    ) as Argv<RegisterOptions>,
  handler: async (argv: ArgumentsCamelCase<RegisterOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const runDir = path.resolve(argv.run);
      const result = await registerRun({ runDir, name: argv.name, ...(argv.trackingUri ? { trackingUri: argv.trackingUri } : {}), log: (text) => io.stderr(text) });
      if (argv.json) io.stdout(JSON.stringify(result, null, 2));
      else io.stdout(describeRegistration(runDir, result, process.cwd()));
      return result.pending > 0 ? EXIT_FAILURE : EXIT_OK;
    });
  },
};
