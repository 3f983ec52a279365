import { parse as parseYamlValue } from 'yaml';
import type { Diagnostic, SourceSpan } from '../core/diagnostic.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';
import type { LocatedNode, LocatedScalar, ScalarValue } from './located.js';

/**
 * Environment variables in string values, shell style:
 *   `${NAME}`            the variable; an error when unset
 *   `${NAME:-default}`   the default when unset or empty
 *   `${NAME-default}`    the default when unset
 *   `${NAME:?message}`   an error with `message` when unset or empty
 *   `$${`                a literal `${`
 * A plain (unquoted) scalar that is one substitution takes the YAML type of what it becomes, so
 * `epochs: ${EPOCHS:-40}` is the number 40, and an empty one is null; quoted scalars always stay strings.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Substituted {
  text: string;
  /** True when the text starts with a value taken from the environment (so relative to the shell's folder). */
  startsWithEnvValue: boolean;
  wholeValue: boolean;
}

function narrow(span: SourceSpan, plain: boolean, index: number, length: number): SourceSpan {
  if (span.start.line !== span.end.line) return span;
  const column = span.start.column + index + (plain ? 0 : 1);
  return { file: span.file, start: { line: span.start.line, column }, end: { line: span.start.line, column: column + length } };
}

function substituteString(
  input: string,
  scalar: LocatedScalar,
  path: DocumentPath,
  env: Environment,
  diagnostics: Diagnostic[],
): Substituted | undefined {
  if (!input.includes('${')) return undefined;
  let out = '';
  let startsWithEnvValue = false;
  let substitutions = 0;
  let i = 0;
  while (i < input.length) {
    const at = input.indexOf('${', i);
    if (at < 0) {
      out += input.slice(i);
      break;
    }
    if (at > 0 && input[at - 1] === '$') {
      out += `${input.slice(i, at - 1)}\${`;
      i = at + 2;
      continue;
    }
    out += input.slice(i, at);
    const close = input.indexOf('}', at + 2);
    if (close < 0) {
      diagnostics.push({
        severity: 'error',
        code: 'env-unset',
        message: 'unterminated `${` in a value',
        span: narrow(scalar.span, scalar.plain, at, input.length - at),
        path: displayPath(path),
        hint: 'close it with `}`, or write `$${` for a literal `${`',
      });
      return undefined;
    }
    const body = input.slice(at + 2, close);
    const match = /^([^:?-]*)(?:(:-|-|:\?|\?)(.*))?$/s.exec(body);
    const name = match?.[1] ?? body;
    const operator = match?.[2];
    const argument = match?.[3] ?? '';
    const where = narrow(scalar.span, scalar.plain, at, close - at + 1);
    if (!NAME.test(name)) {
      diagnostics.push({
        severity: 'error',
        code: 'env-unset',
        message: `\`\${${body}}\` is not an environment variable reference`,
        span: where,
        path: displayPath(path),
        expected: '`${NAME}`, `${NAME:-default}` or `${NAME:?message}` with NAME made of letters, digits and `_`',
        hint: 'template parameters are written `$name` or `$(expression)`; `${...}` reads the environment',
      });
      return undefined;
    }
    const value = env[name];
    const unsetOrEmpty = value === undefined || value === '';
    let replacement: string;
    let fromEnv = false;
    if (operator === ':-' && unsetOrEmpty) replacement = argument;
    else if (operator === '-' && value === undefined) replacement = argument;
    else if ((operator === ':?' && unsetOrEmpty) || (operator === '?' && value === undefined) || value === undefined) {
      diagnostics.push({
        severity: 'error',
        code: 'env-unset',
        message:
          operator === ':?' || operator === '?'
            ? `environment variable ${name} is not set: ${argument || 'it is required here'}`
            : `environment variable ${name} is not set`,
        span: where,
        path: displayPath(path),
        hint: `set it (export ${name}=...) or give a default: \`\${${name}:-default}\``,
      });
      return undefined;
    } else {
      replacement = value;
      fromEnv = true;
    }
    if (out === '' && fromEnv) startsWithEnvValue = true;
    out += replacement;
    substitutions++;
    i = close + 1;
  }
  const wholeValue = substitutions === 1 && /^\$\{[^}]*\}$/.test(input);
  return { text: out, startsWithEnvValue, wholeValue };
}

function retype(text: string): ScalarValue {
  try {
    const value: unknown = parseYamlValue(text);
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  } catch {
    // Not a YAML scalar: it stays a string.
  }
  return text;
}

/** Returns a new tree with every `${...}` in string values replaced; problems go to `diagnostics`. */
export function substituteEnvironment(
  node: LocatedNode,
  env: Environment,
  cwd: string,
  diagnostics: Diagnostic[],
  path: DocumentPath = [],
): LocatedNode {
  switch (node.kind) {
    case 'scalar': {
      if (typeof node.value !== 'string') return node;
      const result = substituteString(node.value, node, path, env, diagnostics);
      if (result === undefined) return node;
      const value = node.plain && result.wholeValue ? retype(result.text) : result.text;
      return { ...node, value, baseDir: result.startsWithEnvValue ? cwd : node.baseDir };
    }
    case 'list':
      return { ...node, items: node.items.map((item, i) => substituteEnvironment(item, env, cwd, diagnostics, [...path, i])) };
    case 'map': {
      const entries = new Map<string, LocatedNode>();
      for (const [key, value] of node.entries) entries.set(key, substituteEnvironment(value, env, cwd, diagnostics, [...path, key]));
      return { ...node, entries };
    }
  }
}
