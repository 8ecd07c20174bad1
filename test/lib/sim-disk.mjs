/**
 * A crash-simulating file system: implements the engine's three seams (EngineFs, WalFs,
 * TableFs) over a real directory, and remembers what a power cut could not take away:
 *
 * - per file (inode): its content as of the last completed fsync / fdatasync;
 * - per directory: the creates, renames, unlinks and mkdirs not yet covered by a completed
 *   fsync of that directory (POSIX: a file's fsync does not make its name durable).
 *
 * WAL mappings are heap buffers that reach the inode's durable content only on fdatasync (the
 * kernel may write a dirty page back at any time, so at a cut each unsynced sector may or may
 * not have reached the disk). `crash()` freezes the disk: every later operation of the seams
 * never completes (a dead machine answers nothing), and the image a reboot could find is
 * computed: a prefix of each directory's pending operations survives (journals commit in
 * order), each unsynced sector is old, new or garbled per `mode`, a file's unsynced size
 * change may be lost. `writeImage()` writes that image to a fresh directory, which the test
 * opens with the real file systems. Lock files (created by the engine outside the seams) are
 * not part of the image.
 *
 * Paths must lie under `root`; renames stay within one directory (all the engine does).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyDirOp, persisted, reachable } from './power-cut.mjs';
import { simEngineFs, simTableFs, simWalFs } from './sim-seams.mjs';

/**
 * @typedef {object} Inode
 * @property {number} id
 * @property {string | null} name   current path relative to root; null once unlinked or replaced
 * @property {Buffer | null} durable content as of the last completed sync (null: never synced, empty)
 * @property {Buffer | null} map    heap mapping (WAL segments): the page cache of the whole file
 * @property {Buffer | null} detached content when it lost its name (read before the unlink or replace)
 */

/**
 * @typedef {{ kind: 'create', name: string, inode: Inode }
 *   | { kind: 'rename', from: string, to: string, inode: Inode }
 *   | { kind: 'unlink', name: string }
 *   | { kind: 'mkdir', name: string }} DirOp
 */

/** @typedef {'drop' | 'some' | 'garble'} CrashMode */

/**
 * @typedef {object} CrashReport
 * @property {CrashMode} mode
 * @property {number} dirOpsUndone     pending directory operations that did not survive
 * @property {number} dirOpsKept       pending directory operations that did
 * @property {number} sectorsDropped   unsynced sectors that kept their old content
 * @property {number} sectorsKept      unsynced sectors that reached the disk
 * @property {number} sectorsGarbled   unsynced sectors whose new bytes became garbage
 * @property {number} sizesReverted    files whose unsynced size change was lost
 * @property {string[]} files          files of the image
 */

const isLock = (/** @type {string} */ name) => path.basename(name) === 'LOCK' || name.endsWith('.lock');

/** A promise that never settles: what a dead machine answers. @returns {Promise<never>} */
const never = () => new Promise(() => {});

export class SimDisk {
  /**
   * Adopts the existing content of `root` as durable (a store reopened after a clean close).
   * @param {string} root
   * @param {import('./rng.mjs').Rng} rng
   * @param {{ durableMkdir?: boolean }} [options] durableMkdir: a new directory survives a cut
   *   without an fsync of its parent (what ext4's and XFS's journals do in practice; POSIX
   *   promises it only after the parent's fsync, the default here).
   */
  constructor(root, rng, options = {}) {
    this.root = path.resolve(root);
    this.rng = rng;
    this.durableMkdir = options.durableMkdir === true;
    this.crashed = false;
    /** seam calls so far */
    this.ops = 0;
    /** crash when `ops` reaches this (0: never by itself) */
    this.crashAt = 0;
    /** @type {CrashMode} */
    this.crashMode = 'drop';
    /** the seam call the power went off in ('' for a cut between calls) */
    this.cutAt = '';
    /** @type {CrashReport | null} */
    this.report = null;
    /** @type {Map<string, Buffer> | null} relative path -> content; null for a directory */
    this.image = null;
    this.nextInode = 1;
    /** @type {Map<string, Inode>} current names */
    this.names = new Map();
    /** @type {Set<string>} current directories ('' is the root) */
    this.dirs = new Set(['']);
    /** @type {Map<string, Inode>} durable names */
    this.durableNames = new Map();
    /** @type {Set<string>} durable directories */
    this.durableDirs = new Set(['']);
    /** @type {Map<string, DirOp[]>} directory -> operations not yet made durable */
    this.pending = new Map();
    /** @type {Map<number, Inode>} open WAL descriptors */
    this.fds = new Map();
    /** @type {(report: CrashReport) => void} */
    let signal = () => {};
    /** resolves when the power is cut */
    this.whenCrashed = /** @type {Promise<CrashReport>} */ (new Promise((resolve) => (signal = resolve)));
    this.signalCrash = signal;
    this.adopt('');
    this.engineFs = simEngineFs(this);
    this.walFs = simWalFs(this);
    this.tableFs = simTableFs(this);
  }

