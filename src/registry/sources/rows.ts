import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

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

/** A growable byte buffer: sources do not know their row count until the end. */
export class ByteBuilder {
  private buffer: Uint8Array;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buffer = new Uint8Array(initial);
  }

  /** Makes room for `extra` more bytes and returns the buffer to write into at `length`. */
  reserve(extra: number): Uint8Array {
    if (this.length + extra > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < this.length + extra) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    return this.buffer;
  }

  push(value: number): void {
    this.reserve(1)[this.length++] = value;
  }

  /** The bytes written, in a buffer of exactly that size. */
  finish(): Uint8Array {
    return this.length === this.buffer.length ? this.buffer : this.buffer.slice(0, this.length);
  }
}

/** A fingerprint of a file that changes when the file does (size or time), without reading it. */
export function fileFingerprint(file: string): { path: string; size: number; mtimeMs: number } {
  const stat = statSync(file);
  return { path: path.resolve(file), size: stat.size, mtimeMs: stat.mtimeMs };
}

/** A fingerprint of every image under a folder (names, sizes, times). */
export function folderFingerprint(folder: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const stat = statSync(full);
        hash.update(`${path.relative(folder, full)}\0${stat.size}\0${stat.mtimeMs}\n`);
      }
    }
  };
  walk(folder);
  return hash.digest('hex');
}
