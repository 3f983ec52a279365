import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEngine, type BackendRequest } from '../backend/backend.js';
import { FerError } from '../core/errors.js';
import { createFerServer, DEFAULT_LIMITS, type ServeLimits } from './server.js';
import { Predictor, servedModel, type ServedModel } from './served-model.js';

export interface ServeOptions {
  host?: string;
  port?: number;
  backend?: BackendRequest;
  limits?: Partial<ServeLimits>;
}

export interface RunningServer {
  url: string;
  model: ServedModel;
  server: Server;
  close(): Promise<void>;
}

/** Starts fer serve for a run folder or an export folder; resolves once it listens. */
export async function serve(dir: string, options: ServeOptions = {}): Promise<RunningServer> {
  const model = servedModel(dir);
  const { tf } = await startEngine(options.backend ?? 'auto');
  const predictor = await Predictor.load(tf, model);
  const server = createFerServer(model, predictor, { ...DEFAULT_LIMITS, ...options.limits });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      predictor.dispose();
      if (error.code === 'EADDRINUSE') reject(new FerError(`port ${port} on ${host} is in use`, 'choose another with --port (0 picks a free one)'));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(new FerError(`cannot listen on ${host}: no such address on this machine`, 'use --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)'));
      else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    model,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          predictor.dispose();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
