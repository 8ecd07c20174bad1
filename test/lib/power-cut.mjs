/**
 * What survives a power cut, as arithmetic on what the SimDisk recorded: directory operations
 * applied to a namespace, and a file's bytes from its synced and its current content.
 */

/** @typedef {import('./sim-disk.mjs').Inode} Inode */
/** @typedef {import('./sim-disk.mjs').DirOp} DirOp */
/** @typedef {import('./sim-disk.mjs').CrashMode} CrashMode */
/** @typedef {import('./sim-disk.mjs').CrashReport} CrashReport */

const SECTOR = 512;

/**
 * What of a file reached the disk at a cut: synced bytes always; each unsynced sector old, new
 * or garbled (only the bytes that changed: a sector's synced bytes stay); an unsynced size
 * change kept or lost.
 * @param {Buffer} old content as of the last completed sync
 * @param {Buffer} now content in the page cache
 * @param {CrashMode} mode
 * @param {import('./rng.mjs').Rng} rng
 * @param {CrashReport} report counts what happened
 */
export function persisted(old, now, mode, rng, report) {
  if (old.equals(now)) return Buffer.from(old);
  let size = now.length;
  if (old.length !== now.length && (mode === 'drop' || rng.chance(0.5))) {
    const lo = Math.min(old.length, now.length);
    const hi = Math.max(old.length, now.length);
    size = mode === 'drop' || rng.chance(0.5) ? old.length : rng.int(lo, hi);
    report.sizesReverted++;
  }
  const out = Buffer.alloc(size);
  old.copy(out, 0, 0, Math.min(size, old.length));
  for (let at = 0; at < size; at += SECTOR) {
    const end = Math.min(at + SECTOR, size);
    const was = padded(old, at, end);
    const is = padded(now, at, end);
    if (was.equals(is)) continue;
    const r = mode === 'drop' ? 1 : rng.next();
    if (r < (mode === 'garble' ? 0.35 : 0.5)) {
      is.copy(out, at);
      report.sectorsKept++;
    } else if (mode === 'garble' && r < 0.7) {
      for (let i = 0; i < is.length; i++) out[at + i] = was[i] === is[i] ? (was[i] ?? 0) : rng.int(0, 255);
      report.sectorsGarbled++;
    } else {
      was.copy(out, at);
      report.sectorsDropped++;
    }
  }
  return out;
}

/** @param {Map<string, Inode>} names @param {Set<string>} dirs @param {DirOp} op */
export function applyDirOp(names, dirs, op) {
  if (op.kind === 'create') names.set(op.name, op.inode);
  else if (op.kind === 'rename') {
    names.delete(op.from);
    names.set(op.to, op.inode);
  } else if (op.kind === 'unlink') names.delete(op.name);
  else dirs.add(op.name);
}

/** A directory is in the image only if it and every ancestor survived. */
export function reachable(/** @type {string} */ dir, /** @type {Set<string>} */ dirs) {
  for (let d = dir; d !== ''; d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '') {
    if (!dirs.has(d)) return false;
  }
  return true;
}

/** Bytes [at, end) of buf, zero-filled past its end. */
function padded(/** @type {Buffer} */ buf, /** @type {number} */ at, /** @type {number} */ end) {
  const out = Buffer.alloc(end - at);
  if (at < buf.length) buf.copy(out, 0, at, Math.min(end, buf.length));
  return out;
}
