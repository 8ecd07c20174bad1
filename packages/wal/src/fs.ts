import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

type Mmap = typeof import('mmap-io').default;
const mmap = createRequire(import.meta.url)('mmap-io') as Mmap;

/**
 * Every file-system and mmap call of the WAL goes through this seam, so tests can inject
 * errors per operation or model a power loss (drop bytes that were never synced) without
 * touching the production path. Methods reject with Node's system errors.
 */
export interface WalFs {
  mkdir(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  /** Opens read-write; `create` truncates or creates the file. */
  open(path: string, create: boolean): Promise<number>;
  close(fd: number): Promise<void>;
  size(fd: number): Promise<number>;
  write(fd: number, data: Uint8Array, position: number): Promise<void>;
  /**
   * Copies `data` into the file's page cache at `position` (a buffered write to a
   * preallocated file: no allocation, no metadata, no wait for the disk). Appends use it
   * when present; without it they copy into the mapping, which on ext4 costs a page fault
   * after every writeback and measured ~2x slower per synced append.
   */
  writeSync?(fd: number, data: Uint8Array, position: number): void;
  read(fd: number, into: Uint8Array, position: number): Promise<number>;
  /** Makes every byte written to `fd`, through write() or its mapping, durable. */
  fdatasync(fd: number): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** A shared read-write mapping of the first `size` bytes; the file must be at least that long. */
  map(fd: number, size: number): Buffer;
  /**
   * Optional: takes the pages of a mapping `map` made out of the process's resident set. Its
   * bytes stay what they were: a later read maps them in again from the file.
   */
  dropPages?(mapping: Buffer): void;
}

const pWrite = (fd: number, b: Uint8Array, o: number, l: number, p: number) =>
  new Promise<number>((resolve, reject) => fs.write(fd, b, o, l, p, (e, n) => (e ? reject(e) : resolve(n))));
const pRead = (fd: number, b: Uint8Array, o: number, l: number, p: number) =>
  new Promise<number>((resolve, reject) => fs.read(fd, b, o, l, p, (e, n) => (e ? reject(e) : resolve(n))));
const pFdatasync = promisify(fs.fdatasync);
const pFsync = promisify(fs.fsync);
const pOpen = promisify(fs.open) as (path: string, flags: string) => Promise<number>;
const pClose = promisify(fs.close);
const pFstat = promisify(fs.fstat);

export const realFs: WalFs = Object.freeze({
  async mkdir(dir: string) {
    await fs.promises.mkdir(dir, { recursive: true });
  },
  readdir: (dir: string) => fs.promises.readdir(dir),
  open: (path: string, create: boolean) => pOpen(path, create ? 'w+' : 'r+'),
  close: (fd: number) => pClose(fd),
  size: async (fd: number) => (await pFstat(fd)).size,
  async write(fd: number, data: Uint8Array, position: number) {
    let done = 0;
    while (done < data.length) {
      done += await pWrite(fd, data, done, data.length - done, position + done);
    }
  },
  writeSync(fd: number, data: Uint8Array, position: number) {
    let done = 0;
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done);
  },
  read: (fd: number, into: Uint8Array, position: number) => pRead(fd, into, 0, into.length, position),
  fdatasync: (fd: number) => pFdatasync(fd),
  async fsyncDir(dir: string) {
    const fd = fs.openSync(dir, 'r');
    try {
      await pFsync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  rename: (from: string, to: string) => fs.promises.rename(from, to),
  unlink: (path: string) => fs.promises.unlink(path),
  map: (fd: number, size: number) => mmap.map(size, (mmap.PROT_READ | mmap.PROT_WRITE) as 3, mmap.MAP_SHARED, fd, 0),
  // A shared mapping's dirty pages stay in the page cache: MADV_DONTNEED loses no byte.
  dropPages: (mapping: Buffer) => mmap.advise(mapping, 0, mapping.length, mmap.MADV_DONTNEED),
});
