import * as fs from 'node:fs';
import * as path from 'node:path';
import { Wal } from '@kv/wal';
import { describe, expect, it } from 'vitest';
import { expectKvError, keys, rec, SMALL, segmentFiles, tempDir } from './helpers.js';

const HEADER = 64;

/** A closed WAL with `n` entries, one frame each; returns the dir and frame offsets of the last segment. */
async function build(n: number, options = {}): Promise<{ dir: string; file: string }> {
  const dir = tempDir();
  const wal = await Wal.open(dir, { ...SMALL, ...options });
  for (let i = 1; i <= n; i++) await wal.append(rec(i));
  await wal.close();
  const files = segmentFiles(dir);
  return { dir, file: path.join(dir, files.at(-1) as string) };
}

/** Offsets where the frames of a binary segment start (each frame here is one rec(i)). */
function frameStarts(file: string): number[] {
  const buf = fs.readFileSync(file);
  const starts: number[] = [];
  let at = HEADER;
  while (at + 24 <= buf.length && buf.readUInt32LE(at + 4) !== 0) {
    starts.push(at);
    at += (24 + buf.readUInt32LE(at + 4) + 7) & ~7;
  }
  starts.push(at); // end of data
  return starts;
}

function patch(file: string, at: number, bytes: Uint8Array): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, bytes, 0, bytes.length, at);
  fs.closeSync(fd);
}

/** Inverts the byte at `at`: unlike writing a fixed value, it cannot leave the byte as it was. */
function flip(file: string, at: number): void {
  const [byte] = fs.readFileSync(file).subarray(at, at + 1);
  patch(file, at, Uint8Array.of((byte as number) ^ 0xff));
}

async function reopenKeys(dir: string, options = {}): Promise<{ keys: string[]; wal: Wal }> {
  const wal = await Wal.open(dir, { ...SMALL, ...options });
  return { keys: keys(wal.readAllSegments()), wal };
}

describe('torn tail of the last segment (normal after a crash)', () => {
  it('PartialLastFrame: zeroing from every byte offset of the last two frames keeps exactly the frames before', async () => {
    const { dir, file } = await build(4);
    const starts = frameStarts(file);
    const original = fs.readFileSync(file);
    const from = starts[2] as number;
    const end = starts[4] as number;
    for (let cut = from; cut < end; cut++) {
      fs.writeFileSync(file, original);
      patch(file, cut, new Uint8Array(end - cut));
      const { keys: got, wal } = await reopenKeys(dir);
      const buf = original;
      const dataEnd = (i: number) => (starts[i] as number) + 24 + buf.readUInt32LE((starts[i] as number) + 4);
      const intact = [0, 1, 2, 3].filter((i) => dataEnd(i) <= cut).length;
      expect(got, `cut at ${cut}`).toEqual(['Key01', 'Key02', 'Key03', 'Key04'].slice(0, intact));
      // Zeros from a frame boundary on are a clean end; anything else is a torn tail.
      const cleanEnd = intact === 4 || cut <= (starts[intact] as number);
      expect(wal.recoveryReport.tornTail?.offset).toBe(cleanEnd ? undefined : starts[intact]);
      // New appends continue right after the kept frames and survive another reopen.
      expect(await wal.append(rec(9))).toBe(intact + 1);
      await wal.close();
      const after = await reopenKeys(dir);
      expect(after.keys.at(-1)).toBe('Key09');
      await after.wal.close();
    }
  });

  it('GarbageTail: random bytes over the last frame are cut away and wiped', async () => {
    const { dir, file } = await build(3);
    const starts = frameStarts(file);
    const garbage = Uint8Array.from({ length: 200 }, (_, i) => (i * 131 + 7) & 0xff);
    patch(file, starts[2] as number, garbage);
    const { keys: got, wal } = await reopenKeys(dir);
    expect(got).toEqual(['Key01', 'Key02']);
    expect(wal.recoveryReport.tornTail).toMatchObject({ offset: starts[2], bytesDiscarded: 200 });
    await wal.close();
    const wiped = fs.readFileSync(file).subarray(starts[2] as number, (starts[2] as number) + 200);
    expect(wiped.every((b) => b === 0)).toBe(true);
  });

  it('TruncatedFile: a segment shorter than its preallocated size is KV_CORRUPTION (no crash shrinks one)', async () => {
    const { dir, file } = await build(3);
    const starts = frameStarts(file);
    fs.truncateSync(file, (starts[2] as number) + 10);
    const err = await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
    expect(err.message).toMatch(/truncated to \d+ of its 65536 bytes/);
    fs.truncateSync(file, 64); // back to its header: ten writes must not vanish silently either
    await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
  });

  it("TruncatedFile in recoveryMode 'truncate': opens with the frames that remain", async () => {
    const { dir, file } = await build(3);
    fs.truncateSync(file, (frameStarts(file)[2] as number) + 10);
    const { keys: got, wal } = await reopenKeys(dir, { recoveryMode: 'truncate' });
    expect(got).toEqual(['Key01', 'Key02']);
    await wal.close();
  });
});

