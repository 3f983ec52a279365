import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFer } from '../helpers/cli.js';

/** A server that accepts connections and never answers: the model URL that blocked validate for 300 s. */
const silent = net.createServer(() => {});
const held: net.Socket[] = [];
silent.on('connection', (socket) => held.push(socket));
await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
const port = (silent.address() as net.AddressInfo).port;
afterAll(() => {
  for (const socket of held) socket.destroy();
  silent.close();
});

describe('a model init URL that never answers', () => {
  it('fails validate after the timeout, naming the URL, at its line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-silent-url-'));
    const file = path.join(dir, 'silent.yaml');
    const url = `http://127.0.0.1:${port}/model.json`;
    writeFileSync(
      file,
      [
        'name: silent',
        'data:',
        '  source: {synthetic: {rows_per_class: 8}}',
        'models:',
        '  tiny:',
        `    init: {model: "${url}"}`,
        '    layers:',
        '      - flatten: {}',
        '      - dense: {units: 7, activation: softmax}',
        '',
      ].join('\n'),
    );
    const started = Date.now();
    const result = await runFer(['validate', file], { env: { FER_CACHE: dir, FER_HTTP_TIMEOUT: '2' } });
    const seconds = (Date.now() - started) / 1000;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:6:`);
    expect(result.stderr).toContain(`${url} did not answer within 2 s`);
    expect(result.stderr).toContain('FER_HTTP_TIMEOUT');
    expect(seconds).toBeLessThan(30);
  }, 60_000);
});
