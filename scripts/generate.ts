/**
 * Regenerates the files derived from the registry: schema/fer.schema.json (for editors) and
 * docs/config-reference.md. Run after changing a layer, a section or a default: `npm run generate`.
 * A test fails when the committed files differ from what this writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistry } from '../src/registry/index.js';
import { documentSchema } from '../src/schema/index.js';
import { configReference } from '../src/schema/reference.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const registry = createRegistry();
mkdirSync(path.join(root, 'schema'), { recursive: true });
mkdirSync(path.join(root, 'docs'), { recursive: true });
writeFileSync(path.join(root, 'schema', 'fer.schema.json'), `${JSON.stringify(documentSchema(registry), null, 2)}\n`);
writeFileSync(path.join(root, 'docs', 'config-reference.md'), `${configReference(registry)}\n`);
console.log('wrote schema/fer.schema.json and docs/config-reference.md');
