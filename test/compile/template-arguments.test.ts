import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModels } from '../../src/compile/model-builder.js';
import { loadConfig } from '../../src/config/load.js';
import { loadTf } from '../../src/backend/load-tf.js';
import { isConfigError, type Diagnostic } from '../../src/core/diagnostic.js';
import type { Tf } from '../../src/core/tf.js';
import { repoRoot } from '../helpers/cli.js';

/**
 * An argument whose value makes something inside a template wrong is the user's mistake: the error
 * is at the argument in the user's file, and a note gives the template's file:line where it is used.
 */
let tf: Tf;
beforeAll(async () => {
  tf = await loadTf();
});

const cnnTemplates = path.join(repoRoot, 'configs', 'templates', 'cnn.yaml');

function configFile(lines: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fer-template-args-'));
  const file = path.join(dir, 'exp.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The errors compiling model `m` of the config reports (there must be some). */
function compileErrors(file: string): Diagnostic[] {
  const loaded = loadConfig(file);
  try {
    compileModels(loaded, ['m'], { tf, initialize: false });
  } catch (error) {
    if (isConfigError(error)) return [...error.diagnostics];
    throw error;
  }
  throw new Error('the model compiled');
}

/** `file:line:column` of where a span starts, as the CLI prints it. */
function at(span: Diagnostic['span']): string {
  return `${span!.file}:${span!.start.line}:${span!.start.column}`;
}

/** The line (1-based) of the first line of `file` containing `text`. */
function lineOf(file: string, text: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
}

/** The only error of `errors`, with its position and the positions of its notes. */
function single(errors: Diagnostic[]): { code: string; at: string; path?: string; notes: string[]; message: string } {
  expect(errors, JSON.stringify(errors, null, 1)).toHaveLength(1);
  const d = errors[0]!;
  return { code: d.code, at: at(d.span), ...(d.path ? { path: d.path } : {}), message: d.message, notes: (d.notes ?? []).map((n) => `${n.message} @ ${at(n.span)}`) };
}

const DATA = 'data: {source: {synthetic: {}}, classes: [a, b, c], image: {height: 12, width: 12}}';

describe('an error caused by a template argument', () => {
  it('of a shipped template (an unknown activation) is at the argument, the template line a note', () => {
    const file = configFile([
      `extends: ${cnnTemplates}`,
      DATA,
      'models:',
      '  m:',
      '    layers:',
      '      - use: conv_unit',
      '        with: {filters: 8, activation: relux}',
      '      - use: classifier_head',
    ]);
    const d = single(compileErrors(file));
    expect(d.code).toBe('enum');
    expect(d.at).toBe(`${file}:7:40`);
    expect(d.path).toBe('models.m.layers[0].with.activation');
    const templateLine = lineOf(cnnTemplates, "activation: '$(batch_norm");
    expect(d.notes).toEqual([`argument \`activation\` of template \`conv_unit\` (instance \`conv_unit_1\`) is used here @ ${cnnTemplates}:${templateLine}:23`]);
  });

  it('making a kernel too big for the image is at the kernel size argument', () => {
    const file = configFile([
      `extends: ${cnnTemplates}`,
      DATA,
      'models:',
      '  m:',
      '    layers:',
      '      - use: conv_unit',
      '        with: {filters: 8, kernel_size: 20}',
      '      - use: classifier_head',
    ]);
    const d = single(compileErrors(file));
    expect(d.code).toBe('shape');
    expect(d.at).toBe(`${file}:7:41`);
    expect(d.notes).toEqual([
      `argument \`kernel_size\` of template \`conv_unit\` (instance \`conv_unit_1\`) is used here @ ${cnnTemplates}:${lineOf(cnnTemplates, 'kernel_size: $kernel_size')}:24`,
    ]);
  });

  it('through an expression that gives an invalid value (a fraction of filters) is at the argument', () => {
    const file = configFile([
      DATA,
      'templates:',
      '  block:',
      '    params: {width: number}',
      '    layers:',
      '      - dense: {units: $(width / 3)}',
      'models:',
      '  m:',
      '    layers:',
      '      - flatten',
      '      - use: block',
      '        with: {width: 8}',
      '      - dense: {units: $classes, activation: softmax}',
    ]);
    const d = single(compileErrors(file));
    expect(d.code).toBe('type');
    expect(d.at).toBe(`${file}:12:23`);
    expect(d.notes).toEqual([`argument \`width\` of template \`block\` (instance \`block_1\`) is used here @ ${file}:6:24`]);
  });

  it('failing an expression (an index past the end of a list argument) is at the list', () => {
    const file = configFile([
      `extends: ${cnnTemplates}`,
      DATA,
      'models:',
      '  m:',
      '    layers:',
      '      - use: conv_stack',
      '        with:',
      '          filters: [4, 4]',
      '          kernel_sizes: [3]',
      '      - use: classifier_head',
    ]);
    const d = single(compileErrors(file));
    expect(d.code).toBe('expression');
    expect(d.at).toBe(`${file}:9:25`);
    expect(d.notes).toEqual([
      `argument \`kernel_sizes\` of template \`conv_stack\` (instance \`conv_stack_1\`) is used here @ ${cnnTemplates}:${lineOf(cnnTemplates, 'kernel_size: $(kernel_sizes[index])')}:24`,
    ]);
  });

  it('naming an entry that is not there (an input) is at the argument', () => {
    const file = configFile([
      DATA,
      'templates:',
      '  side:',
      '    params: {from: string}',
      '    layers:',
      '      - dense: {units: 4}',
      '        name: hidden',
      '      - dense: {units: 4}',
      '        input: $from',
      'models:',
      '  m:',
      '    layers:',
      '      - flatten',
      '      - use: side',
      '        with: {from: hiden}',
      '      - dense: {units: $classes, activation: softmax}',
    ]);
    const d = single(compileErrors(file));
    expect(d.code).toBe('reference');
    expect(d.message).toBe('no entry above is named `hiden`');
    expect(d.at).toBe(`${file}:15:22`);
    expect(errorsHint(file)).toContain('`hidden`');
    expect(d.notes).toEqual([`argument \`from\` of template \`side\` (instance \`side_1\`) is used here @ ${file}:9:16`]);
  });

  it('naming a layer with a character a name cannot have is at the argument', () => {
    const file = configFile([
      DATA,
      'templates:',
      '  block:',
      '    params: {label: string}',
      '    layers:',
      '      - dense: {units: 4}',
      '        name: $label',
      'models:',
      '  m:',
      '    layers:',
      '      - flatten',
      '      - use: block',
      '        with: {label: two words}',
      '      - dense: {units: $classes, activation: softmax}',
    ]);
    const d = single(compileErrors(file));
    expect(d.code).toBe('pattern');
    expect(d.at).toBe(`${file}:13:23`);
    expect(d.notes).toEqual([`argument \`label\` of template \`block\` (instance \`block_1\`) is used here @ ${file}:7:15`]);
  });

  it('passed on through a template to another is at the outer argument, each hand-on a note', () => {
    const file = configFile([
      DATA,
      'templates:',
      '  inner:',
      '    params: {width: number}',
      '    layers:',
      '      - dense: {units: $(width / 3)}',
      '  outer:',
      '    params: {w: number}',
      '    layers:',
      '      - use: inner',
      '        with: {width: $w}',
      'models:',
      '  m:',
      '    layers:',
      '      - flatten',
      '      - use: outer',
      '        with: {w: 8}',
      '      - dense: {units: $classes, activation: softmax}',
    ]);
    const d = single(compileErrors(file));
    expect(d.at).toBe(`${file}:17:19`);
    expect(d.notes).toEqual([
      `argument \`width\` of template \`inner\` (instance \`outer_1/inner_1\`) is used here @ ${file}:6:24`,
      `argument \`w\` of template \`outer\` is passed on here as \`width\` of template \`inner\` @ ${file}:11:23`,
    ]);
  });

  it('passed on whole and wrong inside (one item of a list) is at that item', () => {
    const file = configFile([
      DATA,
      'templates:',
      '  inner:',
      '    params: {sizes: {type: list, items: integer}}',
      '    layers:',
      '      - dense: {units: "$(sizes[0])"}',
      '  outer:',
      '    params: {sizes: list}',
      '    layers:',
      '      - use: inner',
      '        with: {sizes: $sizes}',
      'models:',
      '  m:',
      '    layers:',
      '      - flatten',
      '      - use: outer',
      '        with: {sizes: [4, 2.5]}',
      '      - dense: {units: $classes, activation: softmax}',
    ]);
    const d = single(compileErrors(file));
    expect(d.code).toBe('template-arg');
    expect(d.at).toBe(`${file}:17:27`);
    expect(d.path).toBe('models.m.layers[1].with.sizes[1]');
    expect(d.notes).toEqual([`argument \`sizes\` of template \`outer\` (instance \`outer_1\`) is used here @ ${file}:11:23`]);
  });

  it('passed on by a shipped template (a negative width in conv_stack) is at the user\'s list', () => {
    const file = configFile([
      `extends: ${cnnTemplates}`,
      DATA,
      'models:',
      '  m:',
      '    layers:',
      '      - use: conv_stack',
      '        with:',
      '          filters: [8, -1]',
      '          kernel_sizes: [3, 3]',
      '      - use: classifier_head',
    ]);
    const d = single(compileErrors(file));
    expect(d.code).toBe('template-arg');
    expect(d.at).toBe(`${file}:8:20`);
    expect(d.notes).toEqual([
      `argument \`filters\` of template \`conv_stack\` (instance \`conv_stack_1\`) is used here @ ${cnnTemplates}:${lineOf(cnnTemplates, 'filters: $(filters[index])')}:20`,
    ]);
  });
});

describe('an error a template argument does not cause stays in the template', () => {
  it('when the value comes from the parameter\'s default', () => {
    const file = configFile([
      DATA,
      'templates:',
      '  block:',
      '    params: {width: {type: number, default: 8}}',
      '    layers:',
      '      - dense: {units: $(width / 3)}',
      'models:',
      '  m:',
      '    layers:',
      '      - flatten',
      '      - use: block',
      '      - dense: {units: $classes, activation: softmax}',
    ]);
    const [d] = compileErrors(file);
    expect(at(d!.span)).toBe(`${file}:6:24`);
    expect(d!.notes?.map((n) => `${n.message} @ ${at(n.span)}`)).toEqual([`in template \`block\` (instance \`block_1\`) used here @ ${file}:11:9`]);
  });

  it('when the template\'s own expression is wrong (a misspelt name), even next to an argument', () => {
    const file = configFile([
      DATA,
      'templates:',
      '  block:',
      '    params: {width: integer}',
      '    layers:',
      '      - dense: {units: $(widht + width)}',
      'models:',
      '  m:',
      '    layers:',
      '      - flatten',
      '      - use: block',
      '        with: {width: 4}',
      '      - dense: {units: $classes, activation: softmax}',
    ]);
    const [d] = compileErrors(file);
    expect(d!.code).toBe('expression');
    expect(at(d!.span)).toBe(`${file}:6:24`);
  });

  it('when the template writes the value itself', () => {
    const file = configFile([
      DATA,
      'templates:',
      '  block:',
      '    params: {width: integer}',
      '    layers:',
      '      - dense: {units: $width}',
      '      - conv2d: {filters: 4, kernel_size: 3}',
      'models:',
      '  m:',
      '    layers:',
      '      - flatten',
      '      - use: block',
      '        with: {width: 4}',
      '      - dense: {units: $classes, activation: softmax}',
    ]);
    const [d] = compileErrors(file);
    expect(d!.code).toBe('shape');
    expect(d!.span!.file).toBe(file);
    expect(d!.span!.start.line).toBe(7);
  });
});

function errorsHint(file: string): string {
  return compileErrors(file)
    .map((d) => d.hint ?? '')
    .join(' ');
}
