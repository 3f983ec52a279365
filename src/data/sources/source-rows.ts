/** What a source yields: rows in source order, before the digest and the cache. */
export interface SourceRows {
  pixels: Uint8Array;
  labels: Uint8Array;
  splits: Uint8Array;
  splitNames: string[];
}

/** Drops split names no row uses (PrivateTest is absent from the development copy) and renumbers. */
export function compactSplits(rows: SourceRows): SourceRows {
  const used = new Set(rows.splits);
  if (used.size === rows.splitNames.length) return rows;
  const mapping = new Map<number, number>();
  const names: string[] = [];
  rows.splitNames.forEach((name, i) => {
    if (used.has(i)) {
      mapping.set(i, names.length);
      names.push(name);
    }
  });
  const splits = rows.splits.map((s) => mapping.get(s)!);
  return { ...rows, splits, splitNames: names };
}
