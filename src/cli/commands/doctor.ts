import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { BACKEND_NAMES, startEngine, type BackendRequest } from '../../backend/backend.js';
import type { Capabilities } from '../../backend/capabilities.js';
import { describeCpu } from '../../backend/cpu-features.js';
import { ferVersion } from '../../core/package.js';
import { placeWorkers } from '../../run/pool.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp } from '../help.js';

interface DoctorOptions extends GlobalOptions {
  json: boolean;
  backend: BackendRequest;
}

export const doctorCommand: CommandModule<GlobalOptions, DoctorOptions> = {
  command: 'doctor',
  describe: 'Which compute backends work here and why not, which one fer would choose and what it can do, the CPU and its kernels, GPUs, where a run puts its workers',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .option('json', { type: 'boolean', default: false, describe: 'print {"backend": ..., "backends": {"<name>": {"available", "reason"}}, ...}' })
      .option('backend', { choices: ['auto', ...BACKEND_NAMES], default: 'auto', describe: 'the backend a run would ask for' }),
      { env: ['FER_KERNELS', 'CUDA_VISIBLE_DEVICES'] },
    ) as Argv<DoctorOptions>,
  handler: async (argv: ArgumentsCamelCase<DoctorOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const engine = await startEngine(argv.backend, { probeAll: true });
      const { tf, capabilities } = engine;
      const { devices } = capabilities;
      // Where a run with a task for every device would put its workers.
      const placement = placeWorkers({ backend: engine.backend, package: capabilities.package, devices }, Number.MAX_SAFE_INTEGER);
      const simd = engine.backends.wasm?.available ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
      const report = {
        backend: engine.backend,
        reason: engine.reason,
        backends: Object.fromEntries(BACKEND_NAMES.map((name) => [name, engine.backends[name] ?? { available: false, reason: 'not probed' }])),
        fer: ferVersion(),
        node: process.versions.node,
        tfjs: tf.version,
        cores: devices.cpu.cores,
        // The CPU and the instruction sets behind the kernel choices, so that figures from two machines can be told apart.
        cpu: { model: devices.cpu.model, instruction_sets: devices.cpu.instructionSets },
        // The kernels chosen where TensorFlow has two for one job (FER_KERNELS, else the CPU); null off the native CPU backend.
        kernels: capabilities.kernels,
        threads: {
          tensorflow: process.env.TF_NUM_INTRAOP_THREADS ? Number(process.env.TF_NUM_INTRAOP_THREADS) : devices.cpu.cores,
          wasm: 1,
        },
        simd,
        gpus: devices.gpus.map((g) => g.name),
        deterministic: process.env.TF_DETERMINISTIC_OPS === '1',
        // Whether training steps can run as recorded TensorFlow functions (engine.graph_steps).
        graph_steps: capabilities.recordedSteps,
        capabilities,
        placement: { workers: placement.workers, threads: placement.threads, gpus: placement.gpus },
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
      io.stdout(`can: ${describeCapabilities(capabilities)}`);
      io.stdout(`training steps: ${report.graph_steps ? 'recorded as TensorFlow functions (engine.graph_steps)' : 'op by op (recorded steps need the tensorflow backend with fer\'s addon)'}`);
      io.stdout(`CPU: ${describeCpu()}`);
      if (capabilities.kernels) {
        const k = capabilities.kernels;
        io.stdout(`kernels: fused convolution ${k.fusedConvolution}, large filter gradients ${k.largeFilterGradients} (${k.reason}; FER_KERNELS=onednn|eigen forces them)`);
      }
      io.stdout(`GPUs: ${report.gpus.length > 0 ? devices.gpus.map((g) => `${g.id}: ${g.name}`).join(', ') : 'none found'}${capabilities.device === 'gpu' ? ' (TensorFlow runs on a GPU)' : ''}`);
      io.stdout(`workers: a run puts ${placement.workers === 1 ? 'one worker' : `up to ${placement.workers} workers`} here${placement.gpus.length > 0 ? `, one per GPU (${placement.gpus.join(', ')})` : ', one per core'}${engine.backend === 'tensorflow' ? `, ${placement.threads} thread${placement.threads === 1 ? '' : 's'} each` : ''}`);
    });
  },
};

/** The capabilities that hold, in words: "fused convolution, fused batch norm, native optimizers, ...". */
function describeCapabilities(c: Capabilities): string {
  const named: [keyof Capabilities, string][] = [
    ['fusedConvolution', 'fused convolution'],
    ['fusedBatchNorm', 'fused batch norm'],
    ['nativeGradients', "fer's gradient kernels"],
    ['nativeOptimizers', 'native optimizers'],
    ['recordedSteps', 'recorded steps'],
    ['statelessRandom', 'stateless random'],
    ['nativeWeightPenalty', 'L2Loss penalties'],
    ['wasmTrainingKernels', 'wasm training kernels'],
  ];
  const held = named.filter(([key]) => c[key] === true).map(([, words]) => words);
  return `${c.package} on the ${c.device.toUpperCase()}${held.length > 0 ? `: ${held.join(', ')}` : ': none of fer\'s faster paths'}`;
}
