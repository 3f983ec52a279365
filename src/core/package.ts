import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding fer's package.json (the repo root in development, the package folder when installed). */
export const packageRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let cachedVersion: string | undefined;
export function ferVersion(): string {
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
    cachedVersion = pkg.version;
  }
  return cachedVersion;
}

/** Where `fer:` paths in `extends` point: the configs shipped with fer (`fer:templates/resnet.yaml`). */
export const builtinConfigDir: string = path.join(packageRoot, 'configs');
