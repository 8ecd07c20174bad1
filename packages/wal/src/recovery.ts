import * as path from 'node:path';
import { ioError, KvError } from '@kv/record';
import { codecFor } from './entry-codec.js';
import { decodeSegmentHeader, FRAME_ALIGN, type FrameView, probeFrame, SEGMENT_HEADER_BYTES } from './format.js';
import { realFs, type WalFs } from './fs.js';
import type { ResolvedWalOptions } from './options.js';
import { Segment } from './segment.js';
import { spareFileName } from './segment-file.js';
import { type VerifiedFrames, VERIFY_THREAD_MIN_BYTES, VerifyThread } from './verify-thread.js';
import { lastNonZero } from './zeros.js';

export interface TornTail {
  segment: string;
  offset: number;
  reason: string;
  /** Bytes wiped, from `offset` to the last non-zero byte. */
  bytesDiscarded: number;
  /** Checksum-valid frames found in the discarded bytes (written, never acknowledged as synced). */
  framesDiscarded: number;
}

export interface TruncationReport {
  segment: string;
  offset: number;
  reason: string;
  /** Index of the first entry that was not kept. */
  firstDroppedIndex: number;
  segmentsDropped: string[];
}

export interface RecoveryReport {
  mode: ResolvedWalOptions['recoveryMode'];
  segments: number;
  entries: number;
  /** Bytes of valid frames scanned. */
  bytes: number;
  durationMs: number;
  /** A torn last write that was cut away (normal after a crash). */
  tornTail: TornTail | null;
  /** Set only in 'truncate' mode, when corruption was found and everything after it dropped. */
  truncated: TruncationReport | null;
  /** Leftover files removed: unfinished segment creations and superseded segments. */
  removed: string[];
  /** Segments whose frames a worker thread verified (WalOptions.verifyThread). */
  verifiedByThread: number;
}

const SEGMENT_RE = /^(.+)-(\d{20})\.log(\.tmp)?$/;

interface Found {
  file: string;
  id: number;
  temp: boolean;
}

/** Segment files of log `name` in `dir`, by id, and whether a prepared next segment was left. */
async function listSegments(dir: string, name: string, fs: WalFs): Promise<{ found: Found[]; spareLeft: boolean }> {
  const found: Found[] = [];
  let spareLeft = false;
  let files: string[];
  try {
    files = await fs.readdir(dir);
  } catch (err) {
    throw ioError(`listing WAL directory ${dir}`, err);
  }
  for (const file of files) {
    if (file === spareFileName(name)) spareLeft = true;
    const m = SEGMENT_RE.exec(file);
    if (m === null || m[1] !== name) continue;
    found.push({ file, id: Number(m[2]), temp: m[3] !== undefined });
  }
  return { found: found.sort((a, b) => a.id - b.id), spareLeft };
}

/** Candidate frames after a bad one: is there a valid frame the writer had seen synced past `at`? */
function laterFrames(seg: Segment, at: number, expected: number): { claimsSynced: FrameView | null; count: number } {
  const end = lastNonZero(seg.map, at, seg.map.length) + 1;
  let count = 0;
  for (let p = at + FRAME_ALIGN; p < end; p += FRAME_ALIGN) {
    const probe = probeFrame(seg.map, p, seg.map.length, seg.id);
    if (typeof probe !== 'object' || probe.firstIndex < expected) continue;
    if (probe.syncedThrough > at) return { claimsSynced: probe, count: count + 1 };
    count++;
  }
  return { claimsSynced: null, count };
}

async function openSegment(
  dir: string,
  f: Found,
  fs: WalFs,
  mode: ResolvedWalOptions['recoveryMode'],
): Promise<Segment> {
  const file = path.join(dir, f.file);
  let fd: number;
  let size: number;
  try {
    fd = await fs.open(file, false);
    size = await fs.size(fd);
  } catch (err) {
    throw ioError(`opening WAL segment ${f.file}`, err);
  }
  if (size < SEGMENT_HEADER_BYTES) {
    await fs.close(fd).catch(() => {});
    throw new KvError('KV_CORRUPTION', `WAL segment ${f.file} is ${size} bytes, shorter than its header`);
  }
  const map = fs.map(fd, size);
  const header = decodeSegmentHeader(map.subarray(0, SEGMENT_HEADER_BYTES), f.file);
  if (header.id !== f.id) {
    throw new KvError('KV_CORRUPTION', `WAL segment ${f.file} says it is segment ${header.id}: misplaced file`);
  }
  // Segments are preallocated and never shrunk, so no crash makes one shorter.
  if (mode === 'strict' && header.segmentBytes > 0 && size < header.segmentBytes) {
    throw new KvError(
      'KV_CORRUPTION',
      `WAL segment ${f.file} was truncated to ${size} of its ${header.segmentBytes} bytes; reopen with recoveryMode 'truncate' to keep what remains`,
    );
  }
  return new Segment(f.file, file, header, fd, map, codecFor(header.codec));
}

