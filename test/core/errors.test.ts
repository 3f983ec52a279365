import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/core/errors.js';
import { ConfigError } from '../../src/core/diagnostic.js';
import { DataError } from '../../src/data/dataset.js';
import { ExpressionError } from '../../src/compile/expression.js';
import { MlflowApiError, MlflowUnavailableError } from '../../src/track/sinks/mlflow/client.js';
import { repoRoot } from '../helpers/cli.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('FerError', () => {
  it('is the base of every error class in src/', () => {
    const direct = sourceFiles(path.join(repoRoot, 'src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/class (\w+) extends Error\b/g)].map((m) => `${path.relative(repoRoot, file)}: ${m[1]}`),
    );
    expect(direct).toEqual(['src/core/errors.ts: FerError']);
  });

  it('carries its hint and its subclass name', () => {
    const errors: [FerError, string, string | undefined][] = [
      [new DataError('bad', { file: 'a.csv', line: 2 }, 'fix row 2'), 'DataError', 'fix row 2'],
      [new ExpressionError('unknown name `x`', 'did you mean `y`?'), 'ExpressionError', 'did you mean `y`?'],
      [new MlflowApiError('denied', 403, 'PERMISSION_DENIED', 'check MLFLOW_TRACKING_TOKEN'), 'MlflowApiError', 'check MLFLOW_TRACKING_TOKEN'],
      [new MlflowUnavailableError('no server', false), 'MlflowUnavailableError', undefined],
      [new ConfigError([]), 'ConfigError', undefined],
    ];
    for (const [error, name, hint] of errors) {
      expect(error).toBeInstanceOf(FerError);
      expect(error.name).toBe(name);
      expect(error.hint).toBe(hint);
    }
    expect(new DataError('bad', { file: 'a.csv', line: 2 }).message).toBe('a.csv:2: bad');
  });
});
