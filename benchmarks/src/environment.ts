import { statfsSync } from 'node:fs';
import * as os from 'node:os';

const FS_TYPES: Readonly<Record<number, string>> = {
  61267: 'ext4',
  1481003842: 'xfs',
  2435016766: 'btrfs',
  16914836: 'tmpfs',
  2035054128: 'overlayfs',
  801189825: 'zfs',
  1702057286: 'fuse',
};

export interface Machine {
  node: string;
  platform: string;
  kernel: string;
  cpus: number;
  cpuModel: string;
  memoryMB: number;
}

export function machine(): Machine {
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryMB: Math.round(os.totalmem() / 1e6),
  };
}

/** The file system type of `dir` (e.g. "ext4"), or its magic number when unknown. */
export function fileSystemOf(dir: string): string {
  try {
    const type = statfsSync(dir).type;
    return FS_TYPES[type] ?? `0x${type.toString(16)}`;
  } catch {
    return 'unknown';
  }
}