  /** @param {string} rel */
  adopt(rel) {
    for (const entry of fs.readdirSync(this.abs(rel), { withFileTypes: true })) {
      const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        this.dirs.add(name);
        this.durableDirs.add(name);
        this.adopt(name);
      } else if (!isLock(name)) {
        const inode = this.newInode(name);
        inode.durable = fs.readFileSync(this.abs(name));
        this.durableNames.set(name, inode);
      }
    }
  }

  /** Cuts the power once `n` more seam calls have been made (the n-th never happens). */
  cutAfter(/** @type {number} */ n, /** @type {CrashMode} */ mode) {
    this.crashAt = this.ops + n;
    this.crashMode = mode;
  }

  // ---- paths, inodes, directory operations ----

  abs(/** @type {string} */ rel) {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  rel(/** @type {string} */ p) {
    const r = path.relative(this.root, path.resolve(p));
    if (r.startsWith('..') || path.isAbsolute(r)) throw new Error(`SimDisk: ${p} is outside ${this.root}`);
    return r.split(path.sep).join('/');
  }

  /** @param {string} name @returns {Inode} */
  newInode(name) {
    const inode = { id: this.nextInode++, name, durable: null, map: null, detached: null };
    this.names.set(name, inode);
    return inode;
  }

  parentOf(/** @type {string} */ name) {
    const i = name.lastIndexOf('/');
    return i < 0 ? '' : name.slice(0, i);
  }

  /** @param {DirOp} op @param {string} name */
  record(op, name) {
    const dir = this.parentOf(name);
    const list = this.pending.get(dir) ?? [];
    list.push(op);
    this.pending.set(dir, list);
  }

  /** Current (page cache) content of an inode. @param {Inode} inode @returns {Buffer} */
  current(inode) {
    if (inode.map !== null) return inode.map;
    if (inode.name !== null) return fs.readFileSync(this.abs(inode.name));
    return inode.detached ?? Buffer.alloc(0);
  }

  /** The inode loses its name: keep what it held, for an undo of the unlink at a cut. @param {Inode} inode */
  detach(inode) {
    if (inode.map === null && inode.name !== null) inode.detached = fs.readFileSync(this.abs(inode.name));
    inode.name = null;
  }

  /** Opens `name` for writing with truncation: the same inode if it exists, else a created one. */
  createOrTruncate(/** @type {string} */ name) {
    const existing = this.names.get(name);
    if (existing !== undefined) return existing;
    const inode = this.newInode(name);
    this.record({ kind: 'create', name, inode }, name);
    return inode;
  }

  /**
   * Every seam call starts here: counts it, cuts the power when due. Returns false when the
   * power is (now) off: the caller must then never answer.
   */
  enter(/** @type {string} */ op) {
    if (this.crashed) return false;
    this.ops++;
    if (this.crashAt > 0 && this.ops >= this.crashAt) {
      this.cutAt = op;
      this.crash(this.crashMode);
      return false;
    }
    return true;
  }

  /** An operation completes after a turn of the event loop, unless the power went off meanwhile. */
  async complete() {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.crashed) await never();
  }

  /** Makes the pending operations of `dir` issued so far durable, once the fsync completes. */
  async fsyncDir(/** @type {string} */ dirPath) {
    if (!this.enter('fsyncDir')) return never();
    const up = path.relative(path.resolve(dirPath), this.root);
    if (up !== '' && !up.startsWith('..') && !path.isAbsolute(up)) {
      // An ancestor of the root (a new store's directory made durable in its parent): the
      // root itself is outside the model, always there.
      return this.complete();
    }
    const dir = this.rel(dirPath);
    if (!this.dirs.has(dir)) throw Object.assign(new Error(`ENOENT: no such directory ${dirPath}`), { code: 'ENOENT' });
    const count = this.pending.get(dir)?.length ?? 0;
    await this.complete();
    const list = this.pending.get(dir) ?? [];
    for (const op of list.splice(0, count)) applyDirOp(this.durableNames, this.durableDirs, op);
  }

  /** Makes the inode's current content durable, once the sync completes. @param {Inode} inode @param {string} [op] */
  async syncInode(inode, op = 'fdatasync') {
    if (!this.enter(op)) return never();
    const snapshot = Buffer.from(this.current(inode));
    await this.complete();
    inode.durable = snapshot;
  }

  async mkdir(/** @type {string} */ dirPath) {
    if (!this.enter('mkdir')) return never();
    const parts = this.rel(dirPath)
      .split('/')
      .filter((p) => p !== '');
    let at = '';
    for (const part of parts) {
      const next = at === '' ? part : `${at}/${part}`;
      if (!this.dirs.has(next)) {
        fs.mkdirSync(this.abs(next));
        this.dirs.add(next);
        if (this.durableMkdir) this.durableDirs.add(next);
        else this.record({ kind: 'mkdir', name: next }, next);
      }
      at = next;
    }
    await this.complete();
  }

  async readdir(/** @type {string} */ dirPath) {
    if (!this.enter('readdir')) return never();
    const list = fs.readdirSync(dirPath);
    await this.complete();
    return list;
  }

  async rename(/** @type {string} */ fromPath, /** @type {string} */ toPath) {
    if (!this.enter('rename')) return never();
    const from = this.rel(fromPath);
    const to = this.rel(toPath);
    if (this.parentOf(from) !== this.parentOf(to))
      throw new Error(`SimDisk: rename across directories ${from} -> ${to}`);
    const inode = this.names.get(from);
    if (inode === undefined) throw Object.assign(new Error(`ENOENT: rename ${fromPath}`), { code: 'ENOENT' });
    const replaced = this.names.get(to);
    if (replaced !== undefined) this.detach(replaced);
    fs.renameSync(fromPath, toPath);
    this.names.delete(from);
    this.names.set(to, inode);
    inode.name = to;
    this.record({ kind: 'rename', from, to, inode }, to);
    await this.complete();
  }

  async unlink(/** @type {string} */ filePath) {
    if (!this.enter('unlink')) return never();
    const name = this.rel(filePath);
    const inode = this.names.get(name);
    if (inode === undefined) throw Object.assign(new Error(`ENOENT: unlink ${filePath}`), { code: 'ENOENT' });
    this.detach(inode);
    fs.unlinkSync(filePath);
    this.names.delete(name);
    this.record({ kind: 'unlink', name }, name);
    await this.complete();
  }

  // ---- the power cut ----

  /**
   * Cuts the power now: freezes every seam and computes the image a reboot could find.
   * @param {CrashMode} mode
   * @returns {CrashReport}
   */
  crash(mode) {
    if (this.report !== null) return this.report;
    this.crashed = true;
    const rng = this.rng;
    /** @type {CrashReport} */
    const report = {
      mode,
      dirOpsUndone: 0,
      dirOpsKept: 0,
      sectorsDropped: 0,
      sectorsKept: 0,
      sectorsGarbled: 0,
      sizesReverted: 0,
      files: [],
    };
    const names = new Map(this.durableNames);
    const dirs = new Set(this.durableDirs);
    for (const list of this.pending.values()) {
      // Journals commit in order: some prefix of each directory's pending operations survives.
      const r = rng.next();
      const keep = mode === 'drop' || r < 0.4 ? 0 : r < 0.7 ? list.length : rng.int(0, list.length);
      for (const op of list.slice(0, keep)) applyDirOp(names, dirs, op);
      report.dirOpsKept += keep;
      report.dirOpsUndone += list.length - keep;
    }
    /** @type {Map<string, Buffer | null>} */
    const image = new Map();
    for (const dir of [...dirs].sort()) {
      if (dir !== '' && reachable(dir, dirs)) image.set(dir, null);
    }
    for (const [name, inode] of names) {
      if (!reachable(this.parentOf(name), dirs)) continue;
      image.set(name, persisted(inode.durable ?? Buffer.alloc(0), this.current(inode), mode, rng, report));
      report.files.push(name);
    }
    this.image = /** @type {Map<string, Buffer>} */ (image);
    this.report = report;
    this.signalCrash(report);
    return report;
  }

  /**
   * A buffered write into the page cache, synchronous (the WAL's append path): into the heap
   * mapping when the file is mapped, else into the file. A write once the power is off, or
   * the write the power goes off in, changes nothing the image holds.
   * @param {Inode} inode @param {number} fd @param {Uint8Array} data @param {number} position
   */
  writeNow(inode, fd, data, position) {
    if (!this.enter('wal.writeSync')) return;
    if (inode.map === null) fs.writeSync(fd, data, 0, data.length, position);
    else if (position + data.length > inode.map.length) throw new Error('SimDisk: write past a mapped segment');
    else inode.map.set(data, position);
  }

  /** Writes the image the cut left to `target` (a new, empty or missing directory). */
  writeImage(/** @type {string} */ target) {
    if (this.image === null) throw new Error('SimDisk: writeImage before crash');
    fs.mkdirSync(target, { recursive: true });
    for (const [name, content] of this.image) {
      if (content === null) fs.mkdirSync(path.join(target, name), { recursive: true });
    }
    for (const [name, content] of this.image) {
      if (content !== null) fs.writeFileSync(path.join(target, name), content);
    }
  }
}
