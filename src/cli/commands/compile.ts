import type { InitReport } from '../../compile/transfer.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadAndCompile } from '../../compile/check.js';
import { formatSummary } from '../../compile/summary.js';
import { expandMembers } from '../../store/members.js';
import { formatShape } from '../../core/tf.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp, withSet } from '../help.js';

interface CompileOptions extends GlobalOptions {
  config: string;
  model?: string[];
  summary: boolean;
  json: boolean;
}

const count = (n: number) => n.toLocaleString('en-US');

export const compileCommand: CommandModule<GlobalOptions, CompileOptions> = {
  command: 'compile <config>',
  describe: 'Build the models of a config as TensorFlow.js graphs and report their layers and parameters',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('config', { type: 'string', demandOption: true, describe: 'config file' })
      .option('model', { type: 'string', array: true, describe: 'only these models (repeatable)' })
      .option('summary', { type: 'boolean', default: false, describe: 'print a layer table per model (name, type, output shape, params, source line)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document: models with their parameter counts, and the ensemble members' })),
      { examples: [['fer compile configs/ensemble16.yaml --summary --model resnet18', 'the ResNet-18 layer table'], ['fer compile configs/cnn.yaml --set models.cnn.layers[3].with.units=[256,32] --json', 'parameter count after an edit']], env: ['config'] },
    ) as Argv<CompileOptions>,
  handler: async (argv: ArgumentsCamelCase<CompileOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const { loaded, models } = await loadAndCompile(argv.config, { overrides: argv.set ?? [], models: argv.model ?? [] });
      const selected = new Set(models.map((m) => m.name));
      const members = expandMembers(loaded.config).filter((m) => selected.has(m.model));
      if (argv.json) {
        const report = {
          models: Object.fromEntries(
            models.map((m) => [
              m.name,
              {
                params: m.params,
                trainableParams: m.trainableParams,
                nonTrainableParams: m.params - m.trainableParams,
                layers: m.model.layers.length,
                inputShape: m.inputShape,
                outputShape: m.model.outputs[0]!.shape.slice(1),
                ...(m.init ? { init: m.init } : {}),
              },
            ]),
          ),
          members: members.map((m) => ({ name: m.name, model: m.model })),
        };
        io.stdout(JSON.stringify(report, null, 2));
      } else if (argv.summary) {
        io.stdout(models.map((m) => formatSummary(m)).join('\n\n'));
        for (const m of models) if (m.init) io.stdout(`\n${describeInit(m.name, m.init)}`);
        io.stdout(`\nMembers: ${members.length} (${members.map((m) => m.name).join(', ')})`);
      } else {
        for (const m of models) {
          io.stdout(
            `${m.name}: ${count(m.params)} parameters (${count(m.trainableParams)} trainable), ${m.model.layers.length} layers, ` +
              `${formatShape([null, ...m.inputShape])} -> ${formatShape(m.model.outputs[0]!.shape)}`,
          );
        }
        io.stdout(`members: ${members.length} (${members.map((m) => m.name).join(', ')})`);
        for (const m of models) if (m.init) io.stdout(describeInit(m.name, m.init));
      }
      for (const m of models) m.model.dispose();
    });
  },
};

/** What `init` did for a model: its source, the layers loaded and those that start fresh. */
function describeInit(model: string, init: InitReport): string {
  const list = (names: string[]) => (names.length === 0 ? 'none' : names.join(', '));
  return `${model}: initial weights from ${init.source} (sha256 ${init.digest.slice(0, 12)})\n  loaded (${init.loaded.length}): ${list(init.loaded)}\n  new (${init.initialized.length}): ${list(init.initialized)}`;
}
