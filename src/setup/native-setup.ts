import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../core/package.js';
import { addonPatchDigest, patchAddonSources } from '../backend/native/addon-patch.js';
import { STDERR_HOLD_SOURCE, stderrHoldFile } from '../backend/native/stderr-hold.js';
import { nativeCacheDir } from '../core/cache-dir.js';
import { FerError } from '../core/errors.js';

/**
 * `fer setup native`: the native TensorFlow backend without internet access beyond the npm
 * registry and PyPI. tfjs-node's own install script downloads libtensorflow from a storage host;
 * where that is unreachable (or npm does not run install scripts), this does the same job from
 * sources that are reachable:
 *   1. the tfjs-node package, installed without its install script;
 *   2. libtensorflow (libtensorflow_cc.so.2, libtensorflow_framework.so.2) and the C API headers
 *      from the TensorFlow wheel on PyPI (tensorflow-cpu, or tensorflow for GPU builds);
 *   3. the N-API addon built from source against them (node-pre-gyp, g++, Node's headers).
 * Libraries and the built addon are cached outside the repository (~/.cache/fer/native, or
 * FER_NATIVE_CACHE), so running it again, e.g. after `npm ci` emptied node_modules, takes seconds.
 */
export interface NativeSetupOptions {
  gpu?: boolean;
  /** The TensorFlow wheel version to take libtensorflow from. */
  tensorflowVersion?: string;
  cacheDir?: string;
  python?: string;
  /** Rebuild even when the backend already loads. */
  force?: boolean;
  log?: (line: string) => void;
}

export interface NativeSetupResult {
  package: string;
  alreadyWorking: boolean;
  seconds: number;
  tensorflowVersion: string;
  steps: { step: string; seconds: number; note: string }[];
}

export const DEFAULT_TENSORFLOW_VERSION = '2.21.0';

/** The C API headers the tfjs-node binding includes, transitively (found with g++ -MM). */
const HEADER_DIRS = ['tensorflow/c/', 'tensorflow/core/platform/', 'tsl/platform/', 'xla/tsl/c/'];

export class NativeSetupError extends FerError {
  constructor(
    message: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'NativeSetupError';
  }
}

export function defaultNativeCache(): string {
  return nativeCacheDir();
}

