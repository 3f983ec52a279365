import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Models whose initial weights are at a URL (`models.<name>.init.model: https://...`) are fetched
 * while the config is read, so that compiling stays a synchronous function of the config and files.
 */
/**
 * How long a server may stay silent (before its answer starts, or between two pieces of it) before
 * the download is given up: without it a server that accepts and never answers holds
 * `fer validate` for minutes. FER_HTTP_TIMEOUT sets it, in seconds.
 */
function answerTimeoutSeconds(): number {
  const set = Number(process.env.FER_HTTP_TIMEOUT);
  return Number.isFinite(set) && set > 0 ? set : 30;
}

/** GET a URL whole, giving up when the server is silent for `seconds` at any point. */
async function fetchWithin(target: string, seconds: number): Promise<Buffer> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const silence = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), seconds * 1000);
  };
  const silent = () =>
    new Error(`init.model: ${target} did not answer within ${seconds} s (set FER_HTTP_TIMEOUT, in seconds, to wait longer)`);
  silence();
  try {
    const response = await fetch(target, { signal: abort.signal });
    if (!response.ok) throw new Error(`init.model: ${target} answered HTTP ${response.status}`);
    const chunks: Uint8Array[] = [];
    if (response.body) {
      for await (const chunk of response.body) {
        silence();
        chunks.push(chunk);
      }
    }
    return Buffer.concat(chunks);
  } catch (error) {
    if (abort.signal.aborted) throw silent();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Where a model at a URL is kept once downloaded: a folder per URL in fer's cache. */
export function downloadedModelDir(url: string): string {
  const cache = process.env.FER_CACHE ?? path.join(os.homedir(), '.cache', 'fer');
  return path.join(cache, 'models', createHash('sha256').update(url).digest('hex').slice(0, 16));
}

/**
 * Downloads a tfjs model (model.json and the weight files its manifest lists) from a URL into the
 * cache, once: later compiles read it from disk, synchronously, like any other source.
 */
export async function downloadModel(url: string): Promise<string> {
  const dir = downloadedModelDir(url);
  if (existsSync(path.join(dir, 'model.json'))) return dir;
  const get = (target: string): Promise<Buffer> => fetchWithin(target, answerTimeoutSeconds());
  const manifestBytes = await get(url);
  let manifest: { weightsManifest?: { paths: string[] }[] };
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as typeof manifest;
  } catch {
    throw new Error(`init.model: ${url} is not a tfjs model.json`);
  }
  const staging = `${dir}.partial-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  for (const file of (manifest.weightsManifest ?? []).flatMap((g) => g.paths)) {
    if (file.includes('..') || path.isAbsolute(file)) throw new Error(`init.model: ${url} lists a weight file outside its folder: ${file}`);
    writeFileSync(path.join(staging, file), await get(new URL(file, url).href));
  }
  writeFileSync(path.join(staging, 'model.json'), manifestBytes);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return dir;
}
