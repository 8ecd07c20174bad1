import * as fs from 'node:fs';

/**
 * The engine's own file-system seam (manifest and directory housekeeping); the WAL and the
 * tables have theirs. Tests wrap it to inject errors.
 */
export interface EngineFs {
  mkdir(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** Creates or replaces `path` with `data` and fdatasyncs it (not the directory). */
  writeFileSynced(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
}

export const realEngineFs: EngineFs = Object.freeze({
  async mkdir(dir: string) {
    await fs.promises.mkdir(dir, { recursive: true });
  },
  readdir: (dir: string) => fs.promises.readdir(dir),
  async readFile(path: string) {
    try {
      return new Uint8Array(await fs.promises.readFile(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  async writeFileSynced(path: string, data: Uint8Array) {
    const handle = await fs.promises.open(path, 'w');
    try {
      await handle.writeFile(data);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  },
  rename: (from: string, to: string) => fs.promises.rename(from, to),
  unlink: (path: string) => fs.promises.unlink(path),
  async fsyncDir(dir: string) {
    const handle = await fs.promises.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
});