function tfjsNodeVersion(pkg: string): string {
  const manifest = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string> };
  return manifest.optionalDependencies?.[pkg] ?? '4.22.0';
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { ok: boolean; stdout: string; output: string } {
  const result = spawnSync(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stdout = result.stdout ?? '';
  return { ok: result.status === 0, stdout, output: `${stdout}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/**
 * Loads the package in a child process (a broken native addon must not take this process down) and
 * says whether its addon carries fer's additions (see native-addon-patch.ts).
 */
export function nativeBackendWorks(pkg: string): { ok: boolean; ferAddon: boolean; detail: string } {
  const probe = `
    const tf = require(${JSON.stringify(pkg)});
    const v = tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync()[0]);
    if (tf.getBackend() !== 'tensorflow' || v !== 2) { console.error('backend ' + tf.getBackend()); process.exit(3); }
    const binding = tf.backend().binding;
    console.log(JSON.stringify({ version: binding.TF_Version, ferAddon: binding.ferAddon ?? 0 }));`;
  const result = run(process.execPath, ['-e', probe], { cwd: packageRoot, env: { TF_CPP_MIN_LOG_LEVEL: '2' } });
  // Only stdout: TensorFlow logs to stderr before TF_CPP_MIN_LOG_LEVEL takes effect (oneDNN's notice).
  const lastLine = result.stdout.trim().split('\n').pop() ?? '';
  if (result.ok) {
    try {
      const parsed = JSON.parse(lastLine) as { version: string; ferAddon: number };
      return { ok: true, ferAddon: parsed.ferAddon === addonPatchDigest(), detail: parsed.version };
    } catch {
      // Fall through: an unexpected answer counts as not working.
    }
  }
  return { ok: false, ferAddon: false, detail: result.output.trim().split('\n').slice(-3).join(' ') };
}

function packageDir(pkg: string): string | undefined {
  try {
    return path.dirname(createRequire(path.join(packageRoot, 'package.json')).resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

function replaceLink(target: string, link: string): void {
  try {
    lstatSync(link);
    rmSync(link, { recursive: true, force: true });
  } catch {
    // Nothing there yet.
  }
  symlinkSync(target, link);
}

/** The folder holding include/node/node_api.h for the running Node (node-gyp would otherwise download it). */
function nodeHeadersDir(): string | undefined {
  const candidates = [path.resolve(path.dirname(process.execPath), '..'), process.env.npm_config_nodedir].filter((d): d is string => !!d);
  return candidates.find((dir) => existsSync(path.join(dir, 'include', 'node', 'node_api.h')));
}

/**
 * Builds the addon that holds stderr while TensorFlow loads (stderr-hold.ts) into `target`. It only
 * keeps TensorFlow's start-up notices quiet, so a failed build is said, not fatal.
 */
export function buildStderrHold(target: string): { ok: boolean; note: string } {
  const headers = nodeHeadersDir();
  if (headers === undefined) return { ok: false, note: "not built: Node's C headers (include/node/node_api.h) are not next to this Node" };
  mkdirSync(path.dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  const compiler = process.env.CC ?? 'cc';
  // N-API symbols come from the Node that loads the addon (macOS's linker must be told so).
  const lookup = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [];
  const build = run(compiler, ['-shared', '-fPIC', '-O2', ...lookup, '-DNODE_GYP_MODULE_NAME=stderr_hold', '-I', path.join(headers, 'include', 'node'), STDERR_HOLD_SOURCE, '-o', partial]);
  if (!build.ok) {
    rmSync(partial, { force: true });
    return { ok: false, note: `not built (${compiler}): ${build.output.trim().split('\n').slice(-2).join(' ')}` };
  }
  renameSync(partial, target);
  return { ok: true, note: `cached in ${target}` };
}

export async function setupNative(options: NativeSetupOptions = {}): Promise<NativeSetupResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const gpu = options.gpu ?? false;
  const pkg = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  const tfVersion = options.tensorflowVersion ?? DEFAULT_TENSORFLOW_VERSION;
  const cacheRoot = options.cacheDir ?? defaultNativeCache();
  const python = options.python ?? 'python3';
  const steps: NativeSetupResult['steps'] = [];
  const step = <T>(name: string, body: () => T, note: (value: T) => string): T => {
    const t = performance.now();
    log(`${name}...`);
    const value = body();
    const seconds = (performance.now() - t) / 1000;
    steps.push({ step: name, seconds, note: note(value) });
    log(`${name}: ${note(value)} (${seconds.toFixed(1)} s)`);
    return value;
  };
  const result = (alreadyWorking: boolean): NativeSetupResult => ({
    package: pkg,
    alreadyWorking,
    seconds: (performance.now() - started) / 1000,
    tensorflowVersion: tfVersion,
    steps,
  });

  // First, as it is needed whichever addon loads (tfjs-node's prebuilt one too).
  const holdFile = stderrHoldFile(cacheRoot);
  if (!existsSync(holdFile) || options.force) {
    step("building the stderr hold (keeps TensorFlow's start-up notices back)", () => buildStderrHold(holdFile), (r) => r.note);
  }

  // An addon without fer's additions (tfjs-node's prebuilt one, say) works, without TensorFlow's
  // fused convolution; this command builds fer's.
  if (!options.force && packageDir(pkg)) {
    const loaded = nativeBackendWorks(pkg);
    if (loaded.ok && loaded.ferAddon) {
      log(`${pkg} already loads with the tensorflow backend and fer's addon`);
      return result(true);
    }
    if (loaded.ok) log(`${pkg} loads, but its addon is not this fer's build (no fused convolution): building it`);
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new NativeSetupError(
      `the offline native setup supports Linux x86-64 (this is ${process.platform} ${process.arch})`,
      `on this machine \`npm install ${pkg}\` with internet access installs a prebuilt backend; otherwise fer uses wasm`,
    );
  }

  const version = tfjsNodeVersion(pkg);
  let dir = packageDir(pkg);
  if (dir === undefined || options.force) {
    step(
      `installing ${pkg}@${version} without its download script`,
      () => {
        const out = run('npm', ['install', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund', `${pkg}@${version}`], { cwd: packageRoot });
        if (!out.ok) throw new NativeSetupError(`npm could not install ${pkg}: ${out.output.trim().split('\n').slice(-3).join(' ')}`);
      },
      () => 'done',
    );
    dir = packageDir(pkg);
    if (dir === undefined) throw new NativeSetupError(`${pkg} is still not resolvable from ${packageRoot}`);
  }

  const wheel = gpu ? 'tensorflow' : 'tensorflow-cpu';
  const libraryDir = path.join(cacheRoot, `${wheel}-${tfVersion}-linux-x64`);
  const libCc = path.join(libraryDir, 'lib', 'libtensorflow_cc.so.2');
  if (!existsSync(libCc)) {
    step(
      `taking libtensorflow from PyPI's ${wheel}==${tfVersion}`,
      () => {
        const download = mkdtempSync(path.join(tmpdir(), 'fer-wheel-'));
        try {
          // Tags pin the wheel, so the local Python's version does not matter: only its pip is used.
          const pip = run(python, [
            '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check',
            '--python-version', '3.11', '--implementation', 'cp', '--abi', 'cp311', '--platform', 'manylinux_2_27_x86_64',
            '--dest', download, `${wheel}==${tfVersion}`,
          ]);
          if (!pip.ok) {
            throw new NativeSetupError(
              `pip could not download ${wheel}==${tfVersion}: ${pip.output.trim().split('\n').slice(-2).join(' ')}`,
              `needs ${python} with pip and access to PyPI (or --python <interpreter>)`,
            );
          }
          const file = readdirSync(download).find((f) => f.endsWith('.whl'));
          if (!file) throw new NativeSetupError(`pip left no wheel in ${download}`);
          const extract = `
import sys, zipfile, os, shutil
wheel, out, dirs = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
z = zipfile.ZipFile(wheel)
os.makedirs(os.path.join(out, 'lib'), exist_ok=True)
for lib in ('libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'):
    with z.open('tensorflow/' + lib) as src, open(os.path.join(out, 'lib', lib), 'wb') as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
for name in z.namelist():
    rest = name[len('tensorflow/include/'):] if name.startswith('tensorflow/include/') else None
    if rest and any(rest.startswith(d) for d in dirs) and not name.endswith('/'):
        target = os.path.join(out, 'include', rest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as src, open(target, 'wb') as dst:
            shutil.copyfileobj(src, dst)
`;
          const staging = `${libraryDir}.partial`;
          rmSync(staging, { recursive: true, force: true });
          const unpacked = run(python, ['-c', extract, path.join(download, file), staging, HEADER_DIRS.join(',')]);
          if (!unpacked.ok) throw new NativeSetupError(`could not unpack ${file}: ${unpacked.output.trim().split('\n').slice(-2).join(' ')}`);
          rmSync(libraryDir, { recursive: true, force: true });
          // Renamed into place only when complete: an interrupted setup never leaves a half cache.
          mkdirSync(path.dirname(libraryDir), { recursive: true });
          renameSync(staging, libraryDir);
        } finally {
          rmSync(download, { recursive: true, force: true });
        }
      },
      () => `cached in ${libraryDir}`,
    );
  } else steps.push({ step: 'libtensorflow', seconds: 0, note: `from the cache ${libraryDir}` });

  step(
    'linking libtensorflow into the package',
    () => {
      const deps = path.join(dir!, 'deps');
      mkdirSync(path.join(deps, 'lib'), { recursive: true });
      replaceLink(path.join(libraryDir, 'include'), path.join(deps, 'include'));
      const lib = path.join(deps, 'lib');
      replaceLink(libCc, path.join(lib, 'libtensorflow_cc.so.2'));
      replaceLink(path.join(libraryDir, 'lib', 'libtensorflow_framework.so.2'), path.join(lib, 'libtensorflow_framework.so.2'));
      // The binding links against libtensorflow.so(.2); the C API lives in libtensorflow_cc.so.2.
      replaceLink('libtensorflow_cc.so.2', path.join(lib, 'libtensorflow.so.2'));
      replaceLink('libtensorflow_cc.so.2', path.join(lib, 'libtensorflow.so'));
      replaceLink('libtensorflow_framework.so.2', path.join(lib, 'libtensorflow_framework.so'));
    },
    () => 'done',
  );

  const napi = process.versions.napi ?? '8';
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { binary: { napi_versions: number[] } };
  const napiBuild = Math.max(...manifest.binary.napi_versions.filter((v) => v <= Number(napi)));
  const bindingTarget = path.join(dir, 'lib', `napi-v${napiBuild}`, 'tfjs_binding.node');
  // The key names fer's additions too: changed additions make a different addon.
  const bindingCache = path.join(cacheRoot, `binding-${pkg.replace('/', '+')}-${version}-${wheel}-${tfVersion}-napi${napiBuild}-fer${addonPatchDigest().toString(16)}`, 'tfjs_binding.node');
  if (existsSync(bindingCache) && !options.force) {
    step(
      'restoring the built addon',
      () => {
        mkdirSync(path.dirname(bindingTarget), { recursive: true });
        copyFileSync(bindingCache, bindingTarget);
      },
      () => `from ${bindingCache}`,
    );
  } else {
    step(
      `building the addon from source (N-API ${napiBuild})`,
      () => {
        const headers = nodeHeadersDir();
        if (headers === undefined) {
          throw new NativeSetupError(
            "Node's C headers (include/node/node_api.h) are not next to this Node",
            'install them (Debian: libnode-dev, or a Node distribution that ships include/), or set npm_config_nodedir to a folder that has include/node',
          );
        }
        patchAddonSources(dir!);
        const preGyp = createRequire(path.join(dir!, 'package.json')).resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
        const build = run(process.execPath, [preGyp, 'install', '--build-from-source'], { cwd: dir!, env: { npm_config_nodedir: headers } });
        if (!build.ok || !existsSync(bindingTarget)) {
          throw new NativeSetupError(
            `building the tfjs-node addon failed: ${build.output.trim().split('\n').slice(-6).join('\n')}`,
            'the build needs g++, make and python3',
          );
        }
        mkdirSync(path.dirname(bindingCache), { recursive: true });
        copyFileSync(bindingTarget, `${bindingCache}.tmp`);
        renameSync(`${bindingCache}.tmp`, bindingCache);
        rmSync(path.join(dir!, 'build'), { recursive: true, force: true });
      },
      () => `cached in ${bindingCache}`,
    );
  }

  const check = step(
    'checking that it loads',
    () => nativeBackendWorks(pkg),
    (r) => (r.ok ? `backend tensorflow, TensorFlow ${r.detail}${r.ferAddon ? `, fer's addon ${addonPatchDigest().toString(16)}` : ''}` : 'failed'),
  );
  if (!check.ok || !check.ferAddon) {
    if (existsSync(bindingCache)) unlinkSync(bindingCache);
    const problem = check.ok ? "loads an addon without fer's additions (not the one just built)" : `does not load: ${check.detail}`;
    throw new NativeSetupError(`${pkg} was set up but ${problem}`, gpu ? 'the GPU build needs CUDA and cuDNN libraries on the library path' : undefined);
  }
  return result(false);
}
