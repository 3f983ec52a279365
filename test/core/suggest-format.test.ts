import { describe, expect, it } from 'vitest';
import { closestMatches, didYouMean, editDistance } from '../../src/core/suggest.js';
import { formatDiagnostic } from '../../src/core/diagnostic-format.js';

describe('did-you-mean', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('fitlers', 'filters')).toBe(1);
    expect(editDistance('kernel', 'kernel_size')).toBe(5);
  });

  it('suggests close names, and names equal up to case and separators', () => {
    expect(didYouMean('filtres', ['filters', 'kernel_size', 'strides'])).toBe('did you mean `filters`?');
    expect(closestMatches('BatchNorm', ['batch_norm', 'layer_norm'])).toEqual(['batch_norm']);
    expect(closestMatches('kernel', ['kernel_size', 'strides'])).toEqual(['kernel_size']);
    expect(didYouMean('zzz', ['filters'])).toBeUndefined();
  });
});

describe('formatDiagnostic', () => {
  it('prints file:line:col, the path, a code frame with carets under the span, and the help', () => {
    const text = 'models:\n  cnn:\n    layers:\n      - conv2d: {filtres: 32}\n';
    const out = formatDiagnostic(
      {
        severity: 'error',
        code: 'unknown-key',
        message: 'unknown key `filtres` in conv2d arguments',
        span: { file: '/w/c.yaml', start: { line: 4, column: 18 }, end: { line: 4, column: 25 } },
        path: 'models.cnn.layers[0].conv2d.filtres',
        hint: 'did you mean `filters`?',
      },
      { sources: new Map([['/w/c.yaml', text]]), cwd: '/w' },
    );
    expect(out).toBe(
      [
        'c.yaml:4:18: error: unknown key `filtres` in conv2d arguments',
        '  at models.cnn.layers[0].conv2d.filtres',
        ' 2 |   cnn:',
        ' 3 |     layers:',
        ' 4 |       - conv2d: {filtres: 32}',
        '   |                  ^^^^^^^',
        '  help: did you mean `filters`?',
      ].join('\n'),
    );
  });
});
