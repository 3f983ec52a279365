import { createHash } from 'node:crypto';
import { checkFile, writeDurable } from '../core/durable-file.js';
import path from 'node:path';
import type { Dataset } from './dataset.js';
import { imageSize } from '../core/image.js';

/**
 * The parsed-data cache: one binary file per source, found by a cheap fingerprint of the source
 * (path, size and modification time, or the listing of an image folder), so a second run neither
 * parses nor hashes 84 MB again. The file holds the content digest computed at the first parse.
 * Layout: "FERDATA1", header length (uint32 LE), header JSON, labels, splits, pixels.
 */
const MAGIC = 'FERDATA1';
const FORMAT = 1;

interface Header {
  format: number;
  key: string;
  digest: string;
  classes: string[];
  image: Dataset['image'];
  splitNames: string[];
  rows: number;
  source: string;
}

export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify({ format: FORMAT, parts })).digest('hex');
}

export function cacheFile(cacheDir: string, key: string): string {
  return path.join(cacheDir, `${key.slice(0, 32)}.ferdata`);
}

/** The cached dataset, or undefined to parse the source again (missing, foreign, or damaged: then `onDamaged` hears why). */
export function readCache(file: string, key: string, onDamaged?: (message: string) => void): Dataset | undefined {
  // A flipped byte in the cache would train on other pixels under the recorded digest: its SHA-256 is checked.
  const check = checkFile(file);
  if (check.state === 'missing') return undefined;
  if (check.state === 'damaged') {
    onDamaged?.(`${file} is damaged: ${check.reason}`);
    return undefined;
  }
  const bytes = check.content;
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return undefined;
  const headerLength = bytes.readUInt32LE(8);
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as Header;
  } catch {
    return undefined;
  }
  if (header.format !== FORMAT || header.key !== key) return undefined;
  const start = 12 + headerLength;
  const pixelBytes = header.rows * imageSize(header.image);
  if (bytes.length !== start + 2 * header.rows + pixelBytes) return undefined; // a torn or foreign file: parse again
  const view = (offset: number, length: number) => new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length);
  return {
    digest: header.digest,
    classes: header.classes,
    image: header.image,
    splitNames: header.splitNames,
    source: header.source,
    labels: view(start, header.rows),
    splits: view(start + header.rows, header.rows),
    pixels: view(start + 2 * header.rows, pixelBytes),
  };
}

/** Writes the cache atomically with its SHA-256 (core/durable-file.ts), so a killed run never leaves half a file. */
export function writeCache(file: string, key: string, dataset: Dataset): void {
  const header: Header = {
    format: FORMAT,
    key,
    digest: dataset.digest,
    classes: dataset.classes,
    image: dataset.image,
    splitNames: dataset.splitNames,
    rows: dataset.labels.length,
    source: dataset.source,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(headerBytes.length, 8);
  writeDurable(file, Buffer.concat([prefix, headerBytes, dataset.labels, dataset.splits, dataset.pixels]));
}
