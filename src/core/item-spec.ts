/**
 * How a config names an entry of the registry: a bare name (`he_normal`), or a map with one name
 * and its arguments (`{variance_scaling: {scale: 2}}`). Loading a config normalises every one to the
 * map form with all its arguments, defaults included (config/normalize.ts): an `Item`. `entryOf`
 * is the one place either form is taken apart.
 */
export type ItemSpec = string | Record<string, Record<string, unknown> | null>;

/** An item as the loaded config holds it: exactly one name, mapped to every argument. */
export type Item<A extends object = Record<string, unknown>> = Readonly<Record<string, A>>;

/** An item taken apart. */
export interface Entry<A = Record<string, unknown>> {
  readonly name: string;
  readonly args: A;
}

/** The name and arguments of an item in either form; a bare name has no arguments (yet). */
export function entryOf(spec: ItemSpec | Item): Entry {
  if (typeof spec === 'string') return { name: spec, args: {} };
  const names = Object.keys(spec);
  if (names.length !== 1) throw new TypeError(`an item names exactly one entry, found ${names.length === 0 ? 'none' : names.join(', ')}`);
  const name = names[0]!;
  return { name, args: (spec[name] ?? {}) as Record<string, unknown> };
}

/** The map form: `{name: args}`. */
export function itemOf<A extends object>(name: string, args: A): Item<A> {
  return { [name]: args };
}
