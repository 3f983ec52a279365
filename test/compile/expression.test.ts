import { describe, expect, it } from 'vitest';
import { evaluateDeep, evaluateString, ExpressionError, hasExpression, scopeOf, type Value } from '../../src/compile/expression.js';

const scope = scopeOf(new Map<string, Value>([['filters', 64], ['strides', 2], ['first', true], ['widths', [16, 32, 64]], ['name', 'blk'], ['in_shape', [12, 12, 64]]]));
const run = (text: string) => evaluateString(text, scope);

describe('template expressions', () => {
  it('keeps the type of a whole-value expression', () => {
    expect(run('$filters')).toBe(64);
    expect(run('$(filters * 2)')).toBe(128);
    expect(run('$(first)')).toBe(true);
    expect(run('$([in_shape[0], in_shape[1]])')).toEqual([12, 12]);
  });

  it('evaluates the ResNet conditions', () => {
    expect(run('$(strides != 1 || in_shape[2] != filters)')).toBe(true);
    expect(run('$(!(first && 0 == 0))')).toBe(false);
    expect(run('$(1 == 0 ? strides : 1)')).toBe(1);
  });

  it('interpolates inside longer strings, with $$ for a literal $', () => {
    expect(run('$name/conv_$(filters / 32)')).toBe('blk/conv_2');
    expect(run('cost: $$5')).toBe('cost: $5');
  });

  it('offers a few functions and list indexing from the end', () => {
    expect(run('$(len(widths))')).toBe(3);
    expect(run('$(widths[-1])')).toBe(64);
    expect(run('$(max(widths) + min(1, 2))')).toBe(65);
    expect(run('$(range(3))')).toEqual([0, 1, 2]);
    expect(run('$(floor(7 / 2))')).toBe(3);
  });

  it.each([
    ['$(filterz)', 'unknown name `filterz`', 'did you mean `filters`?'],
    ['$(filters + "x")', '`+` needs a number', undefined],
    ['$(first ? 1)', 'cannot read the expression', undefined],
    ['$(filters ? 1 : 2)', 'needs true or false', 'compare explicitly'],
    ['$(widths[3])', 'index 3 is outside a list of 3 items', undefined],
    ['$(sqrt(4))', 'unknown function `sqrt`', undefined],
    ['$(filters / 0)', 'division by zero', undefined],
    ['$(filters', 'unclosed `$(`', undefined],
  ])('reports %s clearly', (text, message, hint) => {
    try {
      run(text);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ExpressionError);
      expect((error as Error).message).toContain(message);
      if (hint) expect((error as ExpressionError).hint).toContain(hint);
    }
  });

  it('evaluates nested values and says where an error is', () => {
    expect(evaluateDeep({ a: ['$filters', { b: '$(strides + 1)' }], c: 'plain' }, scope)).toEqual({ a: [64, { b: 3 }], c: 'plain' });
    try {
      evaluateDeep({ kernel_regularizer: { l2: '$l3' } }, scope);
      expect.unreachable();
    } catch (error) {
      expect((error as ExpressionError).path).toEqual(['kernel_regularizer', 'l2']);
    }
  });

  it('knows which strings hold expressions', () => {
    expect(hasExpression('$x')).toBe(true);
    expect(hasExpression('a $(b)')).toBe(true);
    expect(hasExpression('$$5 and $ 3')).toBe(false);
  });
});
