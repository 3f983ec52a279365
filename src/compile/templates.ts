import type { TemplateConfig } from '../config/types.js';
import type { Diagnostic, DiagnosticNote } from '../core/diagnostic.js';
import type { DocumentPath } from '../core/document-path.js';
import { closestMatches, didYouMean, listChoices } from '../core/suggest.js';
import type { FerRegistry } from '../registry/index.js';
import type { LayerEntryMap } from '../config/types.js';
import type { Locator } from '../schema/errors.js';
import type { SchemaError } from '../schema/validator.js';
import { schemaValidator } from '../schema/index.js';
import { normalizeParam } from '../schema/template-params.js';
import { diagnosticAt } from './diagnostic-at.js';
import { scopeOf, type Scope, type Value } from './expression.js';

/** A value was invalid; the diagnostic is recorded, and the entry yields no tensor. */
export const FAILED = Symbol('failed');

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What binding a template's arguments needs of the model being built. */
export interface TemplateHost {
  registry: FerRegistry;
  /** The model's global names (`classes`, `input_shape`): a template sees these and its parameters. */
  globals: Scope;
  locate: Locator;
  /** The template uses that led here, outermost last, added to every diagnostic. */
  notes: DiagnosticNote[];
  diagnostics: Diagnostic[];
  /** Evaluates `$(...)` in a value; an error is recorded at `path` and gives FAILED. */
  evaluate(value: unknown, scope: Scope, path: DocumentPath): Value | typeof FAILED;
  /** Schema errors of a value evaluated from what is written at `at` (in `scope`), placed at the argument behind it when it came from one. */
  schemaDiagnostics(errors: readonly SchemaError[], at: DocumentPath, scope: Scope): Diagnostic[];
}

/**
 * Binds a template use's `with:` arguments to the template's declared parameters: unknown
 * arguments (with a did-you-mean), missing ones, defaults (which may be expressions over the
 * parameters declared before them) and each value checked against its declared type. Returns the
 * bound values, or undefined when something was wrong (every problem is reported).
 */
export function bindTemplateArgs(
  host: TemplateHost,
  templateName: string,
  template: TemplateConfig,
  entry: LayerEntryMap,
  path: DocumentPath,
  scope: Scope,
): Map<string, Value> | undefined {
  const report = (d: Omit<Diagnostic, 'severity' | 'span' | 'path'>, at: DocumentPath, notes: readonly DiagnosticNote[], onKey = false) => host.diagnostics.push(diagnosticAt(host.locate, d, at, notes, onKey));
  const withPath: DocumentPath = [...path, 'with'];
  const given = host.evaluate(entry.with ?? {}, scope, withPath);
  if (given === FAILED || !isMap(given)) return undefined;
  const declared = template.params ?? {};
  const params = Object.entries(declared).map(([name, declaration]) => ({ name, ...normalizeParam(name, declaration) }));
  const bound = new Map<string, Value>();
  let ok = true;
  for (const key of Object.keys(given)) {
    if (key in declared) continue;
    ok = false;
    const names = Object.keys(declared);
    const hint = didYouMean(key, names);
    report(
      {
        code: 'template-arg',
        message: `template \`${templateName}\` has no parameter \`${key}\``,
        expected: names.length > 0 ? `one of ${listChoices(names)}` : `no arguments (\`${templateName}\` declares no parameters)`,
        ...(hint ? { hint } : {}),
      },
      [...withPath, key],
      host.notes,
      true,
    );
  }
  const unknownArgs = Object.keys(given).filter((key) => !(key in declared));
  for (const param of params) {
    let value: unknown;
    if (param.name in given) value = given[param.name];
    else if (param.hasDefault) {
      // Defaults may be expressions over the parameters declared before them: `default: $(filters * 4)`.
      const defaultScope = scopeOf(new Map(bound), host.globals);
      const evaluated = host.evaluate(param.default, defaultScope, ['templates', templateName, 'params', param.name, 'default']);
      if (evaluated === FAILED) {
        ok = false;
        continue;
      }
      value = evaluated;
    } else {
      ok = false;
      // A misspelt argument was reported above with this parameter as its suggestion.
      if (unknownArgs.some((key) => closestMatches(key, [param.name]).length > 0)) continue;
      report(
        {
          code: 'template-arg',
          message: `template \`${templateName}\` needs \`${param.name}\` (${param.describe})${param.doc ? `: ${param.doc}` : ''}`,
          hint: `add it under \`with:\`, e.g. with: {${param.name}: ...}`,
        },
        [...path, 'use'],
        host.notes,
      );
      continue;
    }
    const validate = schemaValidator(host.registry, param.schema);
    const copy = structuredClone(value);
    if (!validate(copy)) {
      ok = false;
      const at: DocumentPath = param.name in given ? [...withPath, param.name] : [...path, 'use'];
      host.diagnostics.push(
        ...host.schemaDiagnostics(validate.errors ?? [], at, scope).map((d) => ({ ...d, code: 'template-arg' as const, message: `argument \`${param.name}\` of template \`${templateName}\` must be ${param.describe}` })),
      );
      continue;
    }
    bound.set(param.name, copy as Value);
  }
  return ok ? bound : undefined;
}
