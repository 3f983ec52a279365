import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFer, STACK_TRACE } from './helpers/cli.js';

describe('fer CLI', () => {
  // --set only where a config is read; every help ends with the environment and the exit codes.
  it.each([
    [[], false],
    [['validate'], true],
    [['compile'], true],
    [['run'], true],
    [['config', 'show'], true],
    [['schema'], false],
    [['sync'], false],
    [['sweep'], true],
    [['data', 'preview'], true],
    [['export'], false],
    [['serve'], false],
    [['register'], false],
  ] as const)('prints help for %j', async (args, takesSet) => {
    const result = await runFer([...args, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('fer');
    expect(result.stdout.includes('--set')).toBe(takesSet);
    expect(result.stdout).toContain('Environment:');
    expect(result.stdout).toContain('Exit codes: 0 ok, 1 a failure while working, 2 bad usage or an invalid config');
  });

  it('prints every example command whole, on a line of its own, however narrow the help', async () => {
    for (const command of ['run', 'compile', 'sync', 'schema', 'data inspect']) {
      const help = (await runFer([...command.split(' '), '--help'], { env: { COLUMNS: '60' } })).stdout;
      const examples = help.slice(help.indexOf('Examples:'), help.indexOf('Environment:'));
      const lines = examples.split('\n').filter((l) => l.startsWith('    '));
      expect(lines.length, command).toBeGreaterThan(0);
      for (const line of lines) expect(line.trim(), command).toMatch(/^(MLFLOW_TRACKING_URI=\S+ )?fer /);
    }
  });

  it('knows every flag the commands document (for did-you-mean)', async () => {
    const { KNOWN_FLAGS } = await import('../src/cli/options.js');
    for (const command of ['validate', 'compile', 'schema', 'export', 'serve', 'run', 'config show', 'sweep', 'register', 'data preview', 'evaluate', 'predict']) {
      const help = (await runFer([...command.split(' '), '--help'])).stdout;
      for (const [, flag] of help.matchAll(/--([a-z][a-z-]*)/g)) {
        if (flag!.startsWith('no-')) continue;
        expect(KNOWN_FLAGS, `--${flag} of ${command}`).toContain(flag);
      }
    }
  });

  it('exits 2 with a suggestion for an unknown command or flag', async () => {
    const command = await runFer(['compiel', 'configs/cnn.yaml']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command `compiel`');
    expect(command.stderr).toContain('did you mean `compile`?');
    const flag = await runFer(['compile', 'configs/cnn.yaml', '--sumary']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('did you mean --summary?');
  });

  it('exits 2 without a stack trace for a missing config file', async () => {
    const result = await runFer(['validate', 'configs/nope.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('config file not found');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('prints an error with a hint as `error:` then `  help:`, exit 1, without a stack trace', async () => {
    const notARun = mkdtempSync(path.join(os.tmpdir(), 'fer-not-a-run-'));
    const result = await runFer(['predict', notARun, 'face.png']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: ${notARun} is not a fer run folder (no run.json)\n  help: runs are under runs/<experiment>/run-<id>/ (\`fer runs list\` shows them)\n`);
  });

  it('prints every FerError one way, and a stack only with FER_DEBUG', async () => {
    const { formatError } = await import('../src/cli/output.js');
    const { PluginError } = await import('../src/plugins/loader.js');
    const { DataError } = await import('../src/core/data-error.js');
    expect(formatError(new PluginError('plugin `x` not found', 'install it\nor name a file'), false)).toBe('error: plugin `x` not found\n  help: install it\n        or name a file');
    expect(formatError(new DataError('bad row', { file: 'a.csv', line: 3 }, 'fix it'), false)).toBe('error: a.csv:3: bad row\n  help: fix it');
    expect(formatError(new Error('boom'), false)).toBe('error: boom');
    const debug = formatError(new DataError('bad row', undefined, 'fix it'), true);
    expect(debug).toMatch(STACK_TRACE);
    expect(debug).toMatch(/^DataError: bad row\n/);
    expect(debug.endsWith('\n  help: fix it')).toBe(true);
  });

  it('compile --json reports the reference models and all 16 members, in the documented shape', async () => {
    const result = await runFer(['compile', 'configs/ensemble16.yaml', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      models: Record<string, { params: number; trainableParams: number; layers: number }>;
      members: { name: string; model: string }[];
    };
    expect(report.models.cnn).toMatchObject({ params: 741_191, trainableParams: 741_191, layers: 16 });
    expect(report.models.resnet18).toMatchObject({ params: 11_184_647, trainableParams: 11_176_839, layers: 67 });
    expect(report.members).toHaveLength(16);
    expect(report.members[0]).toEqual({ name: 'cnn-1', model: 'cnn' });
    expect(report.members[15]).toEqual({ name: 'resnet18-8', model: 'resnet18' });
  });

  it('--set edits are visible in the next compile (the edit-compile round trip)', async () => {
    const result = await runFer([
      'compile',
      'configs/cnn.yaml',
      '--json',
      '--set',
      'models.cnn.layers[3].with.units=[256, 32]',
    ]);
    expect(result.code, result.stderr).toBe(0);
    // Only the first dense layer grows: 3136*256+256 instead of 3136*128+128, and the next one's fan-in.
    const params = (JSON.parse(result.stdout) as { models: { cnn: { params: number } } }).models.cnn.params;
    expect(params).toBe(741_191 + (3136 * 128 + 128) + 128 * 32);
  });

  it('compile --summary prints a layer table with source lines; --model selects', async () => {
    const result = await runFer(['compile', 'configs/ensemble16.yaml', '--summary', '--model', 'cnn']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/conv_stack_1\/conv_unit_1\/conv2d_1\s+conv2d\s+44x44x32\s+832\s+configs\/templates\/cnn\.yaml:\d+:\d+ \(conv_stack > conv_unit\)/);
    expect(result.stdout).toContain('Total params: 741,191');
    expect(result.stdout).not.toContain('resnet18');
    const wrong = await runFer(['compile', 'configs/ensemble16.yaml', '--model', 'resnet']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('did you mean `resnet18`?');
  });

  it('validate prints ok per file, and --json the same as data', async () => {
    const result = await runFer(['validate', 'configs/ensemble16.yaml', 'configs/demo.yaml']);
    expect(result.code).toBe(0);
    // With FER_DATA the data file is found, without it validate says it is missing (and still ok).
    expect(result.stdout).toMatch(
      /^configs\/ensemble16\.yaml: ok \(2 models, 16 members(; data file found and readable, its rows not read\)|\), but its data is missing)\nconfigs\/demo\.yaml: ok \(1 model, 2 members\)\n$/,
    );
    const json = JSON.parse((await runFer(['validate', '--json', 'configs/quick.yaml'])).stdout) as { ok: boolean };
    expect(json.ok).toBe(true);
  });

  it('schema prints the JSON Schema', async () => {
    const result = await runFer(['schema']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { title: string }).title).toBe('fer experiment');
  });
});
