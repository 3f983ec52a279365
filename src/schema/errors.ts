import type { Diagnostic } from '../core/diagnostic.js';
import { closestMatches, didYouMean, listChoices } from '../core/suggest.js';
import { displayPath, fromPointer, type DocumentPath } from '../core/document-path.js';
import type { FerRegistry } from '../registry/index.js';
import { Registry, type Definition } from '../registry/registry.js';
import { ENTRY_KEYS } from './document.js';
import { isSchemaObject, type JsonSchemaObject } from './json-schema.js';
import type { SchemaError } from './validator.js';
import type { SourceSpan } from '../core/diagnostic.js';

/** Where a document path is written: the value's span, and the key's when it is a map entry. */
export interface Position {
  span: SourceSpan;
  keySpan?: SourceSpan;
  /** How many trailing path segments had no position of their own. */
  missing: number;
}
export type Locator = (path: DocumentPath) => Position;

export interface ErrorContext {
  registry: FerRegistry;
  /** Prefix added to every error path (when validating a part of the document on its own). */
  basePath?: DocumentPath;
  /** Extra context for every diagnostic, such as the template use that produced the values. */
  notes?: Diagnostic['notes'];
}

/** The registry whose entries the schema names `kind` (each registry knows its own kind). */
function registryForKind(registry: FerRegistry, kind: string | undefined): Registry<Definition> | undefined {
  if (kind === undefined) return undefined;
  return Object.values(registry).find((table): table is Registry<Definition> => table instanceof Registry && table.kind === kind);
}

/** A value as it would be written in YAML, shortened. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'boolean') return `\`${value}\``;
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  const keys = Object.keys(value);
  return keys.length === 0 ? 'an empty map' : `a map with ${listChoices(keys, 4)}`;
}

function typeWords(type: unknown): string {
  const words: Record<string, string> = {
    integer: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'a map',
    array: 'a list',
    null: 'null',
  };
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => words[String(t)] ?? String(t)).join(' or ');
}

function annotation(schema: unknown, key: string): string | undefined {
  return isSchemaObject(schema) && typeof schema[key] === 'string' ? (schema[key] as string) : undefined;
}

/** "in conv2d arguments", "in the training section": which part of the document the problem is in. */
function context(schema: unknown): string {
  const title = annotation(schema, 'title');
  return title ? ` in ${title}` : '';
}

function lastKey(path: DocumentPath): string | undefined {
  const last = path[path.length - 1];
  return typeof last === 'string' ? last : undefined;
}

/**
 * Turns ajv's errors into diagnostics a new user can act on: each with its position, the document
 * path, what was expected and found, and a did-you-mean where a name is misspelt.
 */
