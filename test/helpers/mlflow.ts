import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { expect } from 'vitest';
import path from 'node:path';
import { MlflowClient, type Run } from '../../src/track/sinks/mlflow/client.js';
import { ENDS_WITH_PARENT, freePort } from './process-group.js';

/**
 * A real MLflow tracking server for integration tests: `mlflow server` from the virtualenv that
 * .ci/run builds (scripts/mlflow-venv.sh), on 127.0.0.1 at a free port, with a SQLite store and
 * proxied artifacts in a temporary folder. It can be stopped and started again on the same port
 * and database, as a real outage would.
 */
export const mlflowVenv = process.env.FER_MLFLOW_VENV ?? path.join(os.homedir(), '.cache', 'fer', 'mlflow-venv');
export const mlflowBin = path.join(mlflowVenv, 'bin', 'mlflow');
export const mlflowAvailable = existsSync(mlflowBin);
/** CI sets this: there, a missing server is a failure, not a skip. */
export const mlflowRequired = process.env.FER_REQUIRE_MLFLOW === '1';

export interface MlflowServer {
  uri: string;
  dir: string;
  auth?: { username: string; password: string };
  /** `serveArtifacts: false` restarts a proxying server without artifact serving (its runs keep mlflow-artifacts: roots). */
  start(mode?: { serveArtifacts: boolean }): Promise<void>;
  stop(): Promise<void>;
  /** A client for checking what landed (with the admin credentials when auth is on). */
  client(): MlflowClient;
}

/**
 * `artifactRoot`: a server that does not proxy artifacts (--no-serve-artifacts) and gives runs this
 * artifact root (`file:///...`, or `s3://...` it accepts for metadata without reaching S3).
 */
export async function startMlflow(options: { basicAuth?: boolean; artifactRoot?: string } = {}): Promise<MlflowServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-mlflow-'));
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  const auth = options.basicAuth ? { username: 'admin', password: 'fer-test-admin-password' } : undefined;
  // MLflow 3 also starts a job runner and seven huey consumers (for GenAI jobs fer never submits),
  // each importing mlflow: about 10 s of CPU per server start, and the tests start many.
  const env: NodeJS.ProcessEnv = { ...process.env, MLFLOW_TRACKING_URI: undefined, PYTHONUNBUFFERED: '1', MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' };
  if (auth) {
    const ini = path.join(dir, 'basic_auth.ini');
    writeFileSync(
      ini,
      [
        '[mlflow]',
        'default_permission = READ',
        `database_uri = sqlite:///${path.join(dir, 'basic_auth.db')}`,
        `admin_username = ${auth.username}`,
        `admin_password = ${auth.password}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        '',
      ].join('\n'),
    );
    env.MLFLOW_AUTH_CONFIG_PATH = ini;
    env.MLFLOW_FLASK_SERVER_SECRET_KEY = 'fer-tests';
  }
  const args = (serve: boolean) => [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--workers',
    '1',
    '--backend-store-uri',
    `sqlite:///${path.join(dir, 'mlflow.db')}`,
    ...(options.artifactRoot ? ['--no-serve-artifacts', '--default-artifact-root', options.artifactRoot] : serve ? ['--artifacts-destination', path.join(dir, 'artifacts')] : ['--no-serve-artifacts']),
    ...(auth ? ['--app-name', 'basic-auth'] : []),
  ];
  let child: ChildProcess | undefined;
  let log = '';

  const server: MlflowServer = {
    uri,
    dir,
    ...(auth ? { auth } : {}),
    async start(mode = { serveArtifacts: true }) {
      log = '';
      // Its own process group, so stopping it ends the server's worker processes too. The group
      // also ends itself when this process dies without stopping it (a killed test runner): a
      // watcher reads the stdin pipe this process holds, which closes with it.
      child = spawn('bash', ['-c', ENDS_WITH_PARENT, 'mlflow-server', mlflowBin, ...args(mode.serveArtifacts)], { cwd: dir, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
      child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`mlflow server exited with ${child.exitCode}:\n${log}`);
        try {
          const response = await fetch(`${uri}/health`);
          if (response.ok) return;
        } catch {
          // not up yet
        }
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error(`mlflow server did not answer /health within 120 s:\n${log}`);
    },
    async stop() {
      const group = child?.pid;
      if (group === undefined) return;
      // The whole group, not only the wrapper: the server may take a while to act on SIGTERM.
      const groupAlive = () => {
        try {
          process.kill(-group, 0);
          return true;
        } catch {
          return false;
        }
      };
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-group, name);
        } catch {
          // already gone
        }
      };
      signal('SIGTERM');
      for (let waited = 0; groupAlive() && waited < 20_000; waited += 100) {
        if (waited === 10_000) signal('SIGKILL');
        await new Promise((r) => setTimeout(r, 100));
      }
      // The port must be free before a restart binds it again.
      for (let i = 0; i < 50; i++) {
        try {
          await fetch(`${uri}/health`);
          await new Promise((r) => setTimeout(r, 200));
        } catch {
          break;
        }
      }
    },
    client() {
      return new MlflowClient({ uri, ...(auth ? { credentials: auth } : {}), attempts: 2 });
    },
  };
  await server.start();
  return server;
}

export function tagsOf(run: Run): Record<string, string> {
  return Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
}

export function paramsOf(run: Run): Record<string, string> {
  return Object.fromEntries((run.data.params ?? []).map((t) => [t.key, t.value]));
}

/** Everything of an experiment's runs that a comparison should see, keyed by fer's run key (`parent`, `tiny-1/fold-0`): names carry a run's id. */
export async function experimentContent(client: MlflowClient, experimentName: string): Promise<Record<string, { status: string; parent: string | undefined; params: Record<string, string>; points: Record<string, number[]> }>> {
  const experiment = await client.getExperimentByName(experimentName);
  if (!experiment) throw new Error(`no experiment ${experimentName}`);
  const runs = await client.searchRuns([experiment.experiment_id], '');
  const keyOf = (r: Run) => tagsOf(r)['fer.key'] ?? r.info.run_name ?? r.info.run_id;
  const names = new Map(runs.map((r) => [r.info.run_id, keyOf(r)]));
  const out: Record<string, { status: string; parent: string | undefined; params: Record<string, string>; points: Record<string, number[]> }> = {};
  for (const run of runs) {
    const points: Record<string, number[]> = {};
    // System metrics describe the machine while it trained (how many samples depends on timing), not the run.
    for (const m of (run.data.metrics ?? []).filter((m) => !m.key.startsWith('system/'))) {
      points[m.key] = (await client.metricHistory(run.info.run_id, m.key)).map((p) => p.step).sort((a, b) => a - b);
    }
    const parentId = tagsOf(run)['mlflow.parentRunId'];
    out[keyOf(run)] = { status: run.info.status, parent: parentId ? names.get(parentId) : undefined, params: paramsOf(run), points };
  }
  return out;
}

/** An experiment's one parent run and its children, by the parent-run tag MLflow's UI nests them with. */
export async function runsOf(client: MlflowClient, experiment: string): Promise<{ parent: Run; children: Run[] }> {
  const found = await client.getExperimentByName(experiment);
  expect(found, `experiment ${experiment}`).toBeDefined();
  const runs = await client.searchRuns([found!.experiment_id], '');
  const parents = runs.filter((r) => !tagsOf(r)['mlflow.parentRunId']);
  expect(parents).toHaveLength(1);
  return { parent: parents[0]!, children: runs.filter((r) => tagsOf(r)['mlflow.parentRunId']) };
}
