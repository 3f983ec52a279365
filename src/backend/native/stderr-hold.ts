import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { nativeCacheDir } from '../../core/cache-dir.js';
import { packageRoot } from '../../core/package.js';

/**
 * Holding stderr (file descriptor 2) while TensorFlow's library loads. TensorFlow 2.21 logs its
 * start-up notices ("All log messages before absl::InitializeLog() ...", oneDNN's notice) while the
 * library initialises, inside dlopen: before any code of ours runs and whatever TF_CPP_MIN_LOG_LEVEL
 * says. Node cannot point fd 2 elsewhere, so a small N-API addon (stderr-hold.c, built by `fer setup
 * native` into the native cache) does it. Without the addon nothing is held and the notices show.
 */
export const STDERR_HOLD_SOURCE = path.join(packageRoot, 'src', 'backend', 'native', 'stderr-hold.c');

interface StderrHoldAddon {
  hold(): boolean;
  release(): string;
}

let digest: string | undefined;
/** A digest of the addon's source: a changed source makes a different addon. */
export function stderrHoldDigest(): string {
  digest ??= createHash('sha256').update(readFileSync(STDERR_HOLD_SOURCE)).digest('hex').slice(0, 12);
  return digest;
}

/** Where `fer setup native` puts the built addon (N-API is ABI-stable: one build serves every Node). */
export function stderrHoldFile(cacheRoot: string = nativeCacheDir()): string {
  return path.join(cacheRoot, `stderr-hold-${process.platform}-${process.arch}-${stderrHoldDigest()}`, 'stderr_hold.node');
}

let addon: StderrHoldAddon | null | undefined;
function loadAddon(): StderrHoldAddon | undefined {
  if (addon === undefined) {
    try {
      const file = stderrHoldFile();
      addon = existsSync(file) ? (createRequire(import.meta.url)(file) as StderrHoldAddon) : null;
    } catch {
      // A broken or foreign build only means nothing is held.
      addon = null;
    }
  }
  return addon ?? undefined;
}

/**
 * Runs `body` with fd 2 held, then hands what was written to it meanwhile to `released` (also when
 * `body` throws). Without the addon, or when it cannot hold, `body` just runs and `released` is not called.
 */
export function withStderrHeld<T>(body: () => T, released: (text: string) => void): T {
  const hold = loadAddon();
  const held = hold?.hold() ?? false;
  try {
    return body();
  } finally {
    if (held) released(hold!.release());
  }
}
