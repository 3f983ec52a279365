import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { DEFAULT_TENSORFLOW_VERSION, defaultNativeCache, setupNative } from '../../setup/native-setup.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp } from '../help.js';

interface SetupOptions extends GlobalOptions {
  gpu: boolean;
  tensorflow: string;
  cache: string;
  python: string;
  force: boolean;
  json: boolean;
}

const nativeCommand: CommandModule<GlobalOptions, SetupOptions> = {
  command: 'native',
  describe: "Install the native TensorFlow backend from PyPI's TensorFlow wheel, building the tfjs-node addon from source (no internet beyond npm and PyPI)",
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .option('gpu', { type: 'boolean', default: false, describe: 'set up @tensorflow/tfjs-node-gpu with a GPU build of TensorFlow (needs CUDA and cuDNN)' })
      .option('tensorflow', { type: 'string', default: DEFAULT_TENSORFLOW_VERSION, describe: 'the TensorFlow wheel version to take libtensorflow from' })
      .option('cache', { type: 'string', default: defaultNativeCache(), describe: 'where libtensorflow and the built addons are kept (FER_NATIVE_CACHE; fer finds its stderr hold only in FER_NATIVE_CACHE or the default)' })
      .option('python', { type: 'string', default: 'python3', describe: 'the Python whose pip downloads the wheel' })
      .option('force', { type: 'boolean', default: false, describe: 'set it up again even if it already works' })
      .option('json', { type: 'boolean', default: false, describe: 'print the steps and timings as JSON' }),
      { env: ['FER_NATIVE_CACHE'] },
    ) as Argv<SetupOptions>,
  handler: async (argv: ArgumentsCamelCase<SetupOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const result = await setupNative({
        gpu: argv.gpu,
        tensorflowVersion: argv.tensorflow,
        cacheDir: argv.cache,
        python: argv.python,
        force: argv.force,
        log: (line) => io.stderr(line),
      });
      if (argv.json) io.stdout(JSON.stringify(result, null, 2));
      else io.stdout(`${result.package}: ${result.alreadyWorking ? 'already working' : 'ready'} (${result.seconds.toFixed(1)} s); \`fer doctor\` shows the backends`);
    });
  },
};

export const setupCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'setup <component>',
  describe: 'Install optional components: `native` (the TensorFlow backend)',
  builder: (yargs: Argv<GlobalOptions>) => yargs.command(nativeCommand).demandCommand(1, 'name a component: native'),
  handler: () => {},
};
