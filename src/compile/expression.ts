import jsepModule from 'jsep';
import { closestMatches, listChoices } from '../core/suggest.js';
import { FerError } from '../core/errors.js';

// jsep is CommonJS-shaped in its typings; the callable parser is the default export either way.
const jsep = ((jsepModule as unknown as { default?: typeof jsepModule }).default ?? jsepModule) as typeof jsepModule;

/**
 * Template expressions. A string value that is exactly `$name` or `$(expression)` becomes the
 * expression's value, typed (a number stays a number); inside a longer string, `$name` and
 * `$(expression)` are replaced by their text (`block_$(index + 1)`), and `$$` is a literal `$`.
 * The grammar is JavaScript's (parsed by jsep) restricted to what configs need: literals, names,
 * arithmetic, comparisons, `&&` `||` `!`, `a ? b : c`, lists, `x[i]`, `x.length`, and a few functions.
 * Evaluation is strict: no truthiness, no string-number mixing, so mistakes surface as errors.
 */
export type Value = number | string | boolean | null | Value[] | { [key: string]: Value };

export class ExpressionError extends FerError {
  /** Where in the evaluated value the failing expression sits (keys and indices), once known. */
  path?: (string | number)[];

  constructor(
    message: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'ExpressionError';
  }
}

export interface Scope {
  /** The value of a name, or undefined when the name is not defined here. */
  lookup(name: string): Value | undefined;
  names(): string[];
}

export function scopeOf(values: ReadonlyMap<string, Value>, parent?: Scope): Scope {
  return {
    lookup: (name) => (values.has(name) ? values.get(name) : parent?.lookup(name)),
    names: () => [...new Set([...values.keys(), ...(parent?.names() ?? [])])],
  };
}

const WHOLE = /^\$([A-Za-z_][A-Za-z0-9_]*)$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

/** True when the string contains an expression (not only `$$` escapes). */
export function hasExpression(value: string): boolean {
  return /\$(?!\$)[A-Za-z_(]/.test(value.replace(/\$\$/g, ''));
}

/** The index just past the `)` matching the `(` at `open`, skipping quoted strings. */
function matchingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i + 1;
  }
  throw new ExpressionError(`unclosed \`$(\` in ${JSON.stringify(text)}`, 'close the expression with `)`');
}

/** Evaluates a string that may hold expressions (see the module comment). */
export function evaluateString(text: string, scope: Scope): Value {
  const whole = WHOLE.exec(text);
  if (whole) return lookupName(whole[1]!, scope);
  if (text.startsWith('$(') && matchingParen(text, 1) === text.length) return evaluateExpression(text.slice(2, -1), scope);
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const end = matchingParen(text, i + 1);
      out += toText(evaluateExpression(text.slice(i + 2, end - 1), scope));
      i = end;
    } else {
      const ident = IDENT.exec(text.slice(i + 1));
      if (ident === null) {
        out += '$';
        i++;
      } else {
        out += toText(lookupName(ident[0], scope));
        i += 1 + ident[0].length;
      }
    }
  }
  return out;
}

function toText(value: Value): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Evaluates every string in a value (lists and maps recursively); an error carries the path of its string. */
export function evaluateDeep(value: unknown, scope: Scope, path: (string | number)[] = []): Value {
  if (typeof value === 'string') {
    if (!hasExpression(value) && !value.includes('$$')) return value;
    try {
      return evaluateString(value, scope);
    } catch (error) {
      if (error instanceof ExpressionError) error.path ??= path;
      throw error;
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => evaluateDeep(v, scope, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Value } = {};
    for (const [k, v] of Object.entries(value)) out[k] = evaluateDeep(v, scope, [...path, k]);
    return out;
  }
  return (value ?? null) as Value;
}

function lookupName(name: string, scope: Scope): Value {
  const value = scope.lookup(name);
  if (value !== undefined) return value;
  const names = scope.names();
  const close = closestMatches(name, names);
  throw new ExpressionError(
    `unknown name \`${name}\` in an expression`,
    close.length > 0 ? `did you mean ${close.map((c) => `\`${c}\``).join(' or ')}?` : `names available here: ${listChoices(names)}`,
  );
}

type Node = jsepModule.Expression;

export function evaluateExpression(source: string, scope: Scope): Value {
  let ast: Node;
  try {
    ast = jsep(source);
  } catch (cause) {
    const e = cause as Error & { index?: number };
    throw new ExpressionError(`cannot read the expression \`${source}\`: ${e.message.replace(/ at character \d+$/, '')}${e.index !== undefined ? ` (at character ${e.index + 1})` : ''}`);
  }
  return evaluateNode(ast, scope, source);
}

