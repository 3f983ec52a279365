import { describe, expect, it } from 'vitest';
import { nodeAt, toPlain } from '../../src/config/located.js';
import { readYaml } from '../../src/config/yaml-reader.js';

describe('readYaml', () => {
  it('keeps the position of every key and value', () => {
    const { root, diagnostics } = readYaml('models:\n  cnn:\n    layers:\n      - conv2d: {filters: 32}\n', '/x/a.yaml');
    expect(diagnostics).toEqual([]);
    const filters = nodeAt(root!, ['models', 'cnn', 'layers', 0, 'conv2d', 'filters'])!;
    expect(filters.span.start).toEqual({ line: 4, column: 27 });
    expect(filters.keySpan!.start).toEqual({ line: 4, column: 18 });
    expect(toPlain(root!)).toEqual({ models: { cnn: { layers: [{ conv2d: { filters: 32 } }] } } });
  });

  it('types scalars by YAML 1.2 (1e-4 is a number, yes is a string)', () => {
    const { root } = readYaml('a: 1.0e-4\nb: 1e-4\nc: yes\nd: ~\ne: "5"\n', '/x/a.yaml');
    expect(toPlain(root!)).toEqual({ a: 1e-4, b: 1e-4, c: 'yes', d: null, e: '5' });
  });

  it('resolves anchors, aliases and merge keys', () => {
    const { root, diagnostics } = readYaml('base: &b {kernel_size: 3, padding: same}\nlayer:\n  <<: *b\n  padding: valid\n', '/x/a.yaml');
    expect(diagnostics).toEqual([]);
    expect(toPlain(root!)).toEqual({ base: { kernel_size: 3, padding: 'same' }, layer: { kernel_size: 3, padding: 'valid' } });
  });

  it('reports every independent syntax error, not the cascade after one', () => {
    const text = 'a: {x: [1, 2}\nb: 2\nc: 3\nd: 4\ne: "unclosed\n';
    const { diagnostics } = readYaml(text, '/x/a.yaml');
    const lines = diagnostics.map((d) => d.span!.start.line);
    expect(lines[0]).toBe(1);
    expect(diagnostics.length).toBeLessThanOrEqual(3);
    expect(lines).toContain(6);
  });

  it('rejects several documents in one file', () => {
    const { diagnostics } = readYaml('a: 1\n---\nb: 2\n', '/x/a.yaml');
    expect(diagnostics.map((d) => d.message)).toContain(
      'a configuration file holds one YAML document, this one holds several (separated by `---`)',
    );
  });

  it('shifts positions for text taken from a longer line (overrides)', () => {
    const { root } = readYaml('[1, 2]', '<command line>', { line: 2, column: 15 });
    expect(root!.span.start).toEqual({ line: 3, column: 16 });
  });
});

describe('readYaml on hostile input', () => {
  it('refuses a "billion laughs" document at its alias instead of expanding it', () => {
    let text = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    text += 'models: *a9\n';
    const started = performance.now();
    const { diagnostics } = readYaml(text, '/x/laughs.yaml');
    expect(performance.now() - started).toBeLessThan(2000);
    const error = diagnostics.find((d) => d.code === 'yaml-aliases');
    expect(error?.severity).toBe('error');
    expect(error?.message).toMatch(/aliases expand to more than [\d,]+ values/);
    // At the first alias whose expansion crosses the cap (the line of `a2`, all of whose aliases are reached first).
    expect(error?.span?.file).toBe('/x/laughs.yaml');
    expect(error?.span?.start.line).toBeGreaterThan(1);
    expect(text.split('\n')[error!.span!.start.line - 1]!.slice(error!.span!.start.column - 1)).toMatch(/^\*a\d/);
  });

  // yaml's own check took minutes here (quadratic: 50,000 keys, 1.25e9 comparisons); linear, a second or two.
  it('checks repeated keys in linear time (a map of 50,000 keys)', () => {
    let text = 'tags:\n';
    for (let i = 0; i < 50_000; i++) text += `  key_${i}: "v"\n`;
    text += '  key_5: again\n';
    const started = performance.now();
    const { diagnostics } = readYaml(text, '/x/big.yaml');
    const elapsed = performance.now() - started;
    expect(diagnostics.map((d) => [d.message, d.span?.start.line])).toEqual([['YAML syntax: Map keys must be unique', 50_002]]);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('still reports a repeated key inside a flow map and a block map', () => {
    const { diagnostics } = readYaml('a: {x: 1, x: 2}\nb:\n  y: 1\n  y: 2\n', '/x/a.yaml');
    expect(diagnostics.map((d) => [d.message, d.span?.start.line, d.span?.start.column])).toEqual([
      ['YAML syntax: Map keys must be unique', 1, 11],
      ['YAML syntax: Map keys must be unique', 4, 3],
    ]);
  });
});
