import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitStartupLog } from '../../src/backend/native/startup-log.js';
import { stderrHoldFile } from '../../src/backend/native/stderr-hold.js';
import { buildStderrHold } from '../../src/setup/native-setup.js';
import { repoRoot, runFer, runProcess } from '../helpers/cli.js';
import { rgbPng, tempDir } from '../helpers/data.js';

/**
 * TensorFlow's start-up notices (issue 23): logged while its library loads, before any setting can
 * stop them; fer holds stderr during the load (src/backend/native/stderr-hold.c) and keeps them back
 * unless --verbose, passing anything else on.
 */
const PREAMBLE = 'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR';
const ONEDNN = /^I\d{4} [\d:.]+\s+\d+ port\.cc:\d+\] oneDNN custom operations are on/m;
/** Any line in absl's log format, or its preamble: what must not reach a user without --verbose. */
const TENSORFLOW_LOG = /^(WARNING: All log messages before absl|[IWEF]\d{4} \d{2}:\d{2}:[\d.]+\s+\d+ \S+:\d+\])/m;

const holdBuilt = () => expect(existsSync(stderrHoldFile()), `${stderrHoldFile()} is missing: run \`fer setup native\``).toBe(true);

describe('which held lines are start-up notices', () => {
  it('drops the absl preamble and info records with their continuation lines; keeps warnings, errors and other text', () => {
    const held = [
      PREAMBLE,
      'I0000 00:00:1796243819.334471    6565 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results.',
      'I0000 00:00:1796243908.468470    7601 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.',
      'To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.',
      'E0000 00:00:1796243908.500000    7601 cuda_dnn.cc:8310] Unable to register cuDNN factory',
      'terminate called after throwing an instance of std::bad_alloc',
      '',
    ].join('\n');
    const { notices, rest } = splitStartupLog(held);
    expect(notices).toHaveLength(3);
    expect(notices[0]).toBe(PREAMBLE);
    expect(notices[2]).toMatch(/cpu_feature_guard[^]*\nTo enable the following instructions/);
    expect(rest).toBe('E0000 00:00:1796243908.500000    7601 cuda_dnn.cc:8310] Unable to register cuDNN factory\nterminate called after throwing an instance of std::bad_alloc\n');
    expect(splitStartupLog('')).toEqual({ notices: [], rest: '' });
  });
});

describe('the stderr hold', () => {
  let cache: string;
  beforeAll(() => {
    // Built the way `fer setup native` builds it, into a cache of the test's own.
    cache = tempDir('fer-native-cache-');
    const built = buildStderrHold(stderrHoldFile(cache));
    expect(built.ok, built.note).toBe(true);
  });
  const holding = (body: string) =>
    runProcess(
      process.execPath,
      ['--input-type=module', '-e', `import { withStderrHeld } from ${JSON.stringify(path.join(repoRoot, 'dist', 'backend', 'native', 'stderr-hold.js'))};\n${body}`],
      { cwd: repoRoot, env: { ...process.env, FER_NATIVE_CACHE: cache } },
    );

  it('catches what is written to fd 2 while held, from JavaScript and from a child sharing the descriptor, and restores fd 2 after', async () => {
    const result = await holding(`
      import { execFileSync } from 'node:child_process';
      let caught = '';
      const value = withStderrHeld(() => {
        process.stderr.write('from node\\n');
        execFileSync('sh', ['-c', 'echo from a child >&2'], { stdio: 'inherit' });
        return 42;
      }, (text) => (caught = text));
      process.stderr.write('after\\n');
      console.log(JSON.stringify({ value, caught }));`);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ value: 42, caught: 'from node\nfrom a child\n' });
    expect(result.stderr).toBe('after\n');
  });

  it('hands over what it caught when the body throws', async () => {
    const result = await holding(`
      try {
        withStderrHeld(() => { process.stderr.write('before the throw\\n'); throw new Error('load failed'); }, (text) => console.log(JSON.stringify(text)));
      } catch (error) { console.log(error.message); }`);
    expect(result.stdout).toBe('"before the throw\\n"\nload failed\n');
    expect(result.stderr).toBe('');
  });

  it('a process that aborts while held still says why on the real stderr', async () => {
    const result = await holding(`withStderrHeld(() => { process.stderr.write('F0000 fatal: this CPU lacks AVX\\n'); process.abort(); }, () => {});`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^F0000 fatal: this CPU lacks AVX\n/);
  });

  it('without the addon nothing is held and the body just runs', async () => {
    const result = await runProcess(
      process.execPath,
      ['--input-type=module', '-e', `import { withStderrHeld } from ${JSON.stringify(path.join(repoRoot, 'dist', 'backend', 'native', 'stderr-hold.js'))};
        let called = false;
        const value = withStderrHeld(() => { process.stderr.write('shown\\n'); return 7; }, () => (called = true));
        console.log(JSON.stringify({ value, called }));`],
      { cwd: repoRoot, env: { ...process.env, FER_NATIVE_CACHE: tempDir('fer-no-cache-') } },
    );
    expect(JSON.parse(result.stdout)).toEqual({ value: 7, called: false });
    expect(result.stderr).toBe('shown\n');
  });
});

describe('fer on the native backend keeps TensorFlow start-up notices back unless --verbose', () => {
  it('fer doctor: nothing on stderr; with --verbose the preamble and oneDNN notice', async () => {
    holdBuilt();
    const quiet = await runFer(['doctor', '--json']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect((JSON.parse(quiet.stdout) as { backend: string }).backend).toBe('tensorflow');
    expect(quiet.stderr).toBe('');
    const verbose = await runFer(['doctor', '--verbose']);
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr).toContain(PREAMBLE);
    expect(verbose.stderr).toMatch(ONEDNN);
  });

  it('fer run (its workers too), predict and evaluate: only fer own lines on stderr; predict --verbose shows the notices', async () => {
    holdBuilt();
    const runs = tempDir('fer-quiet-');
    // A cache of its own, so that the run times its steps for the estimate in the main process too.
    const env = { MLFLOW_TRACKING_URI: '', FER_CACHE: tempDir('fer-cache-') };
    const trained = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '2', '--set', 'training.epochs=1', '--set', 'ensemble.members=[{model: tiny, count: 1}]'], { env });
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toContain('timing a few training steps');
    expect(trained.stderr).not.toMatch(TENSORFLOW_LOG);
    const run = path.join(runs, 'demo', readdirSync(path.join(runs, 'demo')).find((d) => d.startsWith('run-'))!);
    const image = path.join(runs, 'face.png');
    writeFileSync(image, rgbPng());

    const predicted = await runFer(['predict', run, image], { env });
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stderr).toBe('');
    const evaluated = await runFer(['evaluate', run, '--split', 'train'], { env });
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stderr).toMatch(/^predicting: /m);
    expect(evaluated.stderr).not.toMatch(TENSORFLOW_LOG);

    const verbose = await runFer(['predict', run, image, '--verbose'], { env });
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr).toContain(PREAMBLE);
    expect(verbose.stderr).toMatch(ONEDNN);
  }, 240_000);
});