export function schemaErrorsToDiagnostics(errors: readonly SchemaError[], locate: Locator, ctx: ErrorContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const base = ctx.basePath ?? [];
  // Unknown keys per object: a misspelt required key shows up both as unknown and as missing;
  // the unknown-key error (with its did-you-mean) says it all.
  const unknownKeys = new Map<string, string[]>();
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties') continue;
    const keys = unknownKeys.get(error.instancePath) ?? [];
    keys.push(String((error.params as { additionalProperty: string }).additionalProperty));
    unknownKeys.set(error.instancePath, keys);
  }
  for (const error of errors) {
    // `if` only says that a `then`/`else` branch failed; the branch's own errors say how.
    if (error.keyword === 'if') continue;
    const path = [...base, ...fromPointer(error.instancePath)];
    const parent = error.parentSchema as JsonSchemaObject | undefined;
    const expectedNote = annotation(parent, 'x-expected');
    const kind = annotation(parent, 'x-kind');
    const diagnostic = (d: Omit<Diagnostic, 'severity' | 'span' | 'path'>, at: DocumentPath, useKey = false): Diagnostic => {
      const position = locate(at);
      const span = useKey && position.missing === 0 ? (position.keySpan ?? position.span) : position.span;
      const notes = [...(d.notes ?? []), ...(ctx.notes ?? [])];
      return { severity: 'error', ...d, span, path: displayPath(at), ...(notes.length > 0 ? { notes } : {}) };
    };

    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String((error.params as { additionalProperty: string }).additionalProperty);
        const allowed = isSchemaObject(parent?.properties) ? Object.keys(parent.properties) : [];
        const registry = registryForKind(ctx.registry, kind);
        if (kind === 'layer') {
          const layerMatches = registry?.suggest(key) ?? [];
          const keyMatches = closestMatches(key, ENTRY_KEYS);
          const suggestions = [...layerMatches, ...keyMatches].slice(0, 3);
          out.push(
            diagnostic(
              {
                code: 'unknown-layer',
                message: `unknown layer type \`${key}\``,
                expected: `a layer type (${listChoices(ctx.registry.layers.types(), 8)}) or an entry key (${listChoices([...ENTRY_KEYS])})`,
                ...(suggestions.length > 0 ? { hint: `did you mean ${suggestions.map((s) => `\`${s}\``).join(' or ')}?` } : {}),
              },
              [...path, key],
              true,
            ),
          );
        } else if (registry !== undefined) {
          const suggestions = registry.suggest(key);
          out.push(
            diagnostic(
              {
                code: 'unknown-key',
                message: `unknown ${kind} \`${key}\``,
                expected: `one of ${listChoices(registry.types())}`,
                ...(suggestions.length > 0 ? { hint: `did you mean ${suggestions.map((s) => `\`${s}\``).join(' or ')}?` } : {}),
              },
              [...path, key],
              true,
            ),
          );
        } else {
          const hint = didYouMean(key, allowed);
          out.push(
            diagnostic(
              {
                code: 'unknown-key',
                message: `unknown key \`${key}\`${context(parent)}`,
                expected: allowed.length > 0 ? `one of ${listChoices(allowed)}` : 'no keys here',
                ...(hint ? { hint } : {}),
              },
              [...path, key],
              true,
            ),
          );
        }
        break;
      }
      case 'required': {
        const key = String((error.params as { missingProperty: string }).missingProperty);
        if ((unknownKeys.get(error.instancePath) ?? []).some((u) => closestMatches(u, [key]).length > 0)) break;
        const properties = isSchemaObject(parent?.properties) ? parent.properties : {};
        const description = annotation(properties[key], 'description');
        const present = isSchemaObject(error.data) ? Object.keys(error.data) : [];
        const misspelt = closestMatches(key, present);
        out.push(
          diagnostic(
            {
              code: 'missing-key',
              message: `missing required key \`${key}\`${context(parent)}`,
              ...(description ? { expected: `\`${key}\`: ${description}` } : {}),
              ...(misspelt.length > 0 ? { hint: `\`${misspelt[0]}\` is written here: did you mean \`${key}\`?` } : {}),
            },
            path,
            true,
          ),
        );
        break;
      }
      case 'type': {
        const key = lastKey(path);
        out.push(
          diagnostic(
            {
              code: 'type',
              message: `wrong type${key ? ` for \`${key}\`` : ''}${context(parent)}: expected ${expectedNote ?? typeWords((error.params as { type: unknown }).type)}`,
              expected: expectedNote ?? typeWords((error.params as { type: unknown }).type),
              found: describeValue(error.data),
              ...(typeof error.data === 'string' && /^-?\d+(\.\d+)?$/.test(error.data)
                ? { hint: 'remove the quotes to write a number' }
                : {}),
            },
            path,
          ),
        );
        break;
      }
      case 'enum': {
        const allowed = ((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
        const value = String(error.data);
        const registry = registryForKind(ctx.registry, kind);
        const suggestions = registry ? registry.suggest(value) : closestMatches(value, allowed);
        const what = kind === 'layer' ? 'layer type' : kind;
        const message =
          what !== undefined
            ? `unknown ${what} ${JSON.stringify(error.data)}`
            : `\`${lastKey(path) ?? 'value'}\` must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, not ${JSON.stringify(error.data)}`;
        out.push(
          diagnostic(
            {
              code: kind === 'layer' ? 'unknown-layer' : 'enum',
              message,
              expected: `one of ${listChoices(allowed)}`,
              found: describeValue(error.data),
              ...(suggestions.length > 0 ? { hint: `did you mean ${suggestions.map((s) => `\`${s}\``).join(' or ')}?` } : {}),
            },
            path,
          ),
        );
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const p = error.params as { comparison: string; limit: number };
        out.push(
          diagnostic(
            {
              code: 'range',
              message: `\`${lastKey(path) ?? 'value'}\` is out of range${context(parent)}: it must be ${p.comparison} ${p.limit}`,
              expected: `a value ${p.comparison} ${p.limit}`,
              found: describeValue(error.data),
            },
            path,
          ),
        );
        break;
      }
      case 'minItems':
      case 'maxItems':
      case 'minLength':
      case 'maxLength':
      case 'minProperties':
      case 'maxProperties': {
        const limit = (error.params as { limit: number }).limit;
        const bound = error.keyword.startsWith('min') ? 'at least' : 'at most';
        const unit = error.keyword.endsWith('Items') ? 'item' : error.keyword.endsWith('Length') ? 'character' : 'key';
        const singleKey = error.keyword === 'maxProperties' && limit === 1;
        out.push(
          diagnostic(
            {
              code: 'length',
              message: singleKey
                ? `${context(parent).replace(/^ in /, '') || 'this map'} takes exactly one key, found ${Object.keys(error.data as object).length}`
                : `\`${lastKey(path) ?? 'value'}\` needs ${bound} ${limit} ${unit}${limit === 1 ? '' : 's'}${context(parent)}`,
              ...(expectedNote ? { expected: expectedNote } : {}),
              found: describeValue(error.data),
            },
            path,
          ),
        );
        break;
      }
      case 'pattern': {
        const isNameRule = error.propertyName !== undefined;
        out.push(
          diagnostic(
            {
              code: 'pattern',
              message: isNameRule
                ? `\`${error.propertyName}\` is not a valid name${context(parent)}`
                : `\`${lastKey(path) ?? 'value'}\` is not written as expected${context(parent)}`,
              expected: expectedNote ?? annotation(parent, 'description') ?? `text matching ${(error.params as { pattern: string }).pattern}`,
              found: describeValue(isNameRule ? error.propertyName : error.data),
              ...(isNameRule ? { hint: 'names start with a letter and use letters, digits, `_`, `-` or `.`' } : {}),
            },
            isNameRule ? [...path, String(error.propertyName)] : path,
            isNameRule,
          ),
        );
        break;
      }
      case 'propertyNames':
        // Reported by the `pattern` error of the name itself.
        break;
      case 'uniqueItems': {
        const p = error.params as { i: number; j: number };
        out.push(
          diagnostic(
            { code: 'schema', message: `\`${lastKey(path) ?? 'list'}\` lists the same value twice (items ${p.j} and ${p.i})` },
            path,
          ),
        );
        break;
      }
      default:
        out.push(
          diagnostic(
            {
              code: 'schema',
              message: `${error.message ?? 'invalid value'}${context(parent)}`,
              ...(expectedNote ? { expected: expectedNote } : {}),
              found: describeValue(error.data),
            },
            path,
          ),
        );
    }
  }
  return out;
}
