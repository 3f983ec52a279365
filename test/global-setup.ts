import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { mlflowVenv } from './helpers/mlflow.js';
import { repoRoot } from './helpers/cli.js';

/**
 * What `npm test` prepares before the tests, so a fresh clone needs no other command: the MLflow
 * server's virtualenv (scripts/mlflow-venv.sh, from PyPI) and the native TensorFlow backend
 * (scripts/native-backend.mjs). Each that cannot be had is one visible line; the tests that need
 * it skip themselves (or, with FER_REQUIRE_MLFLOW, fail).
 */
export default function setup(): void {
  if (process.env.FER_TEST_SETUP === '0') return;
  if (!existsSync(path.join(mlflowVenv, 'bin', 'mlflow'))) {
    const venvWorks = spawnSync('python3', ['-c', 'import venv, ensurepip'], { stdio: 'ignore' }).status === 0;
    if (venvWorks) {
      console.warn('preparing the MLflow server for the tracking tests (scripts/mlflow-venv.sh, once)...');
      spawnSync('bash', [path.join(repoRoot, 'scripts', 'mlflow-venv.sh')], { stdio: 'inherit' });
    }
    if (!existsSync(path.join(mlflowVenv, 'bin', 'mlflow'))) console.warn(`MLflow tracking tests will skip: no MLflow server could be set up in ${mlflowVenv} (needs python3 with venv and pip)`);
  }
  const native = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'native-backend.mjs')], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  const said = native.stderr.trim().split('\n').at(-1) ?? '';
  if (!said.includes('native TensorFlow backend: ready') && !said.includes('set up')) console.warn(`native-backend tests will skip or run on wasm: ${said}`);
}
