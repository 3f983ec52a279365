import path from 'node:path';
import { readVerifiedJson, writeDurable } from '../core/durable-file.js';
import { taskDir } from './run-folder.js';

/** Test images per class the saliency picture shows. */
export const SALIENCY_PER_CLASS = 3;

const FILE = 'saliency.json';
const FORMAT = 1;

/** An image the saliency picture shows: its place among the test rows, its dataset row and class. */
export interface SaliencyImage {
  index: number;
  row: number;
  label: number;
}

/**
 * The images of the saliency picture: the first `perClass` test rows of each class, in the order of
 * the test rows, class by class. The workers (for each task's maps) and the picture (to match them)
 * choose by this one rule, so the same run draws the same picture.
 */
export function saliencyImages(rows: ArrayLike<number>, labels: ArrayLike<number>, classCount: number, perClass = SALIENCY_PER_CLASS): SaliencyImage[] {
  const chosen: SaliencyImage[] = [];
  for (let c = 0; c < classCount; c++) {
    let n = 0;
    for (let i = 0; i < rows.length && n < perClass; i++) {
      if (labels[i] !== c) continue;
      chosen.push({ index: i, row: rows[i]!, label: c });
      n++;
    }
  }
  return chosen;
}

/** One task's saliency maps of the chosen images (height x width each, in their order). */
export interface TaskSaliency {
  rows: number[];
  labels: number[];
  height: number;
  width: number;
  maps: Float32Array;
}

interface SaliencyFile {
  format: number;
  rows: number[];
  labels: number[];
  height: number;
  width: number;
  /** Float32 little-endian, base64. */
  maps: string;
}

/**
 * Kept by the worker that trained the task, while its model is in memory: the run's picture then
 * averages the tasks' maps instead of loading every model again after training (for 64 ResNet-18s,
 * half a minute at the end of a run).
 */
export function writeTaskSaliency(runDir: string, key: string, saliency: TaskSaliency): void {
  const bytes = Buffer.from(saliency.maps.buffer, saliency.maps.byteOffset, saliency.maps.byteLength);
  const file: SaliencyFile = { format: FORMAT, rows: saliency.rows, labels: saliency.labels, height: saliency.height, width: saliency.width, maps: bytes.toString('base64') };
  writeDurable(path.join(taskDir(runDir, key), FILE), JSON.stringify(file));
}

/** A task's saliency maps, or undefined when it has none to give (missing, damaged or of another format). */
export function readTaskSaliency(runDir: string, key: string): TaskSaliency | undefined {
  let file: SaliencyFile | undefined;
  try {
    file = readVerifiedJson<SaliencyFile>(path.join(taskDir(runDir, key), FILE));
  } catch {
    // A damaged file costs only time: the picture loads the model instead.
    return undefined;
  }
  if (!file || file.format !== FORMAT) return undefined;
  const bytes = Buffer.from(file.maps, 'base64');
  if (bytes.length !== file.rows.length * file.height * file.width * 4) return undefined;
  const maps = new Float32Array(bytes.length / 4);
  Buffer.from(maps.buffer).set(bytes);
  return { rows: file.rows, labels: file.labels, height: file.height, width: file.width, maps };
}
