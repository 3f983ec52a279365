import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { classNames } from '../config/shape.js';
import type { ImageShape } from '../core/image.js';
import { ferVersion } from '../core/package.js';
import { closestMatches } from '../core/suggest.js';
import { memberModels } from '../store/member-models.js';
import { readModelFiles } from '../store/model-io.js';
import { readTaskPreprocessing, taskModelDir } from '../store/run-folder.js';
import { openRun, type SavedRun } from '../store/saved-run.js';
import { ensembleModel, INPUT_NAME, type ExportMember } from './ensemble-model.js';
import { ExportError } from './export-error.js';
import { graphModel, type GraphDefNode } from './graph-model.js';
import type { ModelTopology, WeightSpec } from './layers-json.js';
import { testTimeViews } from './test-time-views.js';

export const EXPORT_FORMATS = ['tfjs-layers', 'tfjs-graph'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What an export says about itself, in model.json's userDefinedMetadata.fer (a loader reads it with getUserDefinedMetadata()). */
export interface ExportMetadata {
  /** The classes, in the order of the output's probabilities. */
  classes: string[];
  /** The input: raw pixel values 0-255 of images of this shape, batch first ([n, height, width, channels]). */
  input: { name: string; height: number; width: number; channels: number; range: [number, number] };
  /** How the members were combined, and each member's weight and models. */
  combine: string;
  members: { name: string; weight: number; models: string[] }[];
  /** The test-time views each model sees (their probabilities averaged). */
  views: string[];
  run: { id: string; experiment: string; configDigest: string; dataDigest: string };
  ferVersion: string;
}

/** A run's ensemble as one TensorFlow.js model: model.json's content and weights.bin. */
export interface ModelExport {
  modelJson: {
    /** layers-model: tf.loadLayersModel; graph-model (a GraphDef): tf.loadGraphModel. */
    format: 'layers-model' | 'graph-model';
    generatedBy: string;
    convertedBy: null;
    modelTopology: ModelTopology | { node: GraphDefNode[]; library: object; versions: object };
    weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
    userDefinedMetadata: { fer: ExportMetadata };
  };
  weights: Buffer;
  metadata: ExportMetadata;
}

export const WEIGHTS_FILE = 'weights.bin';

/**
 * Exports the ensemble of a finished run (or one member of it) as one standard TensorFlow.js
 * model; see docs/deliver.md for what is inside and why. Reads only the run folder: no backend starts.
 */
export function exportRun(runDir: string | SavedRun, options: { format?: ExportFormat; member?: string } = {}): ModelExport {
  const format = options.format ?? 'tfjs-layers';
  const run = typeof runDir === 'string' ? openRun(runDir) : runDir;
  let members = memberModels(run);
  if (options.member !== undefined) {
    const chosen = members.filter((m) => m.member === options.member);
    if (chosen.length === 0) {
      const close = closestMatches(options.member, members.map((m) => m.member));
      throw new ExportError(`the run has no member \`${options.member}\` (it has ${members.map((m) => m.member).join(', ')})`, close.length > 0 ? `did you mean \`${close[0]}\`?` : undefined);
    }
    members = chosen;
  }
  const imageShape: ImageShape = run.config.data!.image;
  const method = options.member !== undefined ? 'mean' : (run.summary?.method ?? run.config.ensemble?.combine ?? 'mean');
  const views = testTimeViews(run.config);
  const exportMembers: ExportMember[] = members.map((m) => ({
    name: m.member,
    weight: m.weight,
    tasks: m.tasks.map((task) => {
      const saved = readTaskPreprocessing(run.dir, task.key);
      if (!saved) throw new ExportError(`${task.key} of ${run.dir} has no preprocess.json`, 'the task has not finished: run the experiment again to finish it');
      return { key: task.key, files: readModelFiles(taskModelDir(run.dir, task.key)), steps: saved.steps };
    }),
  }));
  const name = options.member ?? run.config.name ?? run.manifest.experiment;
  const { topology, weightSpecs, weightData } = ensembleModel({ name: name.replace(/[^\w-]/g, '_'), imageShape, members: exportMembers, method, views: views });
  const metadata: ExportMetadata = {
    classes: classNames(run.config),
    input: { name: INPUT_NAME, ...imageShape, range: [0, 255] },
    combine: method,
    members: exportMembers.map((m) => ({ name: m.name, weight: m.weight, models: m.tasks.map((t) => t.key) })),
    views: views.map((v) => v.name),
    run: { id: run.manifest.runId, experiment: run.manifest.experiment, configDigest: run.manifest.configDigest, dataDigest: run.manifest.dataDigest },
    ferVersion: ferVersion(),
  };
  const common = { generatedBy: `fer ${ferVersion()}`, convertedBy: null, userDefinedMetadata: { fer: metadata } };
  if (format === 'tfjs-graph') {
    const graph = graphModel(topology, weightSpecs, weightData);
    return {
      modelJson: { format: 'graph-model', ...common, modelTopology: { node: graph.nodes, library: {}, versions: { producer: 1 } }, weightsManifest: [{ paths: [WEIGHTS_FILE], weights: graph.weightSpecs }] },
      weights: graph.weightData,
      metadata,
    };
  }
  return {
    modelJson: { format: 'layers-model', ...common, modelTopology: topology, weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs }] },
    weights: weightData,
    metadata,
  };
}

/** Writes an export into `dir` (model.json, weights.bin), replacing what was there only once all is written. */
export function writeExport(exported: ModelExport, dir: string): void {
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(path.join(staging, WEIGHTS_FILE), exported.weights);
  writeFileSync(path.join(staging, 'model.json'), JSON.stringify(exported.modelJson));
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
}
