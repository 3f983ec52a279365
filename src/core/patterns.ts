/**
 * Whether a layer name matches one of the patterns, where `*` matches any run of characters: the
 * `frozen`, `init.exclude` and `stages[].frozen` lists.
 */
export function matchesAny(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[^]*')}$`).test(name));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
}
