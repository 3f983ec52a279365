import { classNames } from '../../config/shape.js';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type * as tfjs from '@tensorflow/tfjs';
import { DataError, imageSize, type ImageShape } from '../../data/dataset.js';
import { decodeImage } from '../../data/image-decode.js';
import { resizeBilinear } from '../../data/preprocess.js';
import { readCsvSource } from '../../data/sources/csv.js';
import { csvOptions } from '../../data/load.js';
import { startEngine } from '../../backend/backend.js';
import { combine } from '../../ensemble/combine.js';
import { argmax } from '../../ensemble/metrics.js';
import { loadModel } from '../../store/model-io.js';
import { activateRunPlugins, memberModels, openRun, taskPreprocessor } from '../../store/saved-run.js';
import { taskDir } from '../../store/run-folder.js';
import { defaultIo, runCommand } from '../output.js';
import type { GlobalOptions } from '../options.js';

interface PredictOptions extends GlobalOptions {
  run: string;
  inputs: string[];
  json: boolean;
}

/** An image file as the data stores images: the configured size (resized if needed) and channels. */
function readImage(file: string, shape: ImageShape): Float32Array {
  const decoded = decodeImage(readFileSync(file), file);
  const rgba = decoded.rgba;
  const n = decoded.width * decoded.height;
  const raw = new Float32Array(n * shape.channels);
  for (let i = 0; i < n; i++) {
    if (shape.channels === 1) raw[i] = 0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!;
    else for (let c = 0; c < 3; c++) raw[i * 3 + c] = rgba[i * 4 + c]!;
  }
  if (decoded.width === shape.width && decoded.height === shape.height) return raw;
  return resizeBilinear(raw, 1, { height: decoded.height, width: decoded.width, channels: shape.channels }, shape.height, shape.width);
}

export const predictCommand: CommandModule<GlobalOptions, PredictOptions> = {
  command: 'predict <run> <inputs..>',
  describe: "Predict the emotion of images (.png, .jpg) or of a CSV's rows with a run's saved ensemble",
  builder: (yargs: Argv<GlobalOptions>) =>
    yargs
      .positional('run', { type: 'string', demandOption: true, describe: 'a finished run folder' })
      .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'image files, or a CSV with a pixels column' })
      .option('json', { type: 'boolean', default: false, describe: 'print [{"input", "emotion", "probabilities": {...}}]' }) as Argv<PredictOptions>,
  handler: async (argv: ArgumentsCamelCase<PredictOptions>) => {
    const io = defaultIo(argv);
    await runCommand(io, async () => {
      const run = openRun(path.resolve(argv.run));
      const config = run.config;
      const shape = config.data!.image as ImageShape;
      // The CSV reader takes the source's classes; the models predict the (possibly merged) ones.
      const classes = config.data!.classes;
      const predicted = classNames(config);
      const names: string[] = [];
      const images: Float32Array[] = [];
      for (const input of argv.inputs) {
        try {
          statSync(input);
        } catch {
          throw new DataError(`input not found: ${input}`);
        }
        if (/\.csv(\.gz)?$/i.test(input)) {
          const csv = csvOptions(config.data!.source.csv ?? input);
          const rows = await readCsvSource({
            path: input,
            labelColumn: csv.label_column,
            pixelsColumn: csv.pixels_column,
            splitColumn: null,
            allowedSplits: [],
            classes,
            image: shape,
          });
          const size = imageSize(shape);
          for (let r = 0; r < rows.labels.length; r++) {
            names.push(`${input}:${r + 2}`);
            images.push(Float32Array.from(rows.pixels.subarray(r * size, (r + 1) * size)));
          }
        } else {
          names.push(input);
          images.push(readImage(input, shape));
        }
      }
      const engine = await startEngine(config.engine.backend);
      const { tf } = engine;
      await activateRunPlugins(run, tf);
      const size = imageSize(shape);
      const batch = new Float32Array(images.length * size);
      images.forEach((image, i) => batch.set(image, i * size));
      const members = memberModels(run);
      const perMember: Float32Array[] = [];
      for (const member of members) {
        const outputs: Float32Array[] = [];
        for (const task of member.tasks) {
          const model = await loadModel(tf, path.join(taskDir(run.dir, task.key), 'model'));
          const preprocessor = taskPreprocessor(run, task);
          const inputs = preprocessor.apply(Float32Array.from(batch), images.length);
          const out = preprocessor.outputShape;
          const p = tf.tidy(() => model.predict(tf.tensor4d(inputs, [images.length, out.height, out.width, out.channels])) as tfjs.Tensor);
          outputs.push(p.dataSync() as Float32Array);
          p.dispose();
          model.dispose();
        }
        perMember.push(combine(outputs, predicted.length, 'mean'));
      }
      const probabilities = combine(perMember, predicted.length, config.ensemble?.combine ?? 'mean', members.map((m) => m.weight));
      const results = names.map((input, i) => ({
        input,
        emotion: predicted[argmax(probabilities, i, predicted.length)]!,
        probabilities: Object.fromEntries(predicted.map((c, k) => [c, Number(probabilities[i * predicted.length + k]!.toFixed(4))])),
      }));
      if (argv.json) {
        io.stdout(JSON.stringify(results, null, 2));
        return;
      }
      const width = Math.max(...names.map((n) => n.length), 5);
      io.stdout(`${'input'.padEnd(width)}  ${'emotion'.padEnd(10)}  ${predicted.map((c) => c.slice(0, 8).padStart(8)).join(' ')}`);
      for (const r of results) {
        io.stdout(`${r.input.padEnd(width)}  ${r.emotion.padEnd(10)}  ${predicted.map((c) => `${(r.probabilities[c]! * 100).toFixed(1)}%`.padStart(8)).join(' ')}`);
      }
    });
  },
};
