/**
 * Fault injection through the engine's three seams, over the real file systems (real mmap for
 * WAL segments and tables). A FaultPlan counts every seam call by name and, once armed, makes
 * the n-th later call of one operation fail with a system error (ENOSPC, EIO...), once.
 */
import { realEngineFs } from '@kv/engine';
import { nodeTableFs } from '@kv/sstable';
import { realFs } from '@kv/wal';

/**
 * Operations worth failing, with the errors a real disk gives them. "wal.write" is the
 * preallocation of a new segment; "table.open" opens a table for writing or for reading back.
 * @type {Readonly<Record<string, readonly string[]>>}
 */
export const FAULT_TARGETS = Object.freeze({
  'wal.open': ['ENOSPC', 'EIO', 'EMFILE'],
  'wal.write': ['ENOSPC', 'EIO'],
  'wal.writeSync': ['EIO'],
  'wal.fdatasync': ['EIO', 'ENOSPC'],
  'wal.rename': ['EIO'],
  'wal.unlink': ['EIO'],
  'wal.fsyncDir': ['EIO'],
  'wal.readdir': ['EIO'],
  'table.open': ['ENOSPC', 'EIO', 'EMFILE'],
  'table.write': ['ENOSPC', 'EIO'],
  'table.fsync': ['EIO'],
  'table.stat': ['EIO'],
  'table.rename': ['EIO'],
  'table.unlink': ['EIO'],
  'table.fsyncDir': ['EIO'],
  'engine.writeFileSynced': ['ENOSPC', 'EIO'],
  'engine.rename': ['EIO'],
  'engine.unlink': ['EIO'],
  'engine.fsyncDir': ['EIO'],
  'engine.readdir': ['EIO'],
});

export class FaultPlan {
  constructor() {
    /** @type {Record<string, number>} calls per operation */
    this.calls = {};
    /** @type {{ op: string, n: number, code: string } | null} */
    this.armed = null;
    /** @type {{ op: string, code: string, call: number } | null} the fault that fired */
    this.fired = null;
  }

  /** The n-th call of `op` from now fails with `code`. */
  arm(/** @type {string} */ op, /** @type {number} */ n, /** @type {string} */ code) {
    this.armed = { op, n: (this.calls[op] ?? 0) + n, code };
  }

  disarm() {
    this.armed = null;
  }

  /** Counts a call of `op`; throws the armed fault when it is due. */
  gate(/** @type {string} */ op) {
    const call = (this.calls[op] = (this.calls[op] ?? 0) + 1);
    const a = this.armed;
    if (a === null || a.op !== op || call < a.n) return;
    this.armed = null;
    this.fired = { op, code: a.code, call };
    const err = /** @type {NodeJS.ErrnoException} */ (new Error(`${a.code}: injected fault in ${op} (call ${call})`));
    err.code = a.code;
    err.syscall = op;
    throw err;
  }

  /**
   * `fn`, gated: counts (and maybe fails) a call of `op` first.
   * @template {unknown[]} A @template R
   * @param {string} op @param {(...args: A) => Promise<R>} fn
   * @returns {(...args: A) => Promise<R>}
   */
  gated(op, fn) {
    return async (...args) => {
      this.gate(op);
      return fn(...args);
    };
  }

  /** The three seams, each call gated by this plan. */
  seams() {
    const g = this.gated.bind(this);
    /** @type {import('@kv/engine').EngineFs} */
    const engineFs = {
      mkdir: g('engine.mkdir', realEngineFs.mkdir),
      readdir: g('engine.readdir', realEngineFs.readdir),
      readFile: g('engine.readFile', realEngineFs.readFile),
      writeFileSynced: g('engine.writeFileSynced', realEngineFs.writeFileSynced),
      rename: g('engine.rename', realEngineFs.rename),
      unlink: g('engine.unlink', realEngineFs.unlink),
      fsyncDir: g('engine.fsyncDir', realEngineFs.fsyncDir),
    };
    /** @type {import('@kv/wal').WalFs} */
    const walFs = {
      mkdir: g('wal.mkdir', realFs.mkdir),
      readdir: g('wal.readdir', realFs.readdir),
      open: g('wal.open', realFs.open),
      close: (fd) => realFs.close(fd),
      size: g('wal.size', realFs.size),
      write: g('wal.write', realFs.write),
      writeSync: (fd, data, at) => {
        this.gate('wal.writeSync');
        realFs.writeSync?.(fd, data, at);
      },
      read: g('wal.read', realFs.read),
      fdatasync: g('wal.fdatasync', realFs.fdatasync),
      fsyncDir: g('wal.fsyncDir', realFs.fsyncDir),
      rename: g('wal.rename', realFs.rename),
      unlink: g('wal.unlink', realFs.unlink),
      map: (fd, size) => realFs.map(fd, size),
    };
    /** @type {import('@kv/sstable').TableFs} */
    const tableFs = {
      open: g('table.open', async (f, mode) => {
        const file = await nodeTableFs.open(f, mode);
        return {
          write: g('table.write', (bytes, at) => file.write(bytes, at)),
          fsync: g('table.fsync', () => file.fsync()),
          stat: g('table.stat', () => file.stat()),
          map: (size) => file.map(size),
          close: () => file.close(),
        };
      }),
      rename: g('table.rename', nodeTableFs.rename),
      unlink: g('table.unlink', nodeTableFs.unlink),
      fsyncDir: g('table.fsyncDir', nodeTableFs.fsyncDir),
    };
    return { fs: engineFs, walFs, tableFs };
  }
}
