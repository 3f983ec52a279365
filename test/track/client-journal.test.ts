import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalWriter, readJournal } from '../../src/track/journal.js';
import { chunkBatch, MlflowApiError, MlflowClient, MlflowUnavailableError, proxiedRoot } from '../../src/track/sinks/mlflow/client.js';
import { artifactStoreOf, ArtifactsHeldError, experimentRoot, putArtifact } from '../../src/track/sinks/mlflow/artifact-store.js';

describe('log-batch chunking', () => {
  it('keeps every request within MLflow limits and loses nothing', () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: `m${i % 7}`, value: i, timestamp: 1, step: i }));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    const tags = Array.from({ length: 120 }, (_, i) => ({ key: `t${i}`, value: 'v' }));
    const chunks = chunkBatch({ metrics, params, tags });
    for (const c of chunks) {
      expect(c.metrics.length).toBeLessThanOrEqual(1000);
      expect(c.params.length).toBeLessThanOrEqual(100);
      expect(c.tags.length).toBeLessThanOrEqual(100);
      expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(1000);
    }
    expect(chunks.flatMap((c) => c.metrics)).toEqual(metrics);
    expect(chunks.flatMap((c) => c.params)).toEqual(params);
    expect(chunks.flatMap((c) => c.tags)).toEqual(tags);
  });

  it('splits by size too (1 MB per request)', () => {
    const params = Array.from({ length: 90 }, (_, i) => ({ key: `p${i}`, value: 'x'.repeat(6000) }));
    const tags = Array.from({ length: 90 }, (_, i) => ({ key: `t${i}`, value: 'y'.repeat(20_000) }));
    for (const c of chunkBatch({ params, tags })) expect(JSON.stringify(c).length).toBeLessThan(1_000_000);
  });
});

describe('artifact proxy paths', () => {
  it('reads the run artifact URIs the server hands out', () => {
    expect(proxiedRoot('mlflow-artifacts:/3/abc/artifacts')).toBe('3/abc/artifacts');
    expect(proxiedRoot('mlflow-artifacts://host:5000/3/abc/artifacts/')).toBe('3/abc/artifacts');
    expect(() => proxiedRoot('s3://bucket/3/abc')).toThrow(MlflowApiError);
  });
});

describe('artifact stores', () => {
  it('are told by the artifact URI scheme', () => {
    expect(artifactStoreOf('mlflow-artifacts:/3/abc/artifacts').kind).toBe('proxied');
    expect(artifactStoreOf('file:///srv/mlruns/3/abc/artifacts')).toEqual({ kind: 'local', uri: 'file:///srv/mlruns/3/abc/artifacts', dir: '/srv/mlruns/3/abc/artifacts' });
    expect(artifactStoreOf('/srv/mlruns/3/abc/artifacts').kind).toBe('local');
    for (const foreign of ['s3://bucket/x/3/abc/artifacts', 'gs://b/3', 'wasbs://c@a.blob.core.windows.net/3', './mlruns/3/abc/artifacts', 'file://otherhost/srv/mlruns/3']) expect(artifactStoreOf(foreign).kind, foreign).toBe('foreign');
  });

  it("name the experiment's root, the same for every run and logged model of it", () => {
    expect(experimentRoot('s3://bucket/x/1/114a47d634ef4590bb5e29039b405ca9/artifacts')).toBe('s3://bucket/x/1');
    expect(experimentRoot('s3://bucket/x/1/models/m-114a47d634ef4590bb5e29039b405ca9/artifacts')).toBe('s3://bucket/x/1');
    expect(experimentRoot('s3://bucket/elsewhere')).toBe('s3://bucket/elsewhere');
  });

  it('a file: root is written in place; one this machine cannot write, or an s3: root, is held with its cause', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-artifact-store-'));
    const source = path.join(dir, 'source.txt');
    writeFileSync(source, 'weights');
    // Never contacted: a file: root and an s3: root need no request.
    const client = new MlflowClient({ uri: 'http://127.0.0.1:9' });
    await putArtifact(client, `file://${dir}/root/1/114a47d634ef4590bb5e29039b405ca9/artifacts`, 'model/weights.bin', source);
    expect(readFileSync(path.join(dir, 'root/1/114a47d634ef4590bb5e29039b405ca9/artifacts/model/weights.bin'), 'utf8')).toBe('weights');
    // A regular file where a folder must be: no user can write under it, root included.
    const blocked = putArtifact(client, `file://${source}/1/114a47d634ef4590bb5e29039b405ca9/artifacts`, 'a.txt', source);
    await expect(blocked).rejects.toThrow(ArtifactsHeldError);
    await expect(blocked).rejects.toThrow(`fer cannot write its local artifact root file://${source}/1 from here (ENOTDIR`);
    await expect(putArtifact(client, 's3://bucket/x/1/114a47d634ef4590bb5e29039b405ca9/artifacts', 'a.txt', source)).rejects.toThrow('MLflow server http://127.0.0.1:9 does not proxy artifacts: its artifact root s3://bucket/x/1 is not a local path fer can write');
    await client.close();
  });
});

