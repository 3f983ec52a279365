import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFer } from '../helpers/cli.js';

/** A plugin whose import leaves a file behind: what any plugin could do with the user's rights. */
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-no-plugins-'));
const marker = path.join(dir, 'plugin-ran');
writeFileSync(
  path.join(dir, 'marker.mjs'),
  `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default { name: 'marker', version: '1.0.0', api: 1, layers: [] };\n`,
);
const config = path.join(dir, 'with-plugins.yaml');
writeFileSync(
  config,
  [
    `extends: ${path.resolve('configs/plugins/se-demo.yaml')}`,
    'name: with-plugins',
    `plugins: [${path.resolve('plugins/se')}, ./marker.mjs]`,
    '',
  ].join('\n'),
);

describe('fer validate --no-plugins', () => {
  it('validates without importing plugin code, reporting plugin names as unchecked, not as errors', async () => {
    const result = await runFer(['validate', config, '--no-plugins']);
    expect(existsSync(marker)).toBe(false);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('unknown template `se/conv_se_block`: unchecked, plugins not loaded (--no-plugins)');
    expect(result.stderr).toContain('unknown layer type `se/squeeze_excite`: unchecked, plugins not loaded (--no-plugins)');
    expect(result.stdout).toContain(`${config}: ok (0 models, 2 members; 1 model unchecked: tiny)`);
  });

  it('still catches a built-in mistake with --no-plugins', async () => {
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, `extends: ./with-plugins.yaml\ntraining: {epochs: -1}\n`);
    const result = await runFer(['validate', broken, '--no-plugins']);
    expect(existsSync(marker)).toBe(false);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('training.epochs');
  });

  it('runs plugin code in a plain validate (as the docs warn)', async () => {
    const result = await runFer(['validate', config]);
    expect(result.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});
