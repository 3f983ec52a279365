import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { BACKEND_NAMES, type BackendRequest } from '../../backend/backend.js';
import { serve } from '../../serve/serve.js';
import { withHelp } from '../help.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';

interface ServeCommandOptions extends GlobalOptions {
  dir: string;
  port: number;
  host: string;
  backend: BackendRequest;
  maxBody: number;
}

export const serveCommand: CommandModule<GlobalOptions, ServeCommandOptions> = {
  command: 'serve <dir>',
  describe: 'Serve a run or an export over HTTP: POST /predict, GET /health, and a page at / that runs the model in the browser',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .positional('dir', { type: 'string', demandOption: true, describe: 'a finished run folder, or a folder `fer export` wrote' })
      .option('port', { type: 'number', default: 8080, describe: 'the port to listen on (0: any free port)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'the address to listen on (0.0.0.0: every interface)' })
      .option('backend', { choices: ['auto', ...BACKEND_NAMES] as BackendRequest[], default: 'auto' as BackendRequest, describe: 'compute backend for /predict' })
      .option('max-body', { type: 'number', default: 8 * 1024 * 1024, describe: 'the largest request body accepted, in bytes' }),
      {
        examples: [
          ['fer serve runs/demo/run-3f2a9c1b7e40', 'the run on http://127.0.0.1:8080 (the page at /)'],
          ['fer serve demo-model --port 9000 --host 0.0.0.0', 'an export, reachable from other machines'],
        ],
        env: [],
      },
    ) as unknown as Argv<ServeCommandOptions>,
  handler: async (argv: ArgumentsCamelCase<ServeCommandOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const running = await serve(path.resolve(argv.dir), { host: argv.host, port: argv.port, backend: argv.backend, limits: { maxBodyBytes: argv.maxBody } });
      const { metadata } = running.model;
      io.stdout(`fer serve: ${running.url} (${metadata.run.experiment}: ${metadata.members.length} member${metadata.members.length === 1 ? '' : 's'}, ${metadata.classes.length} classes; POST /predict, GET /health; Ctrl-C stops)`);
      await new Promise<void>((resolve) => {
        const stop = () => void running.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  },
};