/**
 * A real MLflow server cannot be made to answer 503 or 429 on demand, so these error paths use a
 * recorded exchange: a local HTTP listener replays the status lines and JSON bodies MLflow (and
 * proxies in front of it) send. Everything else is tested against the real server (mlflow-server.test.ts).
 */
describe('retries (recorded exchanges for errors the real server cannot produce on demand)', () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  async function replay(responses: { status: number; body: string }[]): Promise<{ uri: string; requests: () => number }> {
    let count = 0;
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const r = responses[Math.min(count++, responses.length - 1)]!;
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { uri: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests: () => count };
  }

  const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

  it('retries 503 and 429, then succeeds', async () => {
    const { uri, requests } = await replay([
      { status: 503, body: '<html>Service Unavailable</html>' },
      { status: 429, body: '{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "Too many requests"}' },
      { status: 200, body: '{"experiment": {"experiment_id": "7", "name": "x"}}' },
    ]);
    const client = new MlflowClient({ uri, ...fast });
    expect((await client.getExperimentByName('x'))?.experiment_id).toBe('7');
    expect(requests()).toBe(3);
    await client.close();
  });

  it('gives up after the last attempt, saying a write may have been applied after a 5xx', async () => {
    const { uri, requests } = await replay([{ status: 500, body: '{"error_code": "INTERNAL_ERROR", "message": "database is locked"}' }]);
    const client = new MlflowClient({ uri, ...fast });
    const error = await client.logBatch('r', { params: [{ key: 'a', value: '1' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowUnavailableError);
    expect((error as MlflowUnavailableError).maybeApplied).toBe(true);
    expect((error as Error).message).toContain('database is locked');
    expect(requests()).toBe(4);
    await client.close();
  });

  it('does not retry a 400, and reports the server message', async () => {
    const { uri, requests } = await replay([{ status: 400, body: '{"error_code": "INVALID_PARAMETER_VALUE", "message": "Changing param values is not allowed."}' }]);
    const client = new MlflowClient({ uri, ...fast });
    const error = await client.logBatch('r', { params: [{ key: 'a', value: '1' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowApiError);
    expect((error as MlflowApiError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect((error as Error).message).toContain('Changing param values is not allowed.');
    expect(requests()).toBe(1);
    await client.close();
  });

  it('a refused connection is unavailable and cannot have been applied', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const client = new MlflowClient({ uri: `http://127.0.0.1:${port}`, ...fast });
    const error = await client.logBatch('r', { params: [{ key: 'a', value: '1' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowUnavailableError);
    expect((error as MlflowUnavailableError).maybeApplied).toBe(false);
    expect((error as Error).message).toContain('ECONNREFUSED');
    await client.close();
  });
});

describe('journal', () => {
  it('numbers entries, survives a torn last line, and continues the numbering', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-journal-')), 'journal-main.jsonl');
    const writer = new JournalWriter(file);
    writer.append({ type: 'tags', run: 'parent', tags: { a: '1' } });
    writer.append({ type: 'metrics', run: 'parent', points: [{ key: 'm', value: 1, step: 1, timestamp: 5 }] });
    writer.close();
    appendFileSync(file, '{"seq":3,"type":"tags","run":"par'); // a crash mid-write
    expect(readJournal(file).map((e) => e.seq)).toEqual([1, 2]);
    const again = new JournalWriter(file);
    expect(again.append({ type: 'close', run: 'parent', status: 'FINISHED', endTime: 9 }).seq).toBe(3);
    again.close();
    expect(readJournal(file).map((e) => [e.seq, e.type])).toEqual([
      [1, 'tags'],
      [2, 'metrics'],
      [3, 'close'],
    ]);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
  });
});
