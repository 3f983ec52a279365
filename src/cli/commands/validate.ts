import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadAndCompile } from '../../compile/check.js';
import { isConfigError, type Diagnostic } from '../../core/diagnostic.js';
import { diagnosticToJson, displayFile, formatDiagnostics } from '../../core/diagnostic-format.js';
import { checkDataPresence, type DataPresence } from '../../data/presence.js';
import { expandMembers } from '../../store/members.js';
import { defaultIo, EXIT_INVALID, EXIT_OK, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp, withSet } from '../help.js';

interface ValidateOptions extends GlobalOptions {
  configs: string[];
  json: boolean;
  plugins: boolean;
}

export const validateCommand: CommandModule<GlobalOptions, ValidateOptions> = {
  command: 'validate <configs..>',
  describe: 'Check configs: syntax, schema, templates, references and layer shapes (builds the graphs, trains nothing)',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('configs', { type: 'string', array: true, demandOption: true, describe: 'config files' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON (diagnostics with positions)' })
      .option('plugins', {
        type: 'boolean',
        default: true,
        describe: "import the config's plugins (their code runs with your rights); --no-plugins checks the rest and reports plugin names as unchecked",
      })),
      { examples: [['fer validate configs/ensemble16.yaml', 'check the reference experiment'], ['fer validate configs/*.yaml --set training.epochs=5', 'check several configs with an override']], env: ['config'] },
    ) as Argv<ValidateOptions>,
  handler: async (argv: ArgumentsCamelCase<ValidateOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const results: {
        file: string;
        ok: boolean;
        models?: number;
        members?: number;
        data?: DataPresence;
        unchecked?: string[];
        diagnostics: Diagnostic[];
        notes?: Diagnostic[];
        sources?: ReadonlyMap<string, string>;
      }[] = [];
      for (const file of argv.configs) {
        try {
          const { loaded, models, unchecked, warnings } = await loadAndCompile(file, { overrides: argv.set ?? [], plugins: argv.plugins });
          // What validate checked of the data is said with the ok: a missing file is a warning (configs
          // are checked before their data is fetched), and a found one is not thereby valid.
          const data: DataPresence = loaded.config.data ? checkDataPresence(loaded.config.data.source, loaded.registry) : { state: 'nothing to check' };
          const diagnostics: Diagnostic[] = [...warnings];
          if (data.state === 'missing')
            diagnostics.push(
                  {
                    severity: 'warning',
                    code: 'data-missing',
                    message: data.problem,
                    span: loaded.locate(['data', 'source']).span,
                    path: 'data.source',
                    hint: `${data.hint ? `${data.hint}; ` : ''}fer run needs it, fer validate checks only that it is there`,
                  },
            );
          results.push({ file, ok: true, models: models.length, members: expandMembers(loaded.config).length, data, unchecked, diagnostics, sources: loaded.sources });
          for (const m of models) m.model.dispose();
        } catch (error) {
          if (!isConfigError(error)) throw error;
          // Weights from a run not made yet (configs/transfer-3class.yaml before configs/quick.yaml
          // has run): everything else checked, a note, not an error; `fer run` still refuses.
          const pending = error.diagnostics.filter((d) => d.code === 'init-source-pending');
          const others = error.diagnostics.filter((d) => d.code !== 'init-source-pending' && d.severity === 'error');
          if (pending.length > 0 && others.length === 0) results.push({ file, ok: true, diagnostics: [], notes: pending });
          else results.push({ file, ok: false, diagnostics: [...error.diagnostics], sources: error.sources });
        }
      }
      const ok = results.every((r) => r.ok);
      if (argv.json) {
        io.stdout(
          JSON.stringify(
            {
              ok,
              files: results.map((r) => ({
                file: displayFile(r.file),
                ok: r.ok,
                ...(r.ok ? { models: r.models, members: r.members } : {}),
                diagnostics: r.diagnostics.map((d) => diagnosticToJson(d)),
                ...(r.notes ? { notes: r.notes.map((d) => diagnosticToJson(d)) } : {}),
              })),
            },
            null,
            2,
          ),
        );
      } else {
        for (const r of results) {
          if (r.ok) {
            const counts = `${r.models} model${r.models === 1 ? '' : 's'}, ${r.members} member${r.members === 1 ? '' : 's'}`;
            const data = r.data;
            const unchecked = r.unchecked?.length ? `; ${r.unchecked.length} model${r.unchecked.length === 1 ? '' : 's'} unchecked: ${r.unchecked.join(', ')}` : '';
            if (r.diagnostics.length > 0) io.stderr(formatDiagnostics(r.diagnostics, { color: io.color, ...(r.sources ? { sources: r.sources } : {}) }));
            if (r.notes) {
              // Its models were not built (their weights are not there to load): no counts to give.
              io.stdout(`${displayFile(r.file)}: ok, but for the weights its models start from, which do not exist yet:`);
              for (const n of r.notes) io.stdout(`  note: ${n.message}${n.hint ? ` (${n.hint})` : ''}`);
            } else if (data?.state === 'missing') io.stdout(`${displayFile(r.file)}: ok (${counts}${unchecked}), but its data is missing`);
            else if (data?.state === 'found') io.stdout(`${displayFile(r.file)}: ok (${counts}${unchecked}; data ${data.what} found and readable, its rows not read)`);
            else io.stdout(`${displayFile(r.file)}: ok (${counts}${unchecked})`);
          }
          else io.stderr(`${formatDiagnostics(r.diagnostics, { color: io.color, ...(r.sources ? { sources: r.sources } : {}) })} in ${displayFile(r.file)}`);
        }
      }
      return ok ? EXIT_OK : EXIT_INVALID;
    });
  },
};
