import { loadConfigWithPlugins } from '../config/read.js';
import { loadDataset } from '../data/load.js';
import { startEngine } from '../backend/backend.js';
import { createRunContext, executeTask, type RunContext } from './execute-task.js';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * A worker process: loads the config, the data (from the cache the parent filled) and its own
 * backend once, then trains the tasks the parent sends, one at a time, reporting progress over IPC.
 * On `stop`, SIGINT or SIGTERM it stops after the current batch; the task's last epoch checkpoint
 * stays, so rerunning the command resumes it.
 */
const send = (message: FromWorker) => process.send?.(message);
const stop = new AbortController();
let context: RunContext | undefined;
let busy = false;

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());
process.on('disconnect', () => {
  stop.abort();
  if (!busy) process.exit(0);
});

process.on('message', (raw) => {
  const message = raw as ToWorker;
  void (async () => {
    try {
      if (message.type === 'init') {
        const engine = await startEngine(message.backend, { deterministic: message.deterministic });
        const loaded = await loadConfigWithPlugins(message.configFile, { overrides: message.overrides, cwd: message.cwd });
        const { dataset } = await loadDataset({ data: loaded.config.data!, seed: loaded.config.seed });
        context = createRunContext(engine.tf, loaded, dataset, message.runDir, message.configDigest);
        send({ type: 'ready', backend: engine.backend, reason: engine.reason });
      } else if (message.type === 'task') {
        if (!context) throw new Error('task before init');
        busy = true;
        send({ type: 'task-start', key: message.task.key });
        let lastBatch = 0;
        try {
          const outcome = await executeTask(context, message.task, message.fingerprint, stop.signal, {
            onEpoch: (metrics) => send({ type: 'epoch', key: message.task.key, metrics }),
            onNotice: (text) => send({ type: 'notice', key: message.task.key, message: text }),
            onBatch: (progress) => {
              const now = Date.now();
              if (now - lastBatch < 250 && progress.batch !== progress.batches) return;
              lastBatch = now;
              send({ type: 'batch', key: message.task.key, progress });
            },
          });
          send({ type: 'task-end', key: message.task.key, outcome });
        } catch (error) {
          send({ type: 'task-error', key: message.task.key, message: (error as Error).message });
        } finally {
          busy = false;
          if (stop.signal.aborted && process.connected) process.disconnect();
        }
      } else if (message.type === 'stop') {
        stop.abort();
        if (!busy && process.connected) process.disconnect();
      }
    } catch (error) {
      send({ type: 'fatal', message: (error as Error).message });
      if (process.connected) process.disconnect();
    }
  })();
});
