import { readFileSync } from 'node:fs';

/** A JSON file's content, or undefined when it is missing or not (yet, or no longer) valid JSON. */
export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
