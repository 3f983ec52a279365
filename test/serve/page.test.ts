import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageInput } from '../../src/predict/inputs.js';
import { SavedEnsemble } from '../../src/predict/saved-ensemble.js';
import { repoRoot } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';
import { startServe, syntheticFacePng, tinyDemoRun } from './served.js';

/** Debian's Chromium (apt-get install chromium), or the browser FER_CHROMIUM names. */
function findChromium(): string | undefined {
  if (process.env.FER_CHROMIUM) return process.env.FER_CHROMIUM;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // not on PATH: try the next name
    }
  }
  return undefined;
}

const chromium = findChromium();
const required = process.env.FER_REQUIRE_BROWSER === '1';
if (!chromium && !required) console.warn('browser tests skipped: no Chromium found (apt-get install chromium, or set FER_CHROMIUM; FER_REQUIRE_BROWSER=1 makes this a failure)');
// FER_UPDATE_SCREENSHOTS=1 writes docs/screenshots/serve.png (a better-trained model, so the bars say something).
const updateScreenshots = process.env.FER_UPDATE_SCREENSHOTS === '1';

describe.runIf(chromium || required)('the fer serve page in headless Chromium', () => {
  const dir = tempDir('fer-page-');
  let runDir: string;
  let server: Awaited<ReturnType<typeof startServe>>;
  let browser: Browser;
  let ensemble: SavedEnsemble;

  beforeAll(async () => {
    if (!chromium) throw new Error('FER_REQUIRE_BROWSER=1 but no Chromium was found: apt-get install chromium, or set FER_CHROMIUM');
    runDir = await tinyDemoRun(path.join(dir, 'runs'), updateScreenshots ? 10 : 2);
    server = await startServe(runDir);
    ensemble = await SavedEnsemble.open(runDir);
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    server?.stop();
  });

  it('runs the model in the browser: a dropped image and a chosen file get the label and bars fer predict gives, with no console errors', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 820, height: 440 });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page: ${(error as Error).message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });

    const shown = async () => {
      // Browser code as strings: the test is compiled without the DOM's types.
      await page.waitForFunction("document.querySelectorAll('.row[data-probability]').length > 0");
      return page.evaluate(`({
        label: document.getElementById('label').textContent,
        bars: Object.fromEntries([...document.querySelectorAll('.row')].map((row) => [row.dataset.class, Number(row.dataset.probability)])),
      })`) as Promise<{ label: string | null; bars: Record<string, number> }>;
    };
    const expectAsFerPredicts = async (file: string, result: { label: string | null; bars: Record<string, number> }) => {
      const expected = (await ensemble.predict(readImageInput(file, ensemble.imageShape))).probabilities;
      const best = Array.from(expected).indexOf(Math.max(...expected));
      expect(result.label).toBe(ensemble.classes[best]);
      const diff = Math.max(...ensemble.classes.map((c, k) => Math.abs(result.bars[c]! - expected[k]!)));
      console.log(`${path.basename(file)}: browser vs fer predict, max abs difference ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
    };

    // Dropped: a 96x96 image, so the page's grayscale and resize are checked against fer predict's.
    const dropped = path.join(dir, 'happy-96.png');
    writeFileSync(dropped, syntheticFacePng(3, 2));
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob('${syntheticFacePng(3, 2).toString('base64')}'), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'happy-96.png', { type: 'image/png' }));
      document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    })()`);
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('happy-96.png')");
    await expectAsFerPredicts(dropped, await shown());

    // Chosen through the file input: a 48x48 image of another class.
    const chosen = path.join(dir, 'surprise-48.png');
    writeFileSync(chosen, syntheticFacePng(5, 1));
    const input = await page.$('input#file');
    await (input as unknown as { uploadFile(file: string): Promise<void> }).uploadFile(chosen);
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('surprise-48.png')");
    await expectAsFerPredicts(chosen, await shown());

    const screenshots = updateScreenshots ? path.join(repoRoot, 'docs', 'screenshots') : dir;
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, 'serve.png') as `${string}.png` });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
