import { defineConfig } from 'vitest/config';

/** One vitest run over every workspace member; `--project @kv/wal` runs one of them. */
const members = [
  ['@kv/record', 'packages/record'],
  ['@kv/wal', 'packages/wal'],
  ['@kv/memtable', 'packages/memtable'],
  ['@kv/sstable', 'packages/sstable'],
  ['@kv/engine', 'packages/engine'],
  ['kv-cli', 'apps/kv-cli'],
  ['benchmarks', 'benchmarks'],
  ['integration', 'test'],
] as const;

export default defineConfig({
  test: {
    projects: members.map(([name, dir]) => ({
      test: {
        name,
        include: [`${dir}/test/**/*.test.ts`, ...(dir === 'test' ? ['test/**/*.test.ts'] : [])],
        exclude: ['**/node_modules/**', '**/dist/**'],
        testTimeout: 60_000,
        hookTimeout: 60_000,
      },
    })),
  },
});
