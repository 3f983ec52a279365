import type { TObject } from '@sinclair/typebox';
import { closestMatches } from '../core/suggest.js';
import { FerError } from '../core/errors.js';

/** What every registry entry has: a unique type name (namespaced `plugin/name` for plugins) and a summary. */
export interface Definition {
  readonly type: string;
  readonly summary: string;
  /** Set for entries contributed by a plugin: the plugin's name, for errors and `fer plugins list`. */
  readonly plugin?: string;
}

/** A plain JSON Schema of an object, as a plugin may write its arguments without TypeBox. */
export interface ObjectSchema {
  type: 'object';
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: boolean;
  [keyword: string]: unknown;
}

/**
 * The arguments of an entry: a TypeBox object (fer's own entries: the schema, the static type of
 * the arguments, the defaults and the docs at once) or a plain JSON Schema object (plugins).
 */
export type ArgsSchema = TObject | ObjectSchema;

/** What an entry's behaviour receives: every argument, defaults filled in. */
// TypeBox schemas carry their static type as a phantom `static` member; reading it is cheaper for
// the compiler than Static<> on a generic schema.
export type ArgsOf<A extends ArgsSchema> = A extends TObject ? A['static'] : Record<string, unknown>;

/** An entry of a kind that has arguments (all kinds but activations). */
export interface DefinitionWithArgs extends Definition {
  readonly args: ArgsSchema;
}

export class RegistryError extends FerError {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Words that cannot be entry names because the config language uses them next to entries. */
const RESERVED = new Set(['name', 'input', 'inputs', 'if', 'repeat', 'use', 'with', 'trainable', 'doc']);

/**
 * A table of definitions of one kind (layers, initializers, optimizers...), in the spirit of
 * MMEngine's Registry: lookup by type name, with near-miss suggestions and refusal of duplicates.
 */
export class Registry<T extends Definition> {
  private readonly entries = new Map<string, T>();
  /** Other spellings users bring from Keras (`BatchNormalization`), mapped to our names. */
  private readonly aliases = new Map<string, string>();

  constructor(readonly kind: string) {}

  register(definition: T, aliases: readonly string[] = []): void {
    const existing = this.entries.get(definition.type);
    if (existing !== undefined) {
      const owner = existing.plugin ? `plugin \`${existing.plugin}\`` : 'fer itself';
      const claimant = definition.plugin ? `plugin \`${definition.plugin}\`` : 'fer itself';
      throw new RegistryError(`${this.kind} \`${definition.type}\` is registered twice: by ${owner} and by ${claimant}`);
    }
    if (RESERVED.has(definition.type)) {
      throw new RegistryError(`\`${definition.type}\` is a reserved word of the config language and cannot name a ${this.kind}`);
    }
    if (!/^[a-z][a-z0-9_]*(\/[a-z][a-z0-9_]*)?$/.test(definition.type)) {
      throw new RegistryError(
        `${this.kind} name \`${definition.type}\` must be lower_snake_case, optionally namespaced as \`plugin/name\``,
      );
    }
    this.entries.set(definition.type, definition);
    for (const alias of aliases) this.aliases.set(alias.toLowerCase(), definition.type);
  }

  get(type: string): T | undefined {
    return this.entries.get(type);
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  types(): string[] {
    return [...this.entries.keys()];
  }

  values(): T[] {
    return [...this.entries.values()];
  }

  /** Our name for a spelling from elsewhere (`Conv2D` -> `conv2d`), if we know it. */
  aliasOf(name: string): string | undefined {
    return this.aliases.get(name.toLowerCase());
  }

  /** Close names for an unknown one: aliases first (they are certain), then spelling neighbours. */
  suggest(name: string): string[] {
    const alias = this.aliasOf(name);
    if (alias !== undefined) return [alias];
    const local = name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
    const direct = closestMatches(name, this.types());
    if (direct.length > 0) return direct;
    // A plugin layer written without its namespace (`squeeze_excite` for `se/squeeze_excite`).
    return this.types().filter((t) => t.endsWith(`/${local}`));
  }
}
