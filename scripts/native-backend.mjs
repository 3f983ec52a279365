#!/usr/bin/env node
// Sets up fer's native TensorFlow backend when it can, once: after `npm install` (postinstall, for an
// installed package) and after a checkout's build (prepare). It is `fer setup native` (TensorFlow from
// PyPI, the addon built with g++), run only when the native backend does not load yet and Python 3
// with pip and g++ are there; otherwise it says once that fer uses wasm and how to get the native
// one. It never fails an install. FER_SKIP_NATIVE=1 skips it (CI runs its setup steps itself).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fer = path.join(root, 'bin', 'fer.js');

/** The backend a run would choose here, by `fer doctor --json`, or undefined when fer is not built yet. */
export function chosenBackend() {
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) return undefined;
  const doctor = spawnSync(process.execPath, [fer, 'doctor', '--json'], { encoding: 'utf8' });
  try {
    return JSON.parse(doctor.stdout).backend;
  } catch {
    return undefined;
  }
}

const works = (command, args) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

/** Makes the native backend load if it can; returns a line saying what was done, or why not. */
export function ensureNative({ quiet = false } = {}) {
  const before = chosenBackend();
  if (before === undefined) return 'fer is not built yet';
  if (before === 'tensorflow') return 'native TensorFlow backend: ready';
  const missing = [works('python3', ['-m', 'pip', '--version']) ? '' : 'Python 3 with pip', works('g++', ['--version']) ? '' : 'g++'].filter(Boolean);
  if (missing.length === 0) {
    if (!quiet) console.error('fer: setting up the native TensorFlow backend from PyPI (once; a few minutes)...');
    spawnSync(process.execPath, [fer, 'setup', 'native'], { stdio: quiet ? 'ignore' : 'inherit' });
    if (chosenBackend() === 'tensorflow') return 'native TensorFlow backend: set up';
  }
  return `fer uses the ${before} backend (slower than native TensorFlow)${missing.length > 0 ? `; ${missing.join(' and ')} missing` : '; fer setup native failed'}. For the native backend: install Python 3 with pip and g++, then run npx fer setup native (docs/engine.md)`;
}

/**
 * The addon that keeps TensorFlow's start-up notices off stderr (src/backend/native/stderr-hold.ts):
 * `fer setup native` builds it, but a backend that loads without that command (tfjs-node's own
 * install, a kept cache) would never get it. Building it takes a fraction of a second; a failure only
 * means the notices show.
 */
export async function ensureStderrHold() {
  try {
    const dist = (...parts) => pathToFileURL(path.join(root, 'dist', ...parts)).href;
    const { stderrHoldFile } = await import(dist('backend', 'native', 'stderr-hold.js'));
    if (existsSync(stderrHoldFile())) return;
    const { buildStderrHold } = await import(dist('setup', 'native-setup.js'));
    buildStderrHold(stderrHoldFile());
  } catch {
    // Never fails an install.
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.env.FER_SKIP_NATIVE !== '1') {
    const said = ensureNative();
    if (said.startsWith('native TensorFlow backend')) await ensureStderrHold();
    if (said !== 'fer is not built yet') console.error(`fer: ${said}`);
  }
}
