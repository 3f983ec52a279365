import type { TObject } from '@sinclair/typebox';
import type { ImageShape } from '../../core/image.js';
import type { ArgsOf, ArgsSchema, Definition } from '../registry.js';
import type { SourceRows } from './rows.js';

/**
 * Data sources (`data.source`): where the images come from. A source reads rows in its own order
 * (which folds and error messages rely on); data/load.ts caches what it read, digests it and
 * merges classes, the same for every source.
 */
export interface SourceContext {
  /** data.classes, in label order. */
  readonly classes: readonly string[];
  /** data.image: the size every image must have. */
  readonly image: ImageShape;
  /** The source's own seed, derived from the experiment seed (synthetic data draws from it). */
  readonly seed: number;
  /** Reports how far reading is: a fraction in [0, 1] and a short note (`12,000 rows`). */
  progress(fraction: number, detail: string): void;
}

export interface SourceDefinition<A extends ArgsSchema = ArgsSchema> extends Definition {
  readonly args: A;
  /** The argument a bare string stands for: `csv: data.csv` is `csv: {path: data.csv}`. */
  readonly shorthand?: string;
  /** For reports and progress: `{source: 'csv /data/fer.csv', task: 'reading fer.csv'}`. */
  describe(args: ArgsOf<A>): { source: string; task: string };
  /**
   * What identifies the data as it is now (a file's path, size and time), read without parsing:
   * with it the parsed rows are cached under it and the arguments; without it (synthetic) the
   * source is read every time. Throws a DataError when the data is not there.
   */
  fingerprint?(args: ArgsOf<A>): unknown;
  read(args: ArgsOf<A>, context: SourceContext): SourceRows | Promise<SourceRows>;
}

/** Keeps the argument type of the behaviour tied to the schema at the definition site. */
export function defineSource<A extends TObject>(definition: SourceDefinition<A>): SourceDefinition<A> {
  return definition;
}
