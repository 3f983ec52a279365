import path from 'node:path';
import { describeInitSource } from '../compile/transfer.js';
import type { FerConfig } from '../config/types.js';
import { configDigest } from '../store/run-folder.js';

/**
 * The config digest a run is known by (store/run-folder.ts says what it holds): computed alike by
 * the runner, which names the run folder with it, and by each worker, which checks that the config
 * it received is the run's. Initial weights count by the digest of their bytes, so the same weights
 * reached through another path (another checkout, another mount) are the same run, and weights
 * replaced under the same path are another.
 */
export function runConfigDigest(config: FerConfig, configFile: string, pluginDigests: readonly string[]): string {
  return configDigest(config, pluginDigests, initWeightDigests(config, path.dirname(configFile)));
}

/** Each model's initial weights' digest; a source that cannot be read is left out (compiling the model reports it at its line). */
function initWeightDigests(config: FerConfig, baseDir: string): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const [name, model] of Object.entries(config.models ?? {})) {
    if (!model?.init) continue;
    try {
      digests[name] = describeInitSource(model.init, baseDir).digest;
    } catch {
      // reported by the compile step, with its position
    }
  }
  return digests;
}
