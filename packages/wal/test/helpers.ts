import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KvError, KvRecord } from '@kv/record';
import { expect } from 'vitest';

export function tempDir(prefix = 'kv-wal-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const rec = (i: number, value = `Val${String(i).padStart(2, '0')}`) =>
  KvRecord.fromStrings(`Key${String(i).padStart(2, '0')}`, value);

export const keys = (recs: readonly KvRecord[]) => recs.map((r) => r.keyString());

export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
}

export async function expectKvError(p: Promise<unknown> | (() => unknown), code: string): Promise<KvError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(KvError);
    expect((err as KvError).code).toBe(code);
    return err as KvError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** Small segments so tests roll over often. */
export const SMALL = { maxSegmentBytes: 64 * 1024 } as const;

/** A tiny deterministic PRNG so every failure names a reproducible seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
