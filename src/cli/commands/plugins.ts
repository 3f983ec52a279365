import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parse } from 'yaml';
import { ConfigError } from '../../core/diagnostic.js';
import { pluginRegistry, readConfigWithPlugins } from '../../config/read.js';
import { contributionsOf } from '../../plugins/contributions.js';
import { shippedPlugins } from '../../plugins/loader.js';
import type { FerRegistry } from '../../registry/index.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp, withSet } from '../help.js';

interface PluginsOptions extends GlobalOptions {
  action: 'list';
  config?: string;
  json: boolean;
}

export const pluginsCommand: CommandModule<GlobalOptions, PluginsOptions> = {
  command: 'plugins <action> [config]',
  describe: 'What plugins are loaded, from where, and what each contributes',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('action', { choices: ['list'] as const, demandOption: true })
      .positional('config', { type: 'string', describe: "a config: its plugins (default: the plugins shipped with fer and in ./plugins)" })
      .option('json', { type: 'boolean', default: false, describe: 'print {"plugins": [{"name", "version", "description", "spec", "source", "layers": [{"type", "summary"}], "templates": [...], and per other kind it adds ("augmentations", "callbacks"...) [{"type", "summary"}]}]}' })),
      { examples: [['fer plugins list', 'the shipped plugins'], ['fer plugins list configs/plugins/se-demo.yaml', 'the plugins of a config']], env: ['config'] },
    ) as unknown as Argv<PluginsOptions>,
  handler: async (argv: ArgumentsCamelCase<PluginsOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      let registry: FerRegistry;
      if (argv.config) {
        // Other problems of the config do not stop a listing of its plugins; a plugin that failed does.
        const read = await readConfigWithPlugins(argv.config, { overrides: argv.set ?? [] });
        if (!read.loaded) throw new ConfigError(read.diagnostics, read.sources);
        registry = read.loaded.registry;
      } else {
        const found = await pluginRegistry(shippedPlugins(), process.cwd());
        if (found.diagnostics.length > 0) throw new ConfigError(found.diagnostics);
        registry = found.registry;
      }
      const plugins = registry.plugins.map((p) => ({
        name: p.plugin.name,
        version: p.plugin.version,
        description: p.plugin.description ?? '',
        spec: p.spec,
        source: path.relative(process.cwd(), p.source) || p.source,
        layers: (p.plugin.layers ?? []).map((l) => ({ type: `${p.plugin.name}/${l.type}`, summary: l.summary })),
        templates: p.templates ? Object.keys((parse(readFileSync(p.templates, 'utf8')) as { templates?: object } | null)?.templates ?? {}) : [],
        // Plugin API 2: augmentations, preprocessing, schedules, losses, optimizers, sources, callbacks it adds.
        ...contributionsOf(registry, p.plugin.name),
      }));
      if (argv.json) {
        io.stdout(JSON.stringify({ plugins }, null, 2));
        return;
      }
      if (plugins.length === 0) io.stdout('no plugins');
      const line = (label: string, type: string, summary = '') => io.stdout(`  ${label.padEnd(12)} ${type.padEnd(24)} ${summary}`.trimEnd());
      for (const p of plugins) {
        io.stdout(`${p.name} ${p.version}  ${p.source}${p.description ? `\n  ${p.description}` : ''}`);
        for (const l of p.layers) line('layer', l.type, l.summary);
        for (const t of p.templates) line('template', t);
        for (const [field, entries] of Object.entries(contributionsOf(registry, p.name))) {
          for (const e of entries) line(field === 'preprocessing' ? 'preprocessing' : field.replace(/s$/, ''), e.type, e.summary);
        }
      }
    });
  },
};
