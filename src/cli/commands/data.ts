import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfigWithPlugins } from '../../config/read.js';
import type { DataConfig, FerConfig } from '../../config/types.js';
import { ConfigError } from '../../core/diagnostic.js';
import { assignFolds, foldRows } from '../../data/folds.js';
import { loadDataset, type LoadedData } from '../../data/load.js';
import { selectSplits } from '../../data/splits.js';
import { countRows, countsTable, splitSummary } from '../../data/summary.js';
import { completeDataSection } from '../../config/normalize.js';
import { createProgress } from '../../core/progress.js';
import { svgToPng } from '../../pictures/render.js';
import { dataPreviewSvg } from '../../run/data-preview.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';
import { withHelp, withSet } from '../help.js';

interface DataOptions extends GlobalOptions {
  target: string;
  json: boolean;
}

function isConfigFile(target: string): boolean {
  return /\.ya?ml$/i.test(target);
}

/** A data section for a bare data path: the data section's defaults (FER2013's classes and image size), the cache under ./runs. */
function dataForPath(target: string): DataConfig {
  const absolute = path.resolve(target);
  let folder = false;
  try {
    folder = statSync(absolute).isDirectory();
  } catch {
    // Not there: the loader reports the path it tried.
  }
  return completeDataSection({ source: folder ? { folder: absolute } : { csv: absolute }, cache: path.resolve('runs/.cache') });
}

function requireSection<K extends keyof FerConfig>(config: FerConfig, file: string, key: K): NonNullable<FerConfig[K]> {
  const value = config[key];
  if (value === undefined || value === null) {
    throw new ConfigError([{ severity: 'error', code: 'missing-key', message: `${file} has no \`${key}\` section`, hint: `add a \`${key}:\` section (see docs/config-reference.md)` }]);
  }
  return value as NonNullable<FerConfig[K]>;
}

async function load(data: DataConfig, seed: number, json: boolean): Promise<LoadedData> {
  return loadDataset({ data, seed, progress: createProgress(process.stderr), cache: true }).then((loaded) => {
    if (!json && loaded.cached) process.stderr.write(`loaded from the cache in ${loaded.seconds.toFixed(2)} s (${loaded.cacheFile})\n`);
    return loaded;
  });
}

const inspectCommand: CommandModule<GlobalOptions, DataOptions> = {
  command: 'inspect <target>',
  describe: 'Rows per split and per class, and the content digest, of a config\'s data or of a data file or folder',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('target', { type: 'string', demandOption: true, describe: 'a config (.yaml) or a data path (CSV, .csv.gz, image folder)' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"digest", "splits": {"<split>": {"rows", "classes"}}, ...}' })),
      { examples: [['fer data inspect configs/ensemble16.yaml', 'the reference data'], ['fer data inspect ../shared/data/fer2013/sample-700.csv --json', 'a data file on its own']], env: ['config', 'FER_CACHE'] },
    ) as Argv<DataOptions>,
  handler: async (argv: ArgumentsCamelCase<DataOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      let data: DataConfig;
      let seed = 0;
      if (isConfigFile(argv.target)) {
        const { config } = await loadConfigWithPlugins(argv.target, { overrides: argv.set ?? [] });
        data = requireSection(config, argv.target, 'data');
        seed = config.seed;
      } else data = dataForPath(argv.target);
      const loaded = await load(data, seed, argv.json);
      const { dataset } = loaded;
      const splits = splitSummary(dataset);
      if (argv.json) {
        io.stdout(
          JSON.stringify(
            {
              digest: dataset.digest,
              source: dataset.source,
              rows: dataset.labels.length,
              image: dataset.image,
              classes: dataset.classes,
              splits,
              cached: loaded.cached,
              seconds: Number(loaded.seconds.toFixed(3)),
            },
            null,
            2,
          ),
        );
        return;
      }
      const { height, width, channels } = dataset.image;
      io.stdout(`source: ${dataset.source}`);
      io.stdout(`digest: ${dataset.digest}`);
      io.stdout(`rows:   ${dataset.labels.length.toLocaleString('en-US')} images of ${height}x${width}x${channels}\n`);
      io.stdout(countsTable(dataset.classes, Object.entries(splits)));
    });
  },
};

