import * as path from 'node:path';
import { compareBytes, ioError, KvError } from '@kv/record';
import { type BlockCache, Table } from '@kv/sstable';
import type { ResolvedKvStoreOptions } from './options.js';
import { emptyManifest, type ManifestState, readManifest, tableFileName, writeManifest } from './manifest.js';
import { type Run, type TableHandle, Version } from './version.js';

export const TABLES_DIR = 'tables';
export const WAL_DIR = 'wal';

/**
 * Reads the manifest (creating a fresh store's first), opens every table it names, and removes
 * table files it does not name (leftovers of a flush or compaction cut short by a crash).
 */
async function list(dir: string, fs: ResolvedKvStoreOptions['fs']): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError(`listing ${dir}`, err);
  }
}

export async function loadState(
  dir: string,
  opts: ResolvedKvStoreOptions,
  cache: BlockCache,
): Promise<{ manifest: ManifestState; version: Version; removed: string[] }> {
  const fs = opts.fs;
  const tablesDir = path.join(dir, TABLES_DIR);
  let manifest = await readManifest(dir, fs);
  if (manifest === undefined) {
    // A store is created by writing its MANIFEST first: without one, only segment or table
    // files mean data was lost; empty directories are an interrupted creation.
    const walFiles = (await list(path.join(dir, WAL_DIR), fs)).filter((f) => f.endsWith('.log'));
    const tableFiles = (await list(tablesDir, fs)).filter((f) => f.endsWith('.sst'));
    if (walFiles.length > 0 || tableFiles.length > 0) {
      throw new KvError(
        'KV_CORRUPTION',
        `${path.join(dir, 'MANIFEST')} is missing but the store has data; restore it from a backup`,
      );
    }
    manifest = emptyManifest(opts.maxLevels);
    await writeManifest(dir, manifest, fs);
  }
  try {
    await fs.mkdir(tablesDir);
    await fs.fsyncDir(dir);
  } catch (err) {
    throw ioError(`creating ${tablesDir}`, err);
  }
  while (manifest.levels.length < opts.maxLevels) {
    manifest.levels.push([]);
    manifest.runs.push([]);
  }
  if (manifest.levels.length > opts.maxLevels) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      `the store has ${manifest.levels.length} levels; open it with maxLevels >= ${manifest.levels.length}`,
    );
  }
  const named = new Set(manifest.levels.flat());
  const removed: string[] = [];
  try {
    for (const file of await list(tablesDir, fs)) {
      const id = Number.parseInt(file, 10);
      if (file === tableFileName(id) && named.has(id)) continue;
      await fs.unlink(path.join(tablesDir, file));
      removed.push(file);
    }
    if (removed.length > 0) await fs.fsyncDir(tablesDir);
  } catch (err) {
    throw ioError(`removing unreferenced tables in ${tablesDir}`, err);
  }
  const handles: TableHandle[] = [];
  try {
    const levels: Run[][] = [];
    for (const [i, ids] of manifest.levels.entries()) {
      const level: TableHandle[] = [];
      for (const id of ids) {
        const file = path.join(tablesDir, tableFileName(id));
        const table = await Table.open(
          file,
          opts.tableFs === undefined ? { cache } : { fs: opts.tableFs, cache },
        ).catch((err) => {
          if (err instanceof KvError) throw err;
          throw ioError(`opening table ${file}`, err);
        });
        const handle = { id, table, refs: 0, obsolete: false };
        handles.push(handle);
        level.push(handle);
      }
      levels.push(splitRuns(level, manifest.runs[i] as number[], path.join(dir, 'MANIFEST')));
    }
    const version = new Version(levels);
    version.retain();
    return { manifest, version, removed };
  } catch (err) {
    for (const h of handles) h.table.close();
    throw err;
  }
}

/**
 * Cuts a level's tables into its runs (`lengths` add up to the table count: the manifest
 * decoder checked). A run's tables must hold disjoint, ascending key ranges, as lookups and
 * compaction assume; a manifest that says otherwise is KV_CORRUPTION.
 */
function splitRuns(tables: readonly TableHandle[], lengths: readonly number[], manifest: string): Run[] {
  const runs: Run[] = [];
  let at = 0;
  for (const n of lengths) {
    const run = tables.slice(at, at + n);
    at += n;
    for (let j = 1; j < run.length; j++) {
      const prev = run[j - 1] as TableHandle;
      const next = run[j] as TableHandle;
      if (compareBytes(prev.table.info.maxKey, next.table.info.minKey) >= 0) {
        throw new KvError(
          'KV_CORRUPTION',
          `${manifest}: tables ${prev.id} and ${next.id} are in one run but their key ranges are not ascending and disjoint; the store cannot be opened safely`,
        );
      }
    }
    runs.push(run);
  }
  return runs;
}
