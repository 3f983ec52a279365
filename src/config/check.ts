import type { Diagnostic } from '../core/diagnostic.js';
import { didYouMean, listChoices } from '../core/suggest.js';
import type { FerRegistry } from '../registry/index.js';
import { schemaErrorsToDiagnostics, type Locator } from '../schema/errors.js';
import { schemaValidator } from '../schema/index.js';
import { normalizeParam, RESERVED_PARAM_NAMES } from '../schema/template-params.js';
import type { ParamDeclarationConfig } from '../schema/sections.js';
import { defaultImageAndClasses } from './normalize.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';

/**
 * Checks that JSON Schema cannot express: one layer type per entry, references to names defined
 * above, templates that exist and do not use themselves, parameter defaults of the declared type,
 * ensemble members naming real models. Written defensively: it runs even when the schema found
 * problems, so that a file's errors are all reported at once.
 */
type Plain = Record<string, unknown>;

function isMap(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('$');
}

export interface LayerList {
  path: DocumentPath;
  entries: unknown[];
  /** The template the list belongs to, or undefined for a model. */
  template?: string;
}

export function layerLists(config: Plain): LayerList[] {
  const lists: LayerList[] = [];
  for (const section of ['models', 'templates'] as const) {
    const group = config[section];
    if (!isMap(group)) continue;
    for (const [name, body] of Object.entries(group)) {
      if (isMap(body) && Array.isArray(body.layers)) {
        lists.push({ path: [section, name, 'layers'], entries: body.layers, ...(section === 'templates' ? { template: name } : {}) });
      }
    }
  }
  return lists;
}

/** The templates a model uses, directly or through other templates (by their literal `use:` names). */
export function templatesUsedBy(config: { models?: unknown; templates?: unknown }, model: string): Set<string> {
  const templates = isMap(config.templates) ? config.templates : {};
  const used = new Set<string>();
  const visit = (layers: unknown) => {
    if (!Array.isArray(layers)) return;
    for (const entry of layers) {
      if (!isMap(entry) || typeof entry.use !== 'string' || used.has(entry.use)) continue;
      used.add(entry.use);
      const template = templates[entry.use];
      if (isMap(template)) visit(template.layers);
    }
  };
  const body = isMap(config.models) ? config.models[model] : undefined;
  if (isMap(body)) visit(body.layers);
  return used;
}

export function checkSemantics(config: Plain, registry: FerRegistry, locate: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const error = (d: Omit<Diagnostic, 'severity' | 'span' | 'path'>, path: DocumentPath, onKey = false): void => {
    const p = locate(path);
    out.push({ severity: 'error', ...d, span: onKey && p.missing === 0 ? (p.keySpan ?? p.span) : p.span, path: displayPath(path) });
  };
  const templates = isMap(config.templates) ? config.templates : {};
  const models = isMap(config.models) ? config.models : {};

  for (const list of layerLists(config)) checkLayerList(list, registry, templates, error);
  for (const [name, template] of Object.entries(templates)) {
    if (isMap(template) && isMap(template.params)) checkParams(name, template.params, registry, locate, out, error);
  }
  checkTemplateCycles(templates, error);
  checkEnsemble(config, models, error);
  const data = isMap(config.data) ? config.data : undefined;
  const split = data && isMap(data.split) ? data.split : undefined;
  if (data && isMap(data.merge_classes)) checkMergeClasses(data, error);
  if (split && typeof split.test_fraction === 'number' && typeof split.test === 'string') {
    error(
      {
        code: 'schema',
        message: `\`test_fraction\` carves the test rows out of \`${String(split.train)}\`, but \`test\` also names the split \`${split.test}\``,
        hint: 'set `test: null` to use test_fraction, or remove test_fraction to use the named split',
      },
      ['data', 'split', 'test_fraction'],
      true,
    );
  }
  return out;
}

type Report = (d: Omit<Diagnostic, 'severity' | 'span' | 'path'>, path: DocumentPath, onKey?: boolean) => void;

