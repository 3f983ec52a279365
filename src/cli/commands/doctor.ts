import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { BACKEND_NAMES, machineFacts, startEngine, type BackendRequest } from '../../backend/backend.js';
import { graphStepsAvailable } from '../../backend/native/graph-step.js';
import { ferVersion } from '../../core/package.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';

interface DoctorOptions extends GlobalOptions {
  json: boolean;
  backend: BackendRequest;
}

export const doctorCommand: CommandModule<GlobalOptions, DoctorOptions> = {
  command: 'doctor',
  describe: 'Which compute backends work here and why not, which one fer would choose, threads, SIMD, GPUs',
  builder: (yargs: Argv<GlobalOptions>) =>
    yargs
      .option('json', { type: 'boolean', default: false, describe: 'print {"backend": ..., "backends": {"<name>": {"available", "reason"}}, ...}' })
      .option('backend', { choices: ['auto', ...BACKEND_NAMES], default: 'auto', describe: 'the backend a run would ask for' }) as Argv<DoctorOptions>,
  handler: async (argv: ArgumentsCamelCase<DoctorOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const engine = await startEngine(argv.backend, { probeAll: true });
      const { tf } = engine;
      const machine = machineFacts();
      const simd = engine.backends.wasm?.available ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
      const report = {
        backend: engine.backend,
        reason: engine.reason,
        backends: Object.fromEntries(BACKEND_NAMES.map((name) => [name, engine.backends[name] ?? { available: false, reason: 'not probed' }])),
        fer: ferVersion(),
        node: process.versions.node,
        tfjs: tf.version,
        cores: machine.cores,
        threads: {
          tensorflow: process.env.TF_NUM_INTRAOP_THREADS ? Number(process.env.TF_NUM_INTRAOP_THREADS) : machine.cores,
          wasm: 1,
        },
        simd,
        gpus: machine.gpus,
        deterministic: process.env.TF_DETERMINISTIC_OPS === '1',
        // Whether training steps can run as recorded TensorFlow functions (engine.graph_steps).
        graph_steps: graphStepsAvailable(tf),
      };
      if (argv.json) {
        io.stdout(JSON.stringify(report, null, 2));
        return;
      }
      io.stdout(`fer ${report.fer}, Node ${report.node}, tfjs ${report.tfjs['tfjs-core'] ?? ''}, ${report.cores} cores`);
      for (const name of BACKEND_NAMES) {
        const status = report.backends[name]!;
        io.stdout(`  ${status.available ? 'yes' : 'no '}  ${name.padEnd(10)} ${status.reason}`);
      }
      io.stdout(`chosen: ${report.backend} (${report.reason})`);
      io.stdout(`training steps: ${report.graph_steps ? 'recorded as TensorFlow functions (engine.graph_steps)' : 'op by op (recorded steps need the tensorflow backend with fer\'s addon)'}`);
      io.stdout(`GPUs: ${report.gpus.length > 0 ? report.gpus.join(', ') : 'none found'}`);
    });
  },
};
