import { FerError } from '../core/errors.js';
import type { BackendRequest } from '../backend/backend.js';
import type { LoadedConfig } from '../config/load.js';
import { registryFromPluginFiles } from '../config/read.js';
import { loadedFromResolved, resolvedConfig } from '../config/resolved.js';
import { loadDataset } from '../data/load.js';
import type { Tf } from '../core/tf.js';
import { loadedPlugins, PluginChangedError } from '../plugins/loader.js';
import { runConfigDigest } from './run-identity.js';
import { smokeDataset } from './smoke.js';
import { createRunContext, type RunContext } from './execute-task.js';
import type { WorkerInit } from './protocol.js';

/**
 * What a worker starts from, and its checks. The parent sends the config it read and validated
 * (not the YAML's path), its digest, the data's digest and the plugins it loaded (file and SHA-256
 * of each). The worker reads no config file; it loads the plugins from those files and the data
 * from the cache the parent filled, and trains nothing unless all of it is what the parent had:
 * a file edited since the run started would otherwise be trained under the old run's identity.
 */
export function workerInit(
  loaded: LoadedConfig,
  digests: { config: string; data: string },
  run: { runDir: string; cwd: string; backend: BackendRequest; deterministic: boolean; smoke?: boolean },
): WorkerInit {
  return {
    type: 'init',
    config: resolvedConfig(loaded),
    configDigest: digests.config,
    dataDigest: digests.data,
    plugins: loadedPlugins(loaded.registry).map((p) => ({ spec: p.spec, source: p.source, digest: p.digest })),
    ...run,
  };
}

/** Something the run was started with is not what it was: the worker refuses to train. */
export class RunInputChanged extends FerError {
  constructor(what: string, edited: 'config' | 'plugin' | 'data') {
    const restore = edited === 'config' ? '' : ` (or restore the ${edited === 'plugin' ? 'file' : 'data'} and rerun to continue this one)`;
    super(`${what}: not trained. Rerun the command: it will start a new run folder for the ${edited === 'data' ? 'changed data' : `edited ${edited}`}${restore}`);
    this.name = 'RunInputChanged';
  }
}

const short = (digest: string) => digest.slice(0, 12);

/**
 * The worker's side: the config, plugins and data the parent described, each checked against the
 * parent's digest, as the context every task of the run shares. Throws RunInputChanged on a
 * mismatch, before anything is trained or written.
 */
export async function openWorkerContext(tf: Tf, init: WorkerInit): Promise<RunContext> {
  const { config } = init.config;
  const received = runConfigDigest(config, init.config.file, init.plugins.map((p) => p.digest));
  if (received !== init.configDigest) {
    throw new RunInputChanged(`${init.config.file}: the config this worker received has digest ${short(received)}, the run's is ${short(init.configDigest)}`, 'config');
  }
  let registry;
  try {
    registry = await registryFromPluginFiles(init.plugins, init.cwd, { verify: true });
  } catch (error) {
    if (error instanceof PluginChangedError) throw new RunInputChanged(error.message, 'plugin');
    throw error;
  }
  const loaded = loadedFromResolved(init.config, registry);
  const whole = (await loadDataset({ data: config.data!, seed: config.seed, registry })).dataset;
  const dataset = init.smoke ? smokeDataset(config, whole) : whole;
  if (dataset.digest !== init.dataDigest) {
    throw new RunInputChanged(`the data changed since the run read it (${dataset.source}: digest ${short(init.dataDigest)} then, ${short(dataset.digest)} now)`, 'data');
  }
  return { ...createRunContext(tf, loaded, dataset, init.runDir, init.configDigest), ...(init.smoke ? { smoke: true } : {}) };
}
