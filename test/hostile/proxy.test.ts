import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MlflowClient } from '../../src/track/sinks/mlflow/client.js';
import { mlflowAvailable, startMlflow, type MlflowServer } from '../helpers/mlflow.js';

/** A tiny forward proxy (CONNECT tunnels and plain proxied requests) that counts what it carries. */
function countingProxy(): Promise<{ url: string; count: () => number; close: () => void }> {
  let carried = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    carried++;
    const target = new URL(req.url!);
    const upstream = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  server.on('connect', (req, client: net.Socket, head) => {
    carried++;
    const [host, port] = req.url!.split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        count: () => carried,
        close: () => {
          for (const s of sockets) s.destroy();
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}

describe.skipIf(!mlflowAvailable)('the MLflow client behind a proxy', () => {
  let server: MlflowServer;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  beforeAll(async () => {
    server = await startMlflow();
    proxy = await countingProxy();
  }, 120_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    proxy?.close();
    await server?.stop();
  });

  it('goes through HTTP_PROXY, and not for a host in NO_PROXY', async () => {
    vi.stubEnv('HTTP_PROXY', proxy.url);
    vi.stubEnv('NO_PROXY', '');
    const proxied = new MlflowClient({ uri: server.uri });
    expect(await proxied.searchExperiments()).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Default' })]));
    await proxied.close();
    const through = proxy.count();
    expect(through).toBeGreaterThan(0);

    vi.stubEnv('NO_PROXY', '127.0.0.1');
    const direct = new MlflowClient({ uri: server.uri });
    await direct.searchExperiments();
    await direct.close();
    expect(proxy.count()).toBe(through);
  }, 60_000);
});
