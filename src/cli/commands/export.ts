import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { EXPORT_FORMATS, exportRun, writeExport, type ExportFormat } from '../../export/export-run.js';
import { withHelp } from '../help.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';

interface ExportOptions extends GlobalOptions {
  run: string;
  format: ExportFormat;
  out?: string;
  member?: string;
}

export const exportCommand: CommandModule<GlobalOptions, ExportOptions> = {
  command: 'export <run>',
  describe: "Write a run's ensemble (or one member) as one standard TensorFlow.js model: raw pixels in, class probabilities out",
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      yargs
      .positional('run', { type: 'string', demandOption: true, describe: 'a finished run folder' })
      .option('format', { choices: EXPORT_FORMATS, default: 'tfjs-layers' as ExportFormat, describe: 'the model format' })
      .option('out', { type: 'string', describe: 'the folder to write model.json and weights.bin into (default: <run>/export/<format>)' })
      .option('member', { type: 'string', describe: 'export this member of the ensemble only' }),
      {
        examples: [
          ['fer export runs/demo/run-3f2a9c1b7e40 --out demo-model', 'the ensemble as one TensorFlow.js layers model'],
          ['fer export runs/demo/run-3f2a9c1b7e40 --format tfjs-graph --member tiny-1', 'one member as a graph model'],
        ],
        env: [],
      },
    ) as Argv<ExportOptions>,
  handler: async (argv: ArgumentsCamelCase<ExportOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const runDir = path.resolve(argv.run);
      const exported = exportRun(runDir, { format: argv.format, ...(argv.member !== undefined ? { member: argv.member } : {}) });
      const out = path.resolve(argv.out ?? path.join(runDir, 'export', argv.member ? `${argv.format}-${argv.member}` : argv.format));
      writeExport(exported, out);
      const { metadata } = exported;
      const models = metadata.members.reduce((n, m) => n + m.models.length, 0);
      io.stdout(`${path.relative(process.cwd(), out) || '.'}: ${argv.format} model, ${metadata.members.length} member${metadata.members.length === 1 ? '' : 's'} (${models} model${models === 1 ? '' : 's'}, ${metadata.combine}), input ${metadata.input.height}x${metadata.input.width}x${metadata.input.channels} pixels 0-255, output ${metadata.classes.length} class probabilities (${(exported.weights.length / 1e6).toFixed(1)} MB of weights)`);
    });
  },
};
