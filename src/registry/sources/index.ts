import { csvSource } from './csv.js';
import { folderSource } from './folder.js';
import type { SourceDefinition } from './source.js';
import { syntheticSource } from './synthetic.js';

/** The sources fer ships, one file each. */
export const sourceDefinitions: SourceDefinition[] = [csvSource, folderSource, syntheticSource];

export type { SourceContext, SourceDefinition } from './source.js';
export type { SourceRows } from './rows.js';