function checkLayerList(list: LayerList, registry: FerRegistry, templates: Plain, error: Report): void {
  const defined = new Map<string, number>();
  const later = new Map<string, number>();
  list.entries.forEach((entry, i) => {
    if (isMap(entry) && typeof entry.name === 'string' && !isExpression(entry.name)) later.set(entry.name, i);
  });

  list.entries.forEach((entry, index) => {
    const at = [...list.path, index];
    if (!isMap(entry)) return;
    const keys = Object.keys(entry);
    const kinds = keys.filter((k) => k === 'use' || registry.layers.has(k));
    const knownKeys = keys.every((k) => registry.layers.has(k) || ['use', 'with', 'name', 'input', 'inputs', 'if', 'repeat', 'trainable', 'doc'].includes(k));
    if (kinds.length === 0 && knownKeys) {
      error(
        {
          code: 'layer-entry',
          message: 'this entry has no layer type and no `use`',
          expected: 'one layer type like `conv2d: {...}`, or `use: <template>`',
          found: `only ${listChoices(keys)}`,
        },
        at,
      );
    } else if (kinds.length > 1) {
      error(
        {
          code: 'layer-entry',
          message: `one entry holds ${kinds.length} layers (${kinds.map((k) => `\`${k}\``).join(', ')})`,
          expected: 'one layer type (or `use`) per list item',
          hint: 'start each layer with its own `- ` so it becomes a separate item of the list',
        },
        [...at, kinds[1]!],
        true,
      );
    }
    const kind = kinds[0];
    if ('with' in entry && !('use' in entry)) {
      error({ code: 'layer-entry', message: '`with:` gives template arguments, but this entry has no `use:`' }, [...at, 'with'], true);
    }
    if ('input' in entry && 'inputs' in entry) {
      error({ code: 'layer-entry', message: 'an entry takes `input` (one name) or `inputs` (a list), not both' }, [...at, 'inputs'], true);
    }
    const definition = kind !== undefined && kind !== 'use' ? registry.layers.get(kind) : undefined;
    if (definition !== undefined) {
      const multiple = definition.inputs === 'multiple';
      if (multiple && !('inputs' in entry)) {
        error(
          {
            code: 'layer-entry',
            message: `\`${kind}\` merges several tensors: name them with \`inputs: [a, b]\``,
            hint: 'give the branches `name:`s and list them here; `input` stands for the input of the template or model',
          },
          [...at, kind!],
          true,
        );
      } else if (!multiple && 'inputs' in entry) {
        error(
          { code: 'layer-entry', message: `\`${kind}\` takes one input: use \`input: <name>\`, not \`inputs\`` },
          [...at, 'inputs'],
          true,
        );
      }
    }
    if (kind === 'use' && typeof entry.use === 'string' && !isExpression(entry.use) && !(entry.use in templates)) {
      const hint = didYouMean(entry.use, Object.keys(templates));
      error(
        {
          code: 'unknown-template',
          message: `unknown template \`${entry.use}\``,
          expected: Object.keys(templates).length > 0 ? `one of ${listChoices(Object.keys(templates))}` : 'a template defined under `templates:` (none is defined)',
          ...(hint ? { hint } : { hint: 'define it under `templates:`, or `extends:` a file that does (e.g. fer:templates/resnet.yaml)' }),
        },
        [...at, 'use'],
      );
    }

    // References: names defined by entries above, or `input`.
    const references: { name: string; path: DocumentPath }[] = [];
    if (typeof entry.input === 'string') references.push({ name: entry.input, path: [...at, 'input'] });
    if (Array.isArray(entry.inputs)) {
      entry.inputs.forEach((n, j) => {
        if (typeof n === 'string') references.push({ name: n, path: [...at, 'inputs', j] });
      });
    }
    for (const ref of references) {
      if (ref.name === 'input' || defined.has(ref.name) || isExpression(ref.name)) continue;
      const after = later.get(ref.name);
      if (after !== undefined && after >= index) {
        error(
          {
            code: 'reference',
            message: `\`${ref.name}\` is defined below this entry (item ${after}), so its output does not exist yet`,
            hint: 'an entry can take the outputs of entries above it; move this entry down or the named one up',
          },
          ref.path,
        );
        continue;
      }
      const candidates = ['input', ...defined.keys()];
      const hint = didYouMean(ref.name, candidates);
      error(
        {
          code: 'reference',
          message: `no entry above is named \`${ref.name}\``,
          expected: `one of ${listChoices(candidates)}`,
          ...(hint ? { hint } : { hint: 'give the entry you mean a `name:`' }),
        },
        ref.path,
      );
    }

    if (typeof entry.name === 'string' && !isExpression(entry.name)) {
      if (entry.name === 'input') {
        error({ code: 'duplicate-name', message: '`input` is reserved: it stands for the input of the model or template' }, [...at, 'name']);
      } else if (defined.has(entry.name)) {
        error(
          {
            code: 'duplicate-name',
            message: `two entries are named \`${entry.name}\` (items ${defined.get(entry.name)} and ${index})`,
            hint: 'names refer to one output each; rename one of them',
          },
          [...at, 'name'],
        );
      } else defined.set(entry.name, index);
    }
  });
}

function checkParams(template: string, params: Plain, registry: FerRegistry, locate: Locator, out: Diagnostic[], error: Report): void {
  for (const [name, declaration] of Object.entries(params)) {
    const path: DocumentPath = ['templates', template, 'params', name];
    if (RESERVED_PARAM_NAMES.has(name)) {
      error(
        {
          code: 'template-param',
          message: `\`${name}\` cannot name a parameter: expressions already use it`,
          expected: `a name other than ${listChoices([...RESERVED_PARAM_NAMES])}`,
        },
        path,
        true,
      );
      continue;
    }
    if (typeof declaration !== 'string' && !isMap(declaration)) continue;
    if (isMap(declaration) && typeof declaration.type !== 'string') continue;
    const param = normalizeParam(name, declaration as ParamDeclarationConfig);
    if (param.hasDefault && !isExpression(param.default)) {
      const validate = schemaValidator(registry, param.schema);
      if (!validate(structuredClone(param.default))) {
        out.push(
          ...schemaErrorsToDiagnostics(validate.errors ?? [], (p) => locate([...path, 'default', ...p]), { registry }).map((d) => ({
            ...d,
            code: 'template-param' as const,
            message: `the default of parameter \`${name}\` is not ${param.describe}`,
            path: displayPath([...path, 'default']),
          })),
        );
      }
    }
  }
}