/**
 * Opens every segment and verifies every frame (see FORMAT.md, "Recovery"). Returns the live
 * segments in order with their entries indexed, the last one ready for appends.
 */
export async function recover(
  dir: string,
  opts: ResolvedWalOptions,
): Promise<{ segments: Segment[]; report: RecoveryReport }> {
  const started = performance.now();
  const fs = opts.fs;
  const report: RecoveryReport = {
    mode: opts.recoveryMode,
    segments: 0,
    entries: 0,
    bytes: 0,
    durationMs: 0,
    tornTail: null,
    truncated: null,
    removed: [],
    verifiedByThread: 0,
  };
  const { found, spareLeft } = await listSegments(dir, opts.name, fs);
  try {
    for (const f of found.filter((x) => x.temp)) {
      await fs.unlink(path.join(dir, f.file));
      report.removed.push(f.file);
    }
    if (spareLeft) {
      await fs.unlink(path.join(dir, spareFileName(opts.name)));
      report.removed.push(spareFileName(opts.name));
    }
  } catch (err) {
    throw ioError(`removing an unfinished WAL segment in ${dir}`, err);
  }
  const opened: Segment[] = [];
  try {
    for (const f of found.filter((x) => !x.temp)) opened.push(await openSegment(dir, f, fs, opts.recoveryMode));
  } catch (err) {
    await Promise.all(opened.map((s) => fs.close(s.fd).catch(() => {})));
    throw err;
  }

  // A later segment whose first index is at or below an earlier one's entries supersedes
  // them: that is how truncate() and resetLastSegment() drop entries atomically.
  const limits: number[] = new Array(opened.length);
  let minLaterFirst = Number.POSITIVE_INFINITY;
  for (let k = opened.length - 1; k >= 0; k--) {
    limits[k] = minLaterFirst - 1;
    minLaterFirst = Math.min(minLaterFirst, (opened[k] as Segment).firstIndex);
  }

  const helper = startVerifyThread(opened, limits, opts);
  try {
    return await verifySegments(dir, opened, limits, opts, report, started, helper);
  } finally {
    await helper?.close();
  }
}

/**
 * A thread verifying sealed segments (all but the last, superseded ones left out) from the
 * last one back, when `opts.verifyThread` asks for one; null otherwise. The first is left to
 * the opening thread, which starts there.
 */
function startVerifyThread(opened: Segment[], limits: number[], opts: ResolvedWalOptions): VerifyThread | null {
  if (opts.verifyThread === 'never' || opts.fs !== realFs) return null;
  const sealed: number[] = [];
  let bytes = 0;
  for (let k = 0; k < opened.length - 1; k++) {
    const seg = opened[k] as Segment;
    if ((limits[k] as number) < seg.firstIndex) continue;
    sealed.push(k);
    bytes += seg.map.length;
  }
  if (sealed.length === 0 || (opts.verifyThread === 'auto' && bytes < VERIFY_THREAD_MIN_BYTES)) return null;
  let helper: VerifyThread;
  try {
    helper = new VerifyThread();
  } catch {
    return null; // no thread: the opening thread verifies every segment itself
  }
  const backwards = opts.verifyThread === 'always' ? sealed.slice().reverse() : sealed.slice(1).reverse();
  for (const k of backwards) {
    const seg = opened[k] as Segment;
    helper.submit(k, seg.path, seg.id, seg.map.length);
  }
  return helper;
}

