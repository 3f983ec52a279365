import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { predictBackend } from '../../src/backend/backend.js';
import { mlflowAvailable, mlflowVenv } from './mlflow.js';

/**
 * TensorBoard's own reader, from PyPI's `tensorboard` in the MLflow test virtualenv
 * (scripts/mlflow-requirements.txt): the event files fer writes are read back the way TensorBoard
 * reads them for its charts.
 */
const python = path.join(mlflowVenv, 'bin', 'python');

function tensorboardInVenv(): boolean {
  if (!existsSync(python)) return false;
  return spawnSync(python, ['-c', 'import tensorboard.backend.event_processing.event_multiplexer'], { stdio: 'ignore', timeout: 120_000 }).status === 0;
}

export const nativeAvailable = predictBackend('auto') === 'tensorflow';

/** Why the TensorBoard tests cannot run here (undefined: they can). */
export const tensorboardSkipReason: string | undefined = !nativeAvailable
  ? 'no native TensorFlow backend (fer setup native): TensorBoard event files are written through tfjs-node'
  : !mlflowAvailable
    ? `no test virtualenv at ${mlflowVenv} (scripts/mlflow-venv.sh)`
    : !tensorboardInVenv()
      ? `the test virtualenv ${mlflowVenv} has no tensorboard (scripts/mlflow-venv.sh installs it)`
      : undefined;

/** TensorBoard run (folder relative to the log folder) -> tag -> its points in file order, duplicates included. */
export type TensorboardScalars = Record<string, Record<string, { step: number; value: number }[]>>;

// Orphaned-data purging off: a step written twice must show, as it would in TensorBoard's charts.
const READ = `
import json, sys
from tensorboard.backend.event_processing import event_accumulator, event_multiplexer
m = event_multiplexer.EventMultiplexer(size_guidance={event_accumulator.SCALARS: 0}, purge_orphaned_data=False)
m.AddRunsFromDirectory(sys.argv[1])
m.Reload()
out = {}
for run, tags in m.Runs().items():
    out[run] = {tag: [{"step": e.step, "value": e.value} for e in m.Scalars(run, tag)] for tag in tags["scalars"]}
print(json.dumps(out))
`;

export function readTensorboard(logdir: string): Promise<TensorboardScalars> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', READ, logdir], { env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`TensorBoard's reader failed (${code}):\n${stderr}`));
      else resolve(JSON.parse(stdout) as TensorboardScalars);
    });
  });
}
