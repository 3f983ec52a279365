import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';

/**
 * The machine's CPU, memory, disk and network use, sampled at a fixed interval while tasks train
 * and recorded on each running task's run under the names MLflow's own system-metrics monitor uses,
 * so its System metrics tab shows them. Readings go through the tracking journal like every other
 * metric, so delivery stays exactly-once; a resumed task continues its step numbers.
 *
 * The readings are of the whole machine (as MLflow's are): workers share it, and a slow epoch is
 * explained by what else ran then, not only by the worker's own share.
 */
export type SystemMetrics = Record<string, number>;

interface CpuTimes {
  idle: number;
  total: number;
}

interface NetBytes {
  received: number;
  transmitted: number;
}

const MB = 1024 * 1024;

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/** Memory in use as Linux counts it (total minus available, so page cache is free), else os.freemem's view. */
function memoryUsed(): { used: number; total: number } {
  const total = os.totalmem();
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) return { used: total - Number(match[1]) * 1024, total };
  } catch {
    // not Linux: below
  }
  return { used: total - os.freemem(), total };
}

/** Bytes through every interface but loopback since boot (Linux only; elsewhere no network metrics). */
function netBytes(): NetBytes | undefined {
  try {
    const lines = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2);
    let received = 0;
    let transmitted = 0;
    for (const line of lines) {
      const [name, rest] = line.split(':');
      if (!rest || name!.trim() === 'lo') continue;
      const fields = rest.trim().split(/\s+/).map(Number);
      received += fields[0] ?? 0;
      transmitted += fields[8] ?? 0;
    }
    return { received, transmitted };
  } catch {
    return undefined;
  }
}

/** Takes readings; CPU use and network traffic are over the time since the previous reading (or since the reader was made). */
export class SystemReader {
  private cpu = cpuTimes();
  private readonly netStart = netBytes();

  constructor(private readonly diskPath: string) {}

  read(): SystemMetrics {
    const cpu = cpuTimes();
    const busy = cpu.total - this.cpu.total - (cpu.idle - this.cpu.idle);
    const elapsed = cpu.total - this.cpu.total;
    this.cpu = cpu;
    const memory = memoryUsed();
    const out: SystemMetrics = {
      'system/cpu_utilization_percentage': elapsed > 0 ? round((100 * busy) / elapsed) : 0,
      'system/system_memory_usage_megabytes': round(memory.used / MB),
      'system/system_memory_usage_percentage': round((100 * memory.used) / memory.total),
    };
    try {
      const disk = statfsSync(this.diskPath);
      const total = disk.blocks * disk.bsize;
      const available = disk.bavail * disk.bsize;
      const used = total - disk.bfree * disk.bsize;
      out['system/disk_usage_megabytes'] = round(used / MB);
      out['system/disk_available_megabytes'] = round(available / MB);
      out['system/disk_usage_percentage'] = round((100 * used) / Math.max(1, used + available));
    } catch {
      // a file system statfs cannot read: no disk metrics
    }
    const net = netBytes();
    if (net && this.netStart) {
      out['system/network_receive_megabytes'] = round((net.received - this.netStart.received) / MB);
      out['system/network_transmit_megabytes'] = round((net.transmitted - this.netStart.transmitted) / MB);
    }
    return out;
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export interface SamplerOptions {
  intervalMs: number;
  reader: SystemReader;
  /** Records one reading on one task's run. */
  record: (key: string, metrics: SystemMetrics, timestamp: number) => void;
}

/**
 * One timer for all running tasks: every interval, one reading recorded on each. A task gets a
 * reading when it starts and when it ends too, so even a task shorter than the interval has points.
 */
export class SystemSampler {
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SamplerOptions) {}

  taskStart(key: string): void {
    if (this.options.intervalMs <= 0) return;
    this.running.add(key);
    this.sample([key]);
    if (!this.timer) {
      this.timer = setInterval(() => this.sample([...this.running]), this.options.intervalMs);
      // Sampling never keeps fer alive on its own.
      this.timer.unref();
    }
  }

  taskEnd(key: string): void {
    if (!this.running.delete(key)) return;
    this.sample([key]);
    if (this.running.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.running.clear();
  }

  private sample(keys: string[]): void {
    if (keys.length === 0) return;
    const metrics = this.options.reader.read();
    const now = Date.now();
    for (const key of keys) this.options.record(key, metrics, now);
  }
}
