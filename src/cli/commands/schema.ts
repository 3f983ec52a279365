import type { ArgumentsCamelCase, CommandModule } from 'yargs';
import { createRegistry } from '../../registry/index.js';
import { documentSchema } from '../../schema/index.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';

export const schemaCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'schema',
  describe: 'Print the JSON Schema of fer configs (for editors: the YAML language server, VS Code...)',
  handler: async (argv: ArgumentsCamelCase<GlobalOptions>) => {
    const io = defaultIo({ ...argv, json: true });
    await runCommand(io, async () => {
      io.stdout(JSON.stringify(documentSchema(createRegistry()), null, 2));
    });
  },
};
