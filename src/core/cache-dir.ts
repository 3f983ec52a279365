import os from 'node:os';
import path from 'node:path';

/** fer's per-user cache: FER_CACHE, else $XDG_CACHE_HOME/fer, else ~/.cache/fer. */
export function ferCacheDir(): string {
  return process.env.FER_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'fer');
}
