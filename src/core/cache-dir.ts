import os from 'node:os';
import path from 'node:path';

/** fer's per-user cache: FER_CACHE, else $XDG_CACHE_HOME/fer, else ~/.cache/fer. */
export function ferCacheDir(): string {
  return process.env.FER_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'fer');
}

/** Where `fer setup native` keeps libtensorflow and the addons it builds: FER_NATIVE_CACHE, else $XDG_CACHE_HOME/fer/native, else ~/.cache/fer/native. */
export function nativeCacheDir(): string {
  return process.env.FER_NATIVE_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'fer', 'native');
}