function kind(value: Value): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`;
}

function number(value: Value, what: string): number {
  if (typeof value !== 'number') throw new ExpressionError(`${what} needs a number, got ${kind(value)} (${JSON.stringify(value)})`);
  return value;
}

function boolean(value: Value, what: string): boolean {
  if (typeof value !== 'boolean') {
    throw new ExpressionError(`${what} needs true or false, got ${kind(value)} (${JSON.stringify(value)})`, 'compare explicitly, e.g. `x != 0`');
  }
  return value;
}

function equal(a: Value, b: Value): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const FUNCTIONS: Record<string, (args: Value[]) => Value> = {
  len: ([x]) => {
    if (typeof x === 'string' || Array.isArray(x)) return x.length;
    throw new ExpressionError(`len() needs a list or a string, got ${kind(x ?? null)}`);
  },
  min: (args) => Math.min(...(args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map((v) => number(v, 'min()'))),
  max: (args) => Math.max(...(args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map((v) => number(v, 'max()'))),
  floor: ([x]) => Math.floor(number(x ?? null, 'floor()')),
  ceil: ([x]) => Math.ceil(number(x ?? null, 'ceil()')),
  round: ([x]) => Math.round(number(x ?? null, 'round()')),
  abs: ([x]) => Math.abs(number(x ?? null, 'abs()')),
  range: (args) => {
    const [a, b] = args.map((v) => number(v, 'range()'));
    const [start, end] = b === undefined ? [0, a ?? 0] : [a!, b];
    return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
  },
};

function evaluateNode(node: Node, scope: Scope, source: string): Value {
  switch (node.type) {
    case 'Literal':
      return (node as jsepModule.Literal).value as Value;
    case 'Identifier': {
      const name = (node as jsepModule.Identifier).name;
      if (name === 'true') return true;
      if (name === 'false') return false;
      if (name === 'null') return null;
      return lookupName(name, scope);
    }
    case 'ArrayExpression':
      return (node as jsepModule.ArrayExpression).elements.map((e) => (e === null ? null : evaluateNode(e, scope, source)));
    case 'UnaryExpression': {
      const u = node as jsepModule.UnaryExpression;
      const arg = evaluateNode(u.argument, scope, source);
      if (u.operator === '-') return -number(arg, 'unary -');
      if (u.operator === '+') return number(arg, 'unary +');
      if (u.operator === '!') return !boolean(arg, '`!`');
      throw new ExpressionError(`the operator \`${u.operator}\` is not supported in expressions`);
    }
    case 'BinaryExpression': {
      const b = node as jsepModule.BinaryExpression;
      if (b.operator === '&&' || b.operator === '||') {
        const left = boolean(evaluateNode(b.left, scope, source), `\`${b.operator}\``);
        if (b.operator === '&&' ? !left : left) return left;
        return boolean(evaluateNode(b.right, scope, source), `\`${b.operator}\``);
      }
      const left = evaluateNode(b.left, scope, source);
      const right = evaluateNode(b.right, scope, source);
      switch (b.operator) {
        case '==':
        case '===':
          return equal(left, right);
        case '!=':
        case '!==':
          return !equal(left, right);
        case '+':
          if (typeof left === 'string' && typeof right === 'string') return left + right;
          if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
          return number(left, '`+`') + number(right, '`+`');
        case '-':
          return number(left, '`-`') - number(right, '`-`');
        case '*':
          return number(left, '`*`') * number(right, '`*`');
        case '/': {
          const divisor = number(right, '`/`');
          if (divisor === 0) throw new ExpressionError(`division by zero in \`${source}\``);
          return number(left, '`/`') / divisor;
        }
        case '%':
          return number(left, '`%`') % number(right, '`%`');
        case '**':
          return number(left, '`**`') ** number(right, '`**`');
        case '<':
        case '<=':
        case '>':
        case '>=': {
          if (typeof left === 'string' && typeof right === 'string') {
            return b.operator === '<' ? left < right : b.operator === '<=' ? left <= right : b.operator === '>' ? left > right : left >= right;
          }
          const l = number(left, `\`${b.operator}\``);
          const r = number(right, `\`${b.operator}\``);
          return b.operator === '<' ? l < r : b.operator === '<=' ? l <= r : b.operator === '>' ? l > r : l >= r;
        }
        default:
          throw new ExpressionError(`the operator \`${b.operator}\` is not supported in expressions`);
      }
    }
    case 'ConditionalExpression': {
      const c = node as jsepModule.ConditionalExpression;
      return boolean(evaluateNode(c.test, scope, source), 'the condition of `? :`')
        ? evaluateNode(c.consequent, scope, source)
        : evaluateNode(c.alternate, scope, source);
    }
    case 'MemberExpression': {
      const m = node as jsepModule.MemberExpression;
      const object = evaluateNode(m.object, scope, source);
      if (!m.computed) {
        const property = (m.property as jsepModule.Identifier).name;
        if (property === 'length' && (Array.isArray(object) || typeof object === 'string')) return object.length;
        if (object !== null && typeof object === 'object' && !Array.isArray(object) && property in object) return object[property]!;
        throw new ExpressionError(`${kind(object)} has no \`.${property}\``);
      }
      const key = evaluateNode(m.property, scope, source);
      if (Array.isArray(object)) {
        const i = number(key, 'an index');
        const at = i < 0 ? object.length + i : i;
        if (!Number.isInteger(i) || at < 0 || at >= object.length) {
          throw new ExpressionError(`index ${i} is outside a list of ${object.length} item${object.length === 1 ? '' : 's'}`);
        }
        return object[at]!;
      }
      if (object !== null && typeof object === 'object' && typeof key === 'string' && key in object) return object[key]!;
      throw new ExpressionError(`cannot index ${kind(object)} with ${JSON.stringify(key)}`);
    }
    case 'CallExpression': {
      const call = node as jsepModule.CallExpression;
      const name = call.callee.type === 'Identifier' ? (call.callee as jsepModule.Identifier).name : undefined;
      const fn = name === undefined ? undefined : FUNCTIONS[name];
      if (fn === undefined) {
        const close = name ? closestMatches(name, Object.keys(FUNCTIONS)) : [];
        throw new ExpressionError(
          `unknown function${name ? ` \`${name}\`` : ''} in an expression`,
          close.length > 0 ? `did you mean \`${close[0]}\`?` : `functions: ${Object.keys(FUNCTIONS).join(', ')}`,
        );
      }
      return fn(call.arguments.map((a) => evaluateNode(a, scope, source)));
    }
    case 'Compound':
      throw new ExpressionError(`\`${source}\` holds several expressions; write one`);
    default:
      throw new ExpressionError(`\`${source}\`: ${node.type} is not supported in expressions`);
  }
}
