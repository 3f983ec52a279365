import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/registry/index.js';
import { documentSchema } from '../../src/schema/index.js';
import { configReference } from '../../src/schema/reference.js';
import { repoRoot } from '../helpers/cli.js';

/** The committed files editors and readers use must be what the registry generates (`npm run generate`). */
describe('generated files', () => {
  const registry = createRegistry();

  it('schema/fer.schema.json matches the registry', () => {
    const committed = JSON.parse(readFileSync(path.join(repoRoot, 'schema', 'fer.schema.json'), 'utf8')) as unknown;
    expect(committed).toEqual(documentSchema(registry));
  });

  it('docs/config-reference.md matches the registry', () => {
    const committed = readFileSync(path.join(repoRoot, 'docs', 'config-reference.md'), 'utf8');
    expect(committed).toBe(`${configReference(registry)}\n`);
  });

  it('documents every layer, initializer and optimizer', () => {
    const reference = configReference(registry);
    for (const type of [...registry.layers.types(), ...registry.initializers.types(), ...registry.optimizers.types()]) {
      expect(reference).toContain(`\`${type}\``);
    }
  });

  it('is a draft-07 schema that names its sections', () => {
    const schema = documentSchema(registry);
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(Object.keys(schema.properties as object)).toEqual(
      expect.arrayContaining(['name', 'seed', 'data', 'models', 'templates', 'training', 'folds', 'ensemble', 'tracking']),
    );
  });
});