function checkTemplateCycles(templates: Plain, error: Report): void {
  const uses = new Map<string, { target: string; path: DocumentPath }[]>();
  for (const [name, template] of Object.entries(templates)) {
    const list: { target: string; path: DocumentPath }[] = [];
    if (isMap(template) && Array.isArray(template.layers)) {
      template.layers.forEach((entry, i) => {
        if (isMap(entry) && typeof entry.use === 'string' && entry.use in templates) {
          list.push({ target: entry.use, path: ['templates', name, 'layers', i, 'use'] });
        }
      });
    }
    uses.set(name, list);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (name: string, chain: string[]): void => {
    state.set(name, 'visiting');
    for (const use of uses.get(name) ?? []) {
      if (state.get(use.target) === 'visiting') {
        const cycle = [...chain.slice(chain.indexOf(use.target)), name, use.target];
        const key = [...cycle].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          error(
            {
              code: 'template-cycle',
              message: `template \`${name}\` uses itself through ${cycle.map((c) => `\`${c}\``).join(' -> ')}`,
              hint: 'a template cannot contain itself; use `repeat:` to stack blocks',
            },
            use.path,
          );
        }
      } else if (state.get(use.target) === undefined) visit(use.target, [...chain, name]);
    }
    state.set(name, 'done');
  };
  for (const name of uses.keys()) if (state.get(name) === undefined) visit(name, []);
}

function checkEnsemble(config: Plain, models: Plain, error: Report): void {
  const ensemble = config.ensemble;
  if (!isMap(ensemble) || !Array.isArray(ensemble.members)) return;
  const prefixes = new Map<string, number>();
  ensemble.members.forEach((member, i) => {
    if (!isMap(member)) return;
    const path: DocumentPath = ['ensemble', 'members', i];
    if (typeof member.model === 'string' && !(member.model in models)) {
      const names = Object.keys(models);
      const hint = didYouMean(member.model, names);
      error(
        {
          code: 'unknown-model',
          message: `ensemble member uses unknown model \`${member.model}\``,
          expected: names.length > 0 ? `one of ${listChoices(names)}` : 'a model defined under `models:` (none is defined)',
          ...(hint ? { hint } : {}),
        },
        [...path, 'model'],
      );
    }
    const prefix = typeof member.name === 'string' ? member.name : typeof member.model === 'string' ? member.model : undefined;
    if (prefix === undefined) return;
    const first = prefixes.get(prefix);
    if (first !== undefined) {
      error(
        {
          code: 'duplicate-name',
          message: `ensemble members ${first} and ${i} would both be named \`${prefix}-1\`, \`${prefix}-2\`...`,
          hint: 'give one of them a `name:` (or merge them into one member with a larger `count`)',
        },
        path,
      );
    } else prefixes.set(prefix, i);
  });
  const weights = ensemble.members.filter(isMap).map((m) => m.weight);
  if (ensemble.combine !== 'weighted_mean' && weights.some((w) => typeof w === 'number' && w !== 1)) {
    const i = ensemble.members.findIndex((m) => isMap(m) && typeof m.weight === 'number' && m.weight !== 1);
    error(
      {
        code: 'schema',
        message: `member weights only count with \`combine: weighted_mean\`, but combine is \`${String(ensemble.combine)}\``,
        hint: 'set `ensemble.combine: weighted_mean`, or remove the weights',
      },
      ['ensemble', 'members', i, 'weight'],
    );
  }
}


/** merge_classes takes every class of `classes` exactly once, by its name. */
function checkMergeClasses(data: Plain, error: (d: Omit<Diagnostic, 'severity' | 'span' | 'path'>, path: DocumentPath, onKey?: boolean) => void): void {
  const source = Array.isArray(data.classes) ? data.classes.filter((c): c is string => typeof c === 'string') : defaultImageAndClasses().classes;
  const seen = new Map<string, string>();
  for (const [target, members] of Object.entries(data.merge_classes as Plain)) {
    if (!Array.isArray(members)) continue;
    members.forEach((member, i) => {
      if (typeof member !== 'string') return;
      if (!source.includes(member)) {
        const hint = didYouMean(member, source);
        error({ code: 'reference', message: `\`${member}\` is not one of data.classes`, expected: `one of ${listChoices(source)}`, ...(hint ? { hint } : {}) }, ['data', 'merge_classes', target, i]);
      } else if (seen.has(member)) {
        error({ code: 'duplicate-name', message: `\`${member}\` is merged into both \`${seen.get(member)}\` and \`${target}\``, hint: 'each class goes to one merged class' }, ['data', 'merge_classes', target, i]);
      } else seen.set(member, target);
    });
  }
  const missing = source.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    error(
      { code: 'missing-key', message: `merge_classes leaves out ${listChoices(missing)}`, hint: 'put every class of data.classes in one merged class (rows of a left-out class would have no label)' },
      ['data', 'merge_classes'],
      true,
    );
  }
}
