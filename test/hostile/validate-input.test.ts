import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFer, STACK_TRACE } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-validate-input-'));
const csvConfig = (csv: string) =>
  [
    'name: csv-data',
    'data:',
    `  source: {csv: ${csv}}`,
    'models:',
    '  tiny:',
    '    layers:',
    '      - flatten: {}',
    '      - dense: {units: 7, activation: softmax}',
    '',
  ].join('\n');

describe('fer validate on odd input', () => {
  it('refuses an empty config file (and one of comments only) at its first line', async () => {
    for (const text of ['', '# nothing here yet\n\n']) {
      const file = path.join(dir, 'empty.yaml');
      writeFileSync(file, text);
      const result = await runFer(['validate', file]);
      expect(result.code).toBe(2);
      expect(result.stdout).not.toContain('ok');
      expect(result.stderr).toContain(`${file}:1:1`);
      expect(result.stderr).toContain('the config file is empty');
      expect(result.stderr).not.toMatch(STACK_TRACE);
    }
  });

  it('says the data file is missing instead of a plain ok, naming it at its line', async () => {
    const file = path.join(dir, 'missing-data.yaml');
    writeFileSync(file, csvConfig('no-such-file.csv'));
    const result = await runFer(['validate', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${file}: ok (1 model, 1 member), but its data is missing\n`);
    expect(result.stderr).toContain(`${file}:3:`);
    expect(result.stderr).toContain(`data file not found: ${path.join(dir, 'no-such-file.csv')}`);
    const json = JSON.parse((await runFer(['validate', '--json', file])).stdout) as { files: { diagnostics: { severity: string; code: string }[] }[] };
    expect(json.files[0]!.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'data-missing' })]);
  });

  it('says what it checked of a data file that is there: found and readable, rows not read', async () => {
    const file = path.join(dir, 'present-data.yaml');
    writeFileSync(path.join(dir, 'present.csv'), 'emotion,pixels,Usage\n');
    writeFileSync(file, csvConfig('present.csv'));
    const result = await runFer(['validate', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${file}: ok (1 model, 1 member; data file found and readable, its rows not read)\n`);
  });

  it.skipIf(process.getuid?.() === 0)('names a data file it may not read', async () => {
    const file = path.join(dir, 'unreadable-data.yaml');
    const csv = path.join(dir, 'unreadable.csv');
    writeFileSync(csv, 'emotion,pixels,Usage\n');
    chmodSync(csv, 0o000);
    writeFileSync(file, csvConfig('unreadable.csv'));
    const result = await runFer(['validate', file]);
    expect(result.stdout).toContain('but its data is missing');
    expect(result.stderr).toContain(`cannot read the data file ${csv}`);
  });
});

describe('files that are not what a config names them as', () => {
  const shadow = path.join(dir, 'shadow');
  writeFileSync(shadow, 'root:$6$secretsalt$hashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n');

  it('neither reads nor quotes a config or extends target that is not a .yaml file', async () => {
    const direct = await runFer(['validate', shadow]);
    expect(direct.code).toBe(2);
    expect(direct.stderr).not.toContain('secretsalt');
    expect(direct.stderr).toContain(`${shadow} is not a .yaml or .yml file`);
    const file = path.join(dir, 'extends-shadow.yaml');
    writeFileSync(file, `extends: ${shadow}\nname: x\n`);
    const extended = await runFer(['validate', file]);
    expect(extended.code).toBe(2);
    expect(extended.stderr).not.toContain('secretsalt');
    expect(extended.stderr).toContain(`${file}:1:10`);
  });

  it('does not quote a file given as CSV data that is not a CSV', async () => {
    const file = path.join(dir, 'shadow-data.yaml');
    writeFileSync(file, csvConfig(shadow));
    const result = await runFer(['run', file, '--runs', path.join(dir, 'runs')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not a CSV file of images');
    expect(result.stderr).not.toContain('secretsalt');
  });
});