async function verifySegments(
  dir: string,
  opened: Segment[],
  limits: number[],
  opts: ResolvedWalOptions,
  report: RecoveryReport,
  started: number,
  helper: VerifyThread | null,
): Promise<{ segments: Segment[]; report: RecoveryReport }> {
  const fs = opts.fs;
  const live: Segment[] = [];
  const drop = async (s: Segment) => {
    await fs.close(s.fd).catch(() => {});
    await fs.unlink(s.path).catch((err) => {
      throw ioError(`removing WAL segment ${s.file}`, err);
    });
    report.removed.push(s.file);
  };
  for (let k = 0; k < opened.length; k++) {
    const seg = opened[k] as Segment;
    const limit = limits[k] as number;
    if (limit < seg.firstIndex && k < opened.length - 1) {
      await drop(seg);
      continue;
    }
    const prev = live.at(-1);
    if (prev !== undefined && seg.firstIndex > prev.lastIndex + 1) {
      const reason = `entries ${prev.lastIndex + 1}..${seg.firstIndex - 1} are missing between ${prev.file} and ${seg.file} (a segment was deleted or lost)`;
      if (opts.recoveryMode === 'strict') throw new KvError('KV_CORRUPTION', `WAL ${reason}`);
      report.truncated = {
        segment: seg.file,
        offset: 0,
        reason,
        firstDroppedIndex: prev.lastIndex + 1,
        segmentsDropped: [],
      };
      for (const rest of opened.slice(k)) {
        await drop(rest);
        report.truncated.segmentsDropped.push(rest.file);
      }
      break;
    }
    const isLast = k === opened.length - 1;
    const verified = helper === null ? null : opts.verifyThread === 'always' ? await helper.wait(k) : helper.take(k);
    if (verified !== null) report.verifiedByThread++;
    const problem = scanFrames(seg, limit, report, verified);
    live.push(seg);
    if (problem === null) continue;
    const { at, reason } = problem;
    const after = laterFrames(seg, at, seg.lastIndex + 1);
    if (isLast && after.claimsSynced === null) {
      // Torn tail: written but never acknowledged as synced. Wipe it before appending.
      const end = lastNonZero(seg.map, at, seg.map.length) + 1;
      report.tornTail = {
        segment: seg.file,
        offset: at,
        reason,
        bytesDiscarded: end - at,
        framesDiscarded: after.count,
      };
      continue;
    }
    const where = `WAL segment ${seg.file} at offset ${at}: ${reason}`;
    if (opts.recoveryMode === 'strict') {
      const why = isLast
        ? `valid frames follow at offset ${after.claimsSynced?.at} that were written after this one was synced`
        : 'it is not the last segment, so this is not a torn write';
      throw new KvError(
        'KV_CORRUPTION',
        `${where}; ${why}. Reopen with recoveryMode 'truncate' to keep what precedes it`,
      );
    }
    report.truncated = {
      segment: seg.file,
      offset: at,
      reason,
      firstDroppedIndex: seg.lastIndex + 1,
      segmentsDropped: [],
    };
    for (const rest of opened.slice(k + 1)) {
      await drop(rest);
      report.truncated.segmentsDropped.push(rest.file);
    }
    break;
  }
  if (report.removed.length > 0)
    await fs.fsyncDir(dir).catch((err) => {
      throw ioError(`syncing WAL directory ${dir}`, err);
    });
  report.segments = live.length;
  report.entries = live.reduce((n, s) => n + s.count, 0);
  report.durationMs = performance.now() - started;
  return { segments: live, report };
}

/**
 * Indexes the valid frames of `seg` up to entry `limit`. Returns null when the data ends
 * cleanly (a zero header, the file end, or the limit), else where and why it stopped. Frames
 * whose checksums the verify thread checked (`verified`) are not hashed again.
 */
function scanFrames(
  seg: Segment,
  limit: number,
  report: RecoveryReport,
  verified: VerifiedFrames | null,
): { at: number; reason: string } | null {
  let at = SEGMENT_HEADER_BYTES;
  const size = seg.map.length;
  for (;;) {
    const expected = seg.lastIndex + 1;
    if (expected > limit) return null;
    const probe = verified === null ? probeFrame(seg.map, at, size, seg.id) : verified.probe(seg.map, at, seg.id);
    if (probe === 'end') {
      // Zeros where a frame would be: the end, unless frames follow (checked by the caller).
      return lastNonZero(seg.map, at, size) < at ? null : { at, reason: 'zeroed frame header' };
    }
    if (typeof probe === 'string') return { at, reason: probe };
    if (probe.firstIndex !== expected)
      return { at, reason: `frame holds index ${probe.firstIndex}, ${expected} expected` };
    const bad = seg.adoptFrame(probe, limit - expected + 1);
    if (bad !== undefined) return { at, reason: bad };
    report.bytes += probe.end - probe.at;
    at = probe.end;
  }
}
