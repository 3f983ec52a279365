import { existsSync, readdirSync } from 'node:fs';
import { CHECKSUM_SUFFIX } from '../core/durable-file.js';
import { ExportError } from '../export/export-error.js';
import { exportRun, writeExport } from '../export/export-run.js';
import path from 'node:path';
import { stringify } from 'yaml';
import { classNames } from '../config/shape.js';
import type { ImageShape } from '../core/image.js';
import { memberModels } from '../store/member-models.js';
import { taskDir, writeAtomic } from '../store/run-folder.js';
import { openRun } from '../store/saved-run.js';
import { trackingDir } from '../track/journal.js';

/**
 * What a run hands on as a model, and the `MLmodel` file that describes it to MLflow: the ensemble
 * (on the parent run) is the run folder's saved ensemble, the files `fer predict` reads laid out as
 * in the run folder (run.json, config.resolved.yaml, ensemble/summary.json and each member's
 * models with their preprocessing); a task's model (on its child) is its best weights and their
 * preprocessing. The signature says what goes in (uint8 pixels, the run's image shape) and what
 * comes out (one probability per class, named).
 */
export interface ModelPackage {
  name: string;
  /** Run-folder files (absolute) and their paths among the model's artifacts. */
  files: { file: string; path: string }[];
}

export const ENSEMBLE_MODEL = 'ensemble';
export const TASK_MODEL = 'model';

/** The MLmodel file's text: fer's flavor and the signature, in MLflow's MLmodel layout. */
export function mlmodelText(input: { name: string; image: ImageShape; classes: readonly string[]; created: string; flavor: Record<string, unknown> }): string {
  const inputs = [{ type: 'tensor', 'tensor-spec': { dtype: 'uint8', shape: [-1, input.image.height, input.image.width, input.image.channels] } }];
  const outputs = input.classes.map((name) => ({ type: 'float', name, required: true }));
  return stringify({
    artifact_path: input.name,
    flavors: { fer: input.flavor },
    // MLflow keeps a signature's schemas as JSON text inside the YAML.
    signature: { inputs: JSON.stringify(inputs), outputs: JSON.stringify(outputs), params: null },
    utc_time_created: input.created.replace('T', ' ').replace('Z', ''),
  });
}

/** Where a run keeps the MLmodel files it wrote (they are the run's, not a task's). */
function mlmodelFile(runDir: string, runKey: string, name: string): string {
  return path.join(trackingDir(runDir), 'models', ...runKey.split('/'), name, 'MLmodel');
}

function filesOf(dir: string, under: string): { file: string; path: string }[] {
  if (!existsSync(dir)) return [];
  // The checksum files stay in the run folder: MLflow keeps its own digests of what it stores.
  return readdirSync(dir)
    .filter((f) => !f.endsWith(CHECKSUM_SUFFIX))
    .sort()
    .map((f) => ({ file: path.join(dir, f), path: `${under}/${f}` }));
}

/** A finished task's best weights, its preprocessing and an MLmodel file. */
export function taskModelPackage(runDir: string, key: string, image: ImageShape, classes: readonly string[], created: string, ferVersion: string): ModelPackage {
  const dir = taskDir(runDir, key);
  const mlmodel = mlmodelFile(runDir, key, TASK_MODEL);
  const flavor = { fer_version: ferVersion, kind: 'task', task: key, model: 'model/model.json', preprocessing: 'preprocess.json', format: 'tfjs-layers (fer layer classes)' };
  writeAtomic(mlmodel, mlmodelText({ name: TASK_MODEL, image, classes, created, flavor }));
  return {
    name: TASK_MODEL,
    files: [{ file: mlmodel, path: 'MLmodel' }, ...filesOf(path.join(dir, 'model'), 'model'), { file: path.join(dir, 'preprocess.json'), path: 'preprocess.json' }],
  };
}

/** The run's saved ensemble as `fer predict` reads it, plus an MLmodel file. */
export function ensembleModelPackage(runDir: string, image: ImageShape, ferVersion: string): ModelPackage {
  const run = openRun(runDir);
  const members = memberModels(run);
  const mlmodel = mlmodelFile(runDir, 'parent', ENSEMBLE_MODEL);
  const flavor = {
    fer_version: ferVersion,
    kind: 'ensemble',
    combine: run.summary?.method ?? run.config.ensemble?.combine ?? 'mean',
    members: members.map((m) => ({ name: m.member, model: m.model, weight: m.weight, tasks: m.tasks.map((t) => t.key) })),
    predict: 'fer predict <this folder> <images>',
    export: 'export/model.json: the ensemble as one stock TensorFlow.js layers model (tf.loadLayersModel), when the run has a portable form',
  };
  writeAtomic(mlmodel, mlmodelText({ name: ENSEMBLE_MODEL, image, classes: classNames(run.config), created: run.manifest.created, flavor }));
  const files = [
    { file: mlmodel, path: 'MLmodel' },
    { file: path.join(runDir, 'run.json'), path: 'run.json' },
    { file: path.join(runDir, 'config.resolved.yaml'), path: 'config.resolved.yaml' },
    { file: path.join(runDir, 'ensemble', 'summary.json'), path: 'ensemble/summary.json' },
  ];
  for (const m of members) {
    for (const t of m.tasks) {
      const dir = taskDir(runDir, t.key);
      files.push(...filesOf(path.join(dir, 'model'), `tasks/${t.key}/model`), { file: path.join(dir, 'preprocess.json'), path: `tasks/${t.key}/preprocess.json` });
    }
  }
  // The same ensemble as one stock TensorFlow.js model (fer export), so the logged model is usable
  // without fer; a run that has no portable form (a plugin layer, say) is logged without it.
  try {
    const exportDir = path.join(path.dirname(mlmodel), 'export');
    writeExport(exportRun(run), exportDir);
    files.push(...filesOf(exportDir, 'export'));
  } catch (error) {
    if (!(error instanceof ExportError)) throw error;
  }
  return { name: ENSEMBLE_MODEL, files };
}
