#!/usr/bin/env node
// The fer command. The TypeScript sources build to dist/ (npm install runs the build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('fer is not built yet: run `npm run build` in the fer folder (npm install does it too)\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main();
