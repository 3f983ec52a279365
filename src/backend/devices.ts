import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cpuCores, cpuFlags, cpuModel, instructionSets } from './cpu-features.js';

/**
 * The devices of this machine that a run can place workers on, found without loading TensorFlow (the
 * runner places workers before any of them starts a backend): the CPU, and the NVIDIA GPUs the driver
 * lists, narrowed to CUDA_VISIBLE_DEVICES when it is set. Whether TensorFlow then uses a GPU is for
 * the started backend to say (capabilities.ts).
 */
export interface CpuDevice {
  model: string;
  cores: number;
  /** The instruction sets that drive kernel choices and rounding (cpu-features.ts). */
  instructionSets: string[];
}

export interface GpuDevice {
  /** What CUDA_VISIBLE_DEVICES takes to select it: its index in PCI bus order, or the id given there. */
  id: string;
  name: string;
}

export interface Devices {
  cpu: CpuDevice;
  gpus: GpuDevice[];
  /**
   * The CUDA_DEVICE_ORDER under which the GPU ids hold: `PCI_BUS_ID` for the indices fer gave them
   * from the driver's list (CUDA's own default order is fastest first); unset for ids taken from
   * the user's CUDA_VISIBLE_DEVICES, which hold under the user's order.
   */
  cudaDeviceOrder?: string;
}

/** One GPU as the driver lists it. */
export interface ListedGpu {
  name: string;
}

/**
 * The NVIDIA GPUs in PCI bus order: `/proc/driver/nvidia/gpus/<PCI address>/information` (its
 * `Model:` line), else the `/dev/nvidia<N>` device files. Empty where there is no NVIDIA driver.
 */
export function listNvidiaGpus(root = '/'): ListedGpu[] {
  const proc = path.join(root, 'proc', 'driver', 'nvidia', 'gpus');
  try {
    if (existsSync(proc)) {
      return readdirSync(proc)
        .sort()
        .map((address) => {
          let model: string | undefined;
          try {
            model = /^Model:\s*(.+)$/m.exec(readFileSync(path.join(proc, address, 'information'), 'utf8'))?.[1]?.trim();
          } catch {
            // Unreadable: the device is there all the same.
          }
          return { name: model ?? `NVIDIA GPU at ${address}` };
        });
    }
    const dev = path.join(root, 'dev');
    return readdirSync(dev)
      .filter((f) => /^nvidia\d+$/.test(f))
      .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
      .map((f) => ({ name: `/dev/${f}` }));
  } catch {
    return [];
  }
}

/**
 * The GPUs CUDA would show a process, from the driver's list and CUDA_VISIBLE_DEVICES: unset, all of
 * them (numbered in PCI bus order); empty or -1, none; else the ids it lists, in its order (a number
 * beyond the list ends it, as CUDA does; UUIDs and MIG ids are kept as given).
 */
export function visibleGpus(listed: readonly ListedGpu[], env: { CUDA_VISIBLE_DEVICES?: string | undefined; CUDA_DEVICE_ORDER?: string | undefined } = process.env): Pick<Devices, 'gpus' | 'cudaDeviceOrder'> {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible === undefined) return { gpus: listed.map((g, i) => ({ id: String(i), name: g.name })), cudaDeviceOrder: 'PCI_BUS_ID' };
  const gpus: GpuDevice[] = [];
  for (const token of visible.split(',').map((t) => t.trim())) {
    if (token === '') break;
    if (/^-?\d+$/.test(token)) {
      const index = Number(token);
      if (index < 0 || index >= listed.length) break;
      gpus.push({ id: token, name: listed[index]!.name });
    } else {
      gpus.push({ id: token, name: `GPU ${token}` });
    }
  }
  return { gpus, ...(env.CUDA_DEVICE_ORDER ? { cudaDeviceOrder: env.CUDA_DEVICE_ORDER } : {}) };
}

let machine: Devices | undefined;

/** This machine's devices (computed once per process). */
export function machineDevices(): Devices {
  machine ??= {
    cpu: { model: cpuModel(), cores: cpuCores(), instructionSets: instructionSets(cpuFlags()) },
    ...visibleGpus(listNvidiaGpus()),
  };
  return machine;
}