describe('corruption of acknowledged data is reported, never dropped silently', () => {
  it('ChecksumMismatch: a flipped bit in any earlier frame of the last segment is KV_CORRUPTION', async () => {
    const { dir, file } = await build(4);
    const starts = frameStarts(file);
    const original = fs.readFileSync(file);
    // Every bit of frames 1..3 (frame 4 is the last: damage there is a torn write).
    for (let at = starts[0] as number; at < (starts[3] as number); at += 3) {
      fs.writeFileSync(file, original);
      const b = original[at] as number;
      patch(file, at, Uint8Array.of(b ^ (1 << (at % 8))));
      const err = await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
      expect(err.message).toContain(path.basename(file));
      expect(err.message).toMatch(/offset \d+/);
    }
  });

  it('a flipped bit in an earlier segment is KV_CORRUPTION naming that segment', async () => {
    const { dir } = await build(6, { maxRecordsPerSegment: 2 });
    const first = path.join(dir, segmentFiles(dir)[0] as string);
    patch(first, HEADER + 40, Uint8Array.of(0x5a));
    const err = await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
    expect(err.message).toContain(segmentFiles(dir)[0]);
    expect(err.message).toContain('not the last segment');
  });

  it('zeroing a whole frame of an earlier segment is detected as a gap', async () => {
    const { dir } = await build(6, { maxRecordsPerSegment: 2 });
    const first = path.join(dir, segmentFiles(dir)[0] as string);
    patch(first, frameStarts(first)[1] as number, new Uint8Array(100));
    await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
  });

  it('MissingSegment: deleting a middle segment is detected', async () => {
    const { dir } = await build(6, { maxRecordsPerSegment: 2 });
    fs.unlinkSync(path.join(dir, segmentFiles(dir)[1] as string));
    const err = await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
    expect(err.message).toMatch(/entries 3\.\.4 are missing/);
  });

  it('MisplacedSegment: a segment renamed to another id is detected', async () => {
    const { dir } = await build(2);
    const [only] = segmentFiles(dir);
    fs.renameSync(path.join(dir, only as string), path.join(dir, 'wal-00000000000000000007.log'));
    const err = await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
    expect(err.message).toMatch(/says it is segment 1/);
  });

  it('BadHeader: a damaged segment header is KV_CORRUPTION', async () => {
    const { dir, file } = await build(2);
    patch(file, 20, Uint8Array.of(0xff));
    await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
    fs.truncateSync(file, 10);
    await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
  });

  it('a failed open leaves the files untouched and the directory unlocked', async () => {
    const { dir, file } = await build(4);
    flip(file, (frameStarts(file)[1] as number) + 30); // a byte of the record's checksum
    const before = fs.readFileSync(file);
    await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    await expectKvError(Wal.open(dir, SMALL), 'KV_CORRUPTION'); // not KV_LOCKED
  });
});

describe("recoveryMode 'truncate'", () => {
  it('keeps everything before the first corrupt frame and reports what it dropped', async () => {
    const { dir } = await build(6, { maxRecordsPerSegment: 2 });
    const files = segmentFiles(dir);
    const second = path.join(dir, files[1] as string);
    flip(second, (frameStarts(second)[1] as number) + 30); // a byte of the record's checksum
    const { keys: got, wal } = await reopenKeys(dir, { recoveryMode: 'truncate' });
    expect(got).toEqual(['Key01', 'Key02', 'Key03']);
    expect(wal.recoveryReport.truncated).toMatchObject({ firstDroppedIndex: 4, segmentsDropped: [files[2]] });
    expect(await wal.append(rec(7))).toBe(4);
    await wal.close();
    expect((await reopenKeys(dir)).keys).toEqual(['Key01', 'Key02', 'Key03', 'Key07']);
  });
});

describe('interrupted housekeeping', () => {
  it('an unfinished segment creation (.tmp) is removed at open', async () => {
    const { dir } = await build(1);
    fs.writeFileSync(path.join(dir, 'wal-00000000000000000002.log.tmp'), Buffer.alloc(100));
    const { keys: got, wal } = await reopenKeys(dir);
    expect(got).toEqual(['Key01']);
    expect(wal.recoveryReport.removed).toEqual(['wal-00000000000000000002.log.tmp']);
    await wal.close();
  });

  it('a crash between writing a superseding segment and deleting the old one resolves to the truncation', async () => {
    const { dir } = await build(4, { maxRecordsPerSegment: 2 });
    const before = segmentFiles(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))] as const);
    const wal = await Wal.open(dir, SMALL);
    await wal.truncate(1);
    await wal.close();
    // Put the deleted files back, as if the crash came before the unlinks.
    for (const [f, bytes] of before) if (!fs.existsSync(path.join(dir, f))) fs.writeFileSync(path.join(dir, f), bytes);
    const { keys: got, wal: again } = await reopenKeys(dir);
    expect(got).toEqual(['Key01']);
    expect(again.recoveryReport.removed.length).toBeGreaterThan(0);
    await again.close();
  });
});

describe('verifying reads', () => {
  it('entries({ verify: true }) finds damage that appears after open; plain reads trust the verified frame', async () => {
    const { dir, file } = await build(3);
    const wal = await Wal.open(dir, SMALL);
    const at = fs.readFileSync(file).indexOf('Key02');
    patch(file, at, Uint8Array.of(0x00));
    expect(() => [...wal.entries(1, 4, { verify: true })]).toThrow(expect.objectContaining({ code: 'KV_CORRUPTION' }));
    expect([...wal.entries()].length).toBe(3);
    await wal.close();
  });
});
