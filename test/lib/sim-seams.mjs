/**
 * The engine's three file-system seams (EngineFs, WalFs, TableFs) over a SimDisk: each call
 * acts on the real directory at once (the page cache), tells the disk what a power cut could
 * undo, and completes a turn of the event loop later, unless the power went off meanwhile
 * (then it never completes). A WAL segment's mapping is a heap buffer standing for its page
 * cache: appends (writeSync) and writes land in it, and it reaches the durable image only
 * through fdatasync. Table mappings are heap copies (tables are immutable once written).
 */
import * as fs from 'node:fs';

/** @typedef {import('./sim-disk.mjs').SimDisk} SimDisk */

/** A promise that never settles: what a dead machine answers. @returns {Promise<never>} */
const never = () => new Promise(() => {});

/** @param {SimDisk} disk @returns {import('@kv/engine').EngineFs} */
export function simEngineFs(disk) {
  return {
    mkdir: (dir) => disk.mkdir(dir),
    readdir: (dir) => disk.readdir(dir),
    readFile: async (file) => {
      if (!disk.enter('readFile')) return never();
      const inode = disk.names.get(disk.rel(file));
      const bytes = inode === undefined ? undefined : new Uint8Array(disk.current(inode));
      await disk.complete();
      return bytes;
    },
    writeFileSynced: async (file, data) => {
      if (!disk.enter('writeFileSynced')) return never();
      const inode = disk.createOrTruncate(disk.rel(file));
      fs.writeFileSync(file, data);
      await disk.complete();
      await disk.syncInode(inode, 'writeFileSynced:sync');
    },
    rename: (from, to) => disk.rename(from, to),
    unlink: (file) => disk.unlink(file),
    fsyncDir: (dir) => disk.fsyncDir(dir),
  };
}

/** @param {SimDisk} disk @returns {import('@kv/wal').WalFs} */
export function simWalFs(disk) {
  const inodeOf = (/** @type {number} */ fd) => {
    const inode = disk.fds.get(fd);
    if (inode === undefined) throw new Error(`SimDisk: unknown descriptor ${fd}`);
    return inode;
  };
  return {
    mkdir: (dir) => disk.mkdir(dir),
    readdir: (dir) => disk.readdir(dir),
    open: async (file, create) => {
      if (!disk.enter(create ? 'wal.create' : 'wal.open')) return never();
      const name = disk.rel(file);
      const inode = create ? disk.createOrTruncate(name) : disk.names.get(name);
      if (inode === undefined) throw Object.assign(new Error(`ENOENT: open ${file}`), { code: 'ENOENT' });
      const fd = fs.openSync(file, create ? 'w+' : 'r+');
      disk.fds.set(fd, inode);
      await disk.complete();
      return fd;
    },
    close: async (fd) => {
      if (!disk.enter('wal.close')) return never();
      disk.fds.delete(fd);
      fs.closeSync(fd);
      await disk.complete();
    },
    size: async (fd) => {
      if (!disk.enter('wal.size')) return never();
      const inode = inodeOf(fd);
      const size = inode.map?.length ?? fs.fstatSync(fd).size;
      await disk.complete();
      return size;
    },
    write: async (fd, data, position) => {
      if (!disk.enter('wal.write')) return never();
      const inode = inodeOf(fd);
      if (inode.map !== null) inode.map.set(data, position);
      else fs.writeSync(fd, data, 0, data.length, position);
      await disk.complete();
    },
    writeSync: (fd, data, position) => disk.writeNow(inodeOf(fd), fd, data, position),
    read: async (fd, into, position) => {
      if (!disk.enter('wal.read')) return never();
      const n = fs.readSync(fd, into, 0, into.length, position);
      await disk.complete();
      return n;
    },
    fdatasync: (fd) => disk.syncInode(inodeOf(fd), 'wal.fdatasync'),
    fsyncDir: (dir) => disk.fsyncDir(dir),
    rename: (from, to) => disk.rename(from, to),
    unlink: (file) => disk.unlink(file),
    map: (fd, size) => {
      if (disk.crashed) throw new Error('SimDisk: the power is off');
      const inode = inodeOf(fd);
      const buf = Buffer.alloc(size);
      fs.readSync(fd, buf, 0, size, 0);
      inode.map = buf;
      return buf;
    },
  };
}

/** @param {SimDisk} disk @returns {import('@kv/sstable').TableFs} */
export function simTableFs(disk) {
  return {
    async open(file, mode) {
      if (!disk.enter(`table.open-${mode}`)) return never();
      const name = disk.rel(file);
      const inode = mode === 'write' ? disk.createOrTruncate(name) : disk.names.get(name);
      if (inode === undefined) throw Object.assign(new Error(`ENOENT: open ${file}`), { code: 'ENOENT' });
      const fd = fs.openSync(file, mode === 'write' ? 'w' : 'r');
      await disk.complete();
      let closed = false;
      return {
        async write(bytes, position) {
          if (!disk.enter('table.write')) return never();
          fs.writeSync(fd, bytes, 0, bytes.length, position);
          await disk.complete();
        },
        fsync: () => disk.syncInode(inode, 'table.fsync'),
        async stat() {
          if (!disk.enter('table.stat')) return never();
          const size = fs.fstatSync(fd).size;
          await disk.complete();
          return { size };
        },
        map(size) {
          if (disk.crashed) throw new Error('SimDisk: the power is off');
          // Tables are immutable once written: a heap copy reads the same as a mapping.
          const buf = Buffer.alloc(size);
          fs.readSync(fd, buf, 0, size, 0);
          return buf;
        },
        async close() {
          if (!disk.enter('table.close')) return never();
          if (!closed) fs.closeSync(fd);
          closed = true;
          await disk.complete();
        },
      };
    },
    rename: (from, to) => disk.rename(from, to),
    unlink: (file) => disk.unlink(file),
    fsyncDir: (dir) => disk.fsyncDir(dir),
  };
}
