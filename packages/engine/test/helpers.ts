import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KvStore, type KvStoreOptions } from '@kv/engine';
import { KvError } from '@kv/record';
import { expect } from 'vitest';
import { seededRandom } from './fixtures/random.mjs';

export function tempDir(prefix = 'kv-engine-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Tiny sizes so every test exercises rotation, flush and compaction. */
export const TINY: KvStoreOptions = { memtableBytes: 4096, walSegmentBytes: 64 * 1024, runsPerLevel: 2, maxLevels: 4 };

export const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));

export function entries(db: KvStore, options = {}): [string, string][] {
  return [...db.iterator(options)].map(([k, v]) => [text(k) as string, text(v) as string]);
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

/** The crash-test children's PRNG, so a test and a child given one seed draw the same numbers. */
export const prng = seededRandom;

const openStores: KvStore[] = [];

/** Opens a store (TINY options unless overridden) that `closeOpenStores` will close. */
export async function openStore(dir = tempDir(), options: KvStoreOptions = {}): Promise<KvStore> {
  const db = await KvStore.open(dir, { ...TINY, ...options });
  openStores.push(db);
  return db;
}

/** For afterEach: closes every store `openStore` opened, ignoring errors of failed ones. */
export async function closeOpenStores(): Promise<void> {
  for (const db of openStores.splice(0)) await db.close().catch(() => {});
}
