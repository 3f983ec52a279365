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