const foldsCommand: CommandModule<GlobalOptions, DataOptions> = {
  command: 'folds <target>',
  describe: 'Train and validation sizes and class counts of every fold, and a digest of the fold assignment',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('target', { type: 'string', demandOption: true, describe: 'a config with data and folds sections' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"assignmentDigest", "folds": [...], ...}' })),
      { examples: [['fer data folds configs/ensemble16.yaml', 'the reference study\'s 4 contiguous folds'], ['fer data folds configs/cnn.yaml --set folds.strategy=stratified --set seed=3', 'stratified folds of another seed']], env: ['config', 'FER_CACHE'] },
    ) as Argv<DataOptions>,
  handler: async (argv: ArgumentsCamelCase<DataOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const { config } = await loadConfigWithPlugins(argv.target, { overrides: argv.set ?? [] });
      const data = requireSection(config, argv.target, 'data');
      const folds = requireSection(config, argv.target, 'folds');
      const { dataset } = await load(data, config.seed, argv.json);
      const { train } = selectSplits(dataset, data.split, config.seed);
      const labels = train.map((row) => dataset.labels[row]!);
      const assignment = assignFolds(labels, dataset.classes.length, folds.k, folds.strategy, config.seed);
      const perFold = Array.from({ length: folds.k }, (_, fold) => {
        const rows = foldRows(train, assignment, fold);
        return { fold, train: countRows(dataset, rows.train), validation: countRows(dataset, rows.validation) };
      });
      if (argv.json) {
        io.stdout(
          JSON.stringify(
            {
              assignmentDigest: assignment.digest,
              k: folds.k,
              strategy: folds.strategy,
              seed: config.seed,
              split: data.split.train,
              rows: train.length,
              dataDigest: dataset.digest,
              folds: perFold,
            },
            null,
            2,
          ),
        );
        return;
      }
      io.stdout(`${folds.k} ${folds.strategy} folds over ${train.length.toLocaleString('en-US')} rows of \`${data.split.train}\` (seed ${config.seed})`);
      io.stdout(`assignment digest: ${assignment.digest}\n`);
      io.stdout(
        countsTable(
          dataset.classes,
          perFold.flatMap((f) => [[`fold ${f.fold} train`, f.train] as [string, typeof f.train], [`fold ${f.fold} validation`, f.validation] as [string, typeof f.validation]]),
        ),
      );
    });
  },
};

interface PreviewOptions extends DataOptions {
  out: string;
}

const previewCommand: CommandModule<GlobalOptions, PreviewOptions> = {
  command: 'preview <target>',
  describe: 'A picture of training images as the model sees them: stored, preprocessed, and after each augmentation, one per class',
  builder: (yargs: Argv<GlobalOptions>) =>
    withHelp(
      withSet(yargs
      .positional('target', { type: 'string', demandOption: true, describe: 'a config with a data section' })
      .option('out', { type: 'string', default: 'preview.png', describe: 'the picture to write (.png, or .svg)' })),
      { examples: [['fer data preview configs/quick.yaml --out preview.png', "quick.yaml's flips, shifts and rotations"], ['fer data preview configs/demo.yaml --set data.augment=[flip_horizontal]', 'an augmentation tried before training']], env: ['config', 'FER_CACHE'] },
    ) as Argv<PreviewOptions>,
  handler: async (argv: ArgumentsCamelCase<PreviewOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const { config, registry } = await loadConfigWithPlugins(argv.target, { overrides: argv.set ?? [] });
      const data = requireSection(config, argv.target, 'data');
      const { dataset } = await load(data, config.seed, false);
      const svg = dataPreviewSvg({ dataset, data, seed: config.seed, registry, title: `${config.name}: training images as the model sees them` });
      const out = path.resolve(argv.out);
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, /\.svg$/i.test(out) ? svg : svgToPng(svg));
      io.stdout(`wrote ${path.relative(process.cwd(), out) || out}`);
    });
  },
};

export const dataCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'data <command>',
  describe: 'Look at a dataset: its splits and classes (inspect), its cross-validation folds (folds), or its images as the model sees them (preview)',
  builder: (yargs: Argv<GlobalOptions>) => yargs.command(inspectCommand).command(foldsCommand).command(previewCommand).demandCommand(1, 'name a data command: inspect, folds or preview'),
  handler: () => {},
};
