import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvRecord } from '@kv/record';
import { type RecoveryMode, Wal, type WalFs } from '@kv/wal';
import { describe, expect, it } from 'vitest';
import { VerifyThread } from '../dist/verify-thread.js';
import { expectKvError, keys, prng, SMALL, segmentFiles, tempDir } from './helpers.js';

const HEADER = 64;

/** A closed log of 6-7 small segments; frames of 1-4 entries with values of 1-300 bytes. */
async function build(): Promise<string> {
  const dir = tempDir('kv-wal-vt-');
  const wal = await Wal.open(dir, { ...SMALL, sync: 'none' });
  const rand = prng(7);
  for (let i = 1; segmentFiles(dir).length < 7; ) {
    const batch: KvRecord[] = [];
    for (let n = 1 + Math.floor(rand() * 4); n > 0; n--, i++) {
      batch.push(KvRecord.fromStrings(`key-${i}`, 'v'.repeat(1 + Math.floor(rand() * 300))));
    }
    await wal.appendBatch(batch);
  }
  await wal.close();
  return dir;
}

/** Offsets where the frames of a segment start. */
function frameStarts(file: string): number[] {
  const buf = fs.readFileSync(file);
  const starts: number[] = [];
  for (let at = HEADER; at + 24 <= buf.length && buf.readUInt32LE(at + 4) !== 0; ) {
    starts.push(at);
    at += (24 + buf.readUInt32LE(at + 4) + 7) & ~7;
  }
  return starts;
}

/**
 * What opening a copy of `dir` gives: its entries and recovery report, or the error. The copy
 * keeps `dir` as it was ('truncate' rewrites the log it opens).
 */
async function outcome(dir: string, verifyThread: 'always' | 'never', recoveryMode: RecoveryMode = 'strict') {
  const copy = tempDir('kv-wal-vt-copy-');
  fs.cpSync(dir, copy, { recursive: true });
  try {
    const wal = await Wal.open(copy, { ...SMALL, recoveryMode, verifyThread });
    const { durationMs: _, verifiedByThread, ...report } = wal.recoveryReport;
    const result = { keys: keys(wal.readAllSegments()), report, lastIndex: wal.lastIndex };
    await wal.close();
    return { result, verifiedByThread };
  } catch (err) {
    return { error: String(err).replaceAll(copy, '<dir>'), verifiedByThread: -1 };
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

function flip(file: string, at: number): void {
  const bytes = fs.readFileSync(file);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  fs.writeFileSync(file, bytes);
}

describe('verifyThread: sealed segments verified by a worker thread at open', () => {
  it('opens to the same entries and report as verifying on the opening thread', async () => {
    const dir = await build();
    const threaded = await outcome(dir, 'always');
    const alone = await outcome(dir, 'never');
    expect(threaded.result).toEqual(alone.result);
    expect(alone.verifiedByThread).toBe(0);
    // All 6 sealed segments; the last segment is the opening thread's.
    expect(threaded.verifiedByThread).toBe(6);
    expect(alone.result?.keys.length).toBeGreaterThan(500);
  });

  it('damage anywhere gives the same error, or the same kept entries in truncate mode', async () => {
    const clean = await build();
    const files = segmentFiles(clean);
    const rand = prng(11);
    const cases: { file: string; at: number; zero: boolean }[] = [];
    for (const f of files) {
      const starts = frameStarts(path.join(clean, f));
      // A byte in a frame header, in a payload, a frame header zeroed (frames follow it).
      for (let j = 0; j < 3; j++) {
        const at = starts[Math.floor(rand() * starts.length)] as number;
        cases.push({ file: f, at: at + Math.floor(rand() * 24), zero: false });
        cases.push({ file: f, at: at + 24 + Math.floor(rand() * 40), zero: false });
      }
      cases.push({ file: f, at: starts[Math.floor(starts.length / 2)] as number, zero: true });
    }
    let errors = 0;
    for (const c of cases) {
      const dir = tempDir('kv-wal-vt-damaged-');
      fs.cpSync(clean, dir, { recursive: true });
      const file = path.join(dir, c.file);
      if (c.zero) {
        const bytes = fs.readFileSync(file);
        bytes.fill(0, c.at, c.at + 24);
        fs.writeFileSync(file, bytes);
      } else flip(file, c.at);
      for (const mode of ['strict', 'truncate'] as const) {
        const threaded = await outcome(dir, 'always', mode);
        const alone = await outcome(dir, 'never', mode);
        const where = `${c.zero ? 'zeroed header' : 'flipped byte'} at ${c.file}:${c.at}, ${mode}`;
        expect(threaded.error, where).toEqual(alone.error);
        expect(threaded.result, where).toEqual(alone.result);
        if (alone.error !== undefined) errors++;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // Damage to a sealed segment fails a strict open; the sweep did hit those.
    expect(errors).toBeGreaterThan(cases.length / 2);
  });

  it('a segment the thread cannot read is left to the opening thread', async () => {
    const thread = new VerifyThread();
    try {
      thread.submit(1, path.join(tempDir(), 'missing.log'), 1, 65536);
      expect(await thread.wait(1)).toBeNull();
      expect(thread.take(1)).toBeNull();
      expect(await thread.wait(2)).toBeNull(); // never submitted
    } finally {
      await thread.close();
    }
  });

  it("a bad verifyThread is KV_INVALID_ARGUMENT; 'always' needs the real file system", async () => {
    const dir = tempDir();
    await expectKvError(Wal.open(dir, { verifyThread: 'sometimes' as 'auto' }), 'KV_INVALID_ARGUMENT');
    const seam: WalFs = { ...(await import('@kv/wal')).realFs };
    await expectKvError(Wal.open(dir, { verifyThread: 'always', fs: seam }), 'KV_INVALID_ARGUMENT');
    expect(fs.readdirSync(dir)).toEqual([]);
    // 'auto' with a seam just verifies on the opening thread.
    const wal = await Wal.open(dir, { ...SMALL, fs: seam });
    expect(wal.recoveryReport.verifiedByThread).toBe(0);
    await wal.close();
  });
});
