import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/core/diagnostic.js';
import { nodeAt, toPlain } from '../../src/config/located.js';
import { applyOverrides } from '../../src/config/overrides.js';
import { readYaml } from '../../src/config/yaml-reader.js';

const base = 'training:\n  epochs: 40\nmodels:\n  cnn:\n    layers:\n      - conv2d: {filters: 32, kernel_size: 5}\n      - flatten\n';

function apply(overrides: string[]) {
  const diagnostics: Diagnostic[] = [];
  const root = applyOverrides(readYaml(base, '/c/a.yaml').root!, overrides, diagnostics);
  return { value: toPlain(root) as Record<string, never>, root, diagnostics };
}

describe('--set overrides', () => {
  it('sets typed values at dotted paths and list indices', () => {
    const { value, diagnostics } = apply(['training.epochs=5', 'models.cnn.layers[0].conv2d.filters=64']);
    expect(diagnostics).toEqual([]);
    expect(value).toMatchObject({ training: { epochs: 5 }, models: { cnn: { layers: [{ conv2d: { filters: 64, kernel_size: 5 } }, 'flatten'] } } });
  });

  it('creates missing keys and takes flow YAML values', () => {
    const { value } = apply(['ensemble.members=[{model: cnn, count: 2}]', 'tracking.uri=http://127.0.0.1:5000']);
    expect(value).toMatchObject({ ensemble: { members: [{ model: 'cnn', count: 2 }] }, tracking: { uri: 'http://127.0.0.1:5000' } });
  });

  it('removes keys and list items with ~', () => {
    const { value } = apply(['~training', '~models.cnn.layers[1]']);
    expect(value).toEqual({ models: { cnn: { layers: [{ conv2d: { filters: 32, kernel_size: 5 } }] } } });
  });

  it('points its values at the command line', () => {
    const { root } = apply(['training.epochs=5', 'seed=3']);
    expect(nodeAt(root, ['seed'])!.span).toMatchObject({ file: '<command line>', start: { line: 2, column: 6 } });
  });

  it.each([
    ['training.epochs', 'has no `=`'],
    ['models..cnn=1', 'cannot read the path'],
    ['models.cnn.layers[5].conv2d=1', 'out of range'],
    ['training.epochs.x=1', 'has no `x`'],
    ['~training.epocs', 'there is no `epocs` to remove'],
  ])('reports `%s` as an error', (override, message) => {
    const { diagnostics } = apply([override]);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toContain(message);
    expect(diagnostics[0]!.span!.file).toBe('<command line>');
  });

  it('suggests the key meant when removing a misspelt one', () => {
    expect(apply(['~training.epocs']).diagnostics[0]!.hint).toBe('did you mean `epochs`?');
  });
});
