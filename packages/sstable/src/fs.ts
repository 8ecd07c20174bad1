import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';

const mmap = createRequire(import.meta.url)('mmap-io') as typeof import('mmap-io').default;

/**
 * The file-system seam of @kv/sstable: every file access of the writer and the reader goes
 * through one of these, so tests can wrap it to inject errors (ENOSPC, EIO) per operation or
 * serve files from memory. Implementations throw what Node's fs throws (or errno numbers);
 * callers wrap those as KV_IO_ERROR.
 */
export interface TableFs {
  /** 'write' creates or truncates the file; 'read' opens an existing file read-only. */
  open(path: string, mode: 'read' | 'write'): Promise<TableFile>;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes a create, rename or unlink in `dir` durable. */
  fsyncDir(dir: string): Promise<void>;
}

export interface TableFile {
  /** Writes all of `bytes` at `position` (looping over short writes). */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Resolves once the file's data and size are durable. */
  fsync(): Promise<void>;
  stat(): Promise<{ size: number }>;
  /**
   * Returns the first `size` bytes of the file, read-only. The real seam memory-maps them:
   * the caller must have checked that the file holds at least `size` bytes (touching a page
   * past the end of file is SIGBUS), `size` must be > 0 and < 2 GiB, and the file must not
   * shrink while the bytes are referenced. The bytes outlive `close()`.
   */
  map(size: number): Uint8Array;
  close(): Promise<void>;
}

/** Each mapping `map` made, by its ArrayBuffer (views over it find it there). */
const mappings = new WeakMap<ArrayBufferLike, Buffer>();

/**
 * Drops the pages of [start, end) of `bytes` from this process's resident set when `bytes`
 * views a mapping made by the real seam (a no-op otherwise). The bytes stay readable: a later
 * read faults the page in again from the page cache. For data read once (compaction inputs)
 * or no longer read (closed tables), so the process's RSS does not grow with the tables it
 * has read. With `keepPageOfStart`, the page holding `start` is kept (the bytes before
 * `start` are in use).
 */
export function releasePages(bytes: Uint8Array, start: number, end: number, keepPageOfStart = false): void {
  const mapped = mappings.get(bytes.buffer);
  if (mapped === undefined) return;
  const page = mmap.PAGESIZE;
  // The page that holds `start` goes too, unless bytes before `start` on it are still wanted.
  const round = keepPageOfStart ? Math.ceil : Math.floor;
  const from = round((bytes.byteOffset - mapped.byteOffset + start) / page) * page;
  const to = Math.min(mapped.length, bytes.byteOffset - mapped.byteOffset + end);
  if (to <= from) return;
  mmap.advise(mapped, from, to - from, mmap.MADV_DONTNEED);
}

class NodeTableFile implements TableFile {
  readonly #handle: FileHandle;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async write(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, done, bytes.length - done, position + done);
      if (bytesWritten <= 0) throw new Error(`write made no progress at position ${position + done}`);
      done += bytesWritten;
    }
  }

  fsync(): Promise<void> {
    return this.#handle.sync();
  }

  async stat(): Promise<{ size: number }> {
    const st = await this.#handle.stat();
    return { size: st.size };
  }

  map(size: number): Uint8Array {
    const mapped = mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, this.#handle.fd, 0);
    mappings.set(mapped.buffer, mapped);
    return mapped;
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** The real file system (node:fs/promises, mmap-io). */
export const nodeTableFs: TableFs = Object.freeze({
  async open(path: string, mode: 'read' | 'write'): Promise<TableFile> {
    return new NodeTableFile(await open(path, mode === 'write' ? 'w' : 'r'));
  },
  rename,
  unlink,
  async fsyncDir(dir: string): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
});
