import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { stringify } from 'yaml';
import { loadConfigWithPlugins } from '../../config/read.js';
import { configOrigins } from '../../config/origins.js';
import { defaultIo, EXIT_OK, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp, withSet } from '../help.js';

interface ConfigShowOptions extends GlobalOptions {
  config: string;
  json: boolean;
  origin: boolean;
}

const show: CommandModule<GlobalOptions, ConfigShowOptions> = {
  command: 'show <config>',
  describe: 'Print the config after extends, ${ENV}, --set and defaults: what a run would use',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('config', { type: 'string', demandOption: true, describe: 'config file' })
      .option('json', { type: 'boolean', default: false, describe: 'as JSON; with --origin {"config", "origins": [{"path", "value", "from"}]}' })
      .option('origin', { type: 'boolean', default: false, describe: 'every value with the file:line it came from (--set, or default when fer filled it in)' })),
      { examples: [['fer config show configs/ensemble16.yaml', 'the reference experiment, written out in full'], ['fer config show configs/quick.yaml --origin --set training.epochs=5', 'each value and where it came from']], env: ['config'] },
    ) as Argv<ConfigShowOptions>,
  handler: async (argv: ArgumentsCamelCase<ConfigShowOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const loaded = await loadConfigWithPlugins(argv.config, { overrides: argv.set ?? [] });
      const origins = argv.origin ? configOrigins(loaded.config, loaded.tree) : undefined;
      if (argv.json) {
        io.stdout(JSON.stringify(origins ? { config: loaded.config, origins } : loaded.config, null, 2));
      } else if (origins) {
        const width = Math.min(60, Math.max(...origins.map((o) => o.path.length + 2 + JSON.stringify(o.value).length)));
        for (const o of origins) {
          const entry = `${o.path}: ${JSON.stringify(o.value)}`;
          io.stdout(`${entry.padEnd(width)}  # ${o.from}`);
        }
      } else {
        io.stdout(stringify(loaded.config).trimEnd());
      }
      return EXIT_OK;
    });
  },
};

export const configCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'config <command>',
  describe: 'Look at a config as fer resolves it (config show)',
  builder: (yargs: Argv<GlobalOptions>) => yargs.command(show).demandCommand(1, 'name a subcommand: show'),
  handler: () => {},
};
