import * as path from 'node:path';
import { ioError } from '@kv/record';
import type { EntryCodec } from './entry-codec.js';
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES } from './format.js';
import type { ResolvedWalOptions } from './options.js';
import { Segment, segmentFileName } from './segment.js';
import { lastNonZero } from './zeros.js';

const ZERO_CHUNK = new Uint8Array(1024 * 1024);

/** Preallocates a segment by writing it in full under a temporary name, then renames it. */
export async function createSegment(
  dir: string,
  opts: ResolvedWalOptions,
  id: number,
  firstIndex: number,
  codec: EntryCodec,
): Promise<Segment> {
  const fs = opts.fs;
  const file = segmentFileName(opts.name, id);
  const final = path.join(dir, file);
  const temp = `${final}.tmp`;
  const size = opts.maxSegmentBytes;
  let fd = -1;
  try {
    fd = await fs.open(temp, true);
    await fs.write(
      fd,
      encodeSegmentHeader({ id, firstIndex, codec: codec.id, createdAt: Date.now(), segmentBytes: size }),
      0,
    );
    for (let pos = SEGMENT_HEADER_BYTES; pos < size; pos += ZERO_CHUNK.length) {
      await fs.write(fd, ZERO_CHUNK.subarray(0, Math.min(ZERO_CHUNK.length, size - pos)), pos);
    }
    await fs.fdatasync(fd);
    await fs.rename(temp, final);
    await fs.fsyncDir(dir);
  } catch (err) {
    if (fd >= 0) await fs.close(fd).catch(() => {});
    await fs.unlink(temp).catch(() => {});
    throw ioError(`creating WAL segment ${file}`, err);
  }
  const header = { id, firstIndex, codec: codec.id, createdAt: 0, segmentBytes: size };
  return new Segment(file, final, header, fd, fs.map(fd, size), codec);
}

/** Wipes whatever follows the last good frame of the tail segment and makes it durable. */
export async function prepareTail(seg: Segment, opts: ResolvedWalOptions): Promise<void> {
  const end = lastNonZero(seg.map, seg.writeOffset, seg.map.length);
  if (end >= seg.writeOffset) seg.map.fill(0, seg.writeOffset, end + 1);
  try {
    await opts.fs.fdatasync(seg.fd);
  } catch (err) {
    throw ioError(`syncing WAL segment ${seg.file} after recovery`, err);
  }
  seg.syncedOffset = seg.writeOffset;
}
