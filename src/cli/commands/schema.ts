import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../core/diagnostic.js';
import { pluginRegistry } from '../../config/read.js';
import { documentSchema } from '../../schema/index.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp } from '../help.js';

interface SchemaOptions extends GlobalOptions {
  plugin?: string[];
}

export const schemaCommand: CommandModule<GlobalOptions, SchemaOptions> = {
  command: 'schema',
  describe: 'Print the JSON Schema of fer configs (for editors: the YAML language server, VS Code...)',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .option('plugin', { type: 'string', array: true, describe: 'include these plugins\' layers and arguments (as written in `plugins:`), so editors complete them' }),
      { examples: [['fer schema --plugin plugins/se --plugin ./my-layer.ts > fer.schema.json', 'a schema knowing two plugins']], env: [] },
    ) as Argv<SchemaOptions>,
  handler: async (argv: ArgumentsCamelCase<SchemaOptions>) => {
    const io = defaultIo({ ...argv, json: true });
    await runCommand(io, async () => {
      const { registry, diagnostics } = await pluginRegistry(argv.plugin ?? [], process.cwd());
      if (diagnostics.length > 0) throw new ConfigError(diagnostics);
      io.stdout(JSON.stringify(documentSchema(registry), null, 2));
    });
  },
};
