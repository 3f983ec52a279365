import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { closestMatches } from '../core/suggest.js';
import { ferVersion } from '../core/package.js';
import { compileCommand } from './commands/compile.js';
import { configCommand } from './commands/config.js';
import { dataCommand } from './commands/data.js';
import { doctorCommand } from './commands/doctor.js';
import { evaluateCommand } from './commands/evaluate.js';
import { exportCommand } from './commands/export.js';
import { predictCommand } from './commands/predict.js';
import { registerCommand } from './commands/register.js';
import { runCommandModule } from './commands/run.js';
import { sweepCommand } from './commands/sweep.js';
import { runsCommand } from './commands/runs.js';
import { serveCommand } from './commands/serve.js';
import { pluginsCommand } from './commands/plugins.js';
import { syncCommand } from './commands/sync.js';
import { setupCommand } from './commands/setup.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { EXIT_INVALID, formatError } from './output.js';
import { helpFooter, helpWidth } from './help.js';
import { KNOWN_FLAGS, type GlobalOptions } from './options.js';
import { FerError } from '../core/errors.js';
import { quietOnClosedPipes } from '../core/terminal.js';
import { showNativeStartupNotices } from '../backend/backend.js';

/** Thrown after a usage error is printed, so the process ends with exit code 2 once output is flushed. */
class UsageError extends FerError {}

/** Turns yargs' "Unknown argument: modle" into a did-you-mean over the flags yargs knows. */
function usageHint(message: string, flags: readonly string[]): string | undefined {
  const unknown = /Unknown arguments?: (.+)/.exec(message);
  if (!unknown) return undefined;
  const names = unknown[1]!.split(',').map((s) => s.trim().replace(/^-+/, ''));
  const hints = names
    .map((n) => ({ n, close: closestMatches(n, flags) }))
    .filter((h) => h.close.length > 0)
    .map((h) => `--${h.n}: did you mean --${h.close[0]}?`);
  return hints.length > 0 ? hints.join('\n') : undefined;
}

export async function main(argv: string[] = hideBin(process.argv)): Promise<void> {
  quietOnClosedPipes();
  try {
    await parser(argv).parseAsync();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
  }
}

function parser(argv: string[]) {
  return yargs(argv)
    .scriptName('fer')
    .usage('$0 <command> [options]\n\nFacial-emotion-recognition experiments from YAML.')
    .option('color', { type: 'boolean', global: true, describe: 'colour the output (default: on a terminal, unless NO_COLOR, FORCE_COLOR=0 or TERM=dumb)' })
    .option('verbose', { type: 'boolean', global: true, describe: "also show TensorFlow's start-up notices (oneDNN's and others), which fer keeps back" })
    .middleware((argv) => showNativeStartupNotices(argv.verbose === true))
    .command(runCommandModule)
    .command(sweepCommand)
    .command(syncCommand)
    .command(runsCommand)
    .command(evaluateCommand)
    .command(predictCommand)
    .command(registerCommand)
    .command(exportCommand)
    .command(serveCommand)
    .command(validateCommand)
    .command(compileCommand)
    .command(configCommand)
    .command(schemaCommand)
    .command(pluginsCommand)
    .command(dataCommand)
    .command(doctorCommand)
    .command(setupCommand)
    .demandCommand(1, 'name a command: run, sweep, sync, runs, evaluate, predict, register, export, serve, validate, compile, config, data, doctor, setup, schema, plugins (fer --help lists them)')
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(ferVersion())
    .epilogue(helpFooter({ examples: [['npx fer run configs/demo.yaml', 'the one-minute tour, with synthetic data'], ['FER_DATA=~/data/fer2013 npx fer run configs/ensemble16.yaml --smoke', 'the reference experiment end to end in minutes']], env: ['config', 'MLFLOW_TRACKING_URI'] }))
    .wrap(helpWidth())
    .fail((message, error) => {
      if (error) throw error;
      const flags = KNOWN_FLAGS;
      const suggestion = /^Did you mean (\S+)\?$/.exec(message);
      const usage = new UsageError(suggestion ? `unknown command \`${argv[0]}\`` : message, suggestion ? `did you mean \`${suggestion[1]}\`?` : usageHint(message, flags));
      process.stderr.write(`${formatError(usage, false)}\n`);
      process.stderr.write('run `fer --help` (or `fer <command> --help`) for usage\n');
      process.exitCode = EXIT_INVALID;
      throw usage;
    });
}

export type { GlobalOptions };
