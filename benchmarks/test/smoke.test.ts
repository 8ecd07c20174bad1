import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = path.join(repo, 'benchmarks/dist/cli.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'kv-bench-smoke-'));

interface Report {
  version: number;
  config: { quick: boolean; keyBytes: number; valueBytes: number };
  rows: { id: string; unit: string; values: Record<string, number>; kvToBest: number | null }[];
  runs: { workload: string; target: string; metrics: { id: string; value: number }[]; error?: string }[];
}

function runCli(args: string[]): { stdout: string; report: Report } {
  const json = path.join(scratch, `report-${args.join('_').replace(/[^a-z0-9_-]/gi, '')}.json`);
  const stdout = execFileSync(process.execPath, [cli, ...args, '--json', json], {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { stdout, report: JSON.parse(readFileSync(json, 'utf8')) as Report };
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('bench CLI', () => {
  test('a quick wal-append-none run on kv reports a positive rate as JSON and as a table', () => {
    const { stdout, report } = runCli(['--quick', '--only', 'wal-append-none', '--stores', 'kv']);
    expect(report.version).toBe(1);
    expect(report.config).toMatchObject({ quick: true, keyBytes: 16, valueBytes: 100 });
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0];
    expect(run?.error).toBeUndefined();
    expect(run).toMatchObject({ workload: 'wal-append-none', target: 'kv' });
    expect(run?.metrics[0]?.value).toBeGreaterThan(0);
    const row = report.rows.find((r) => r.id === 'wal-append-none');
    expect(row?.unit).toBe('ops/s');
    expect(row?.values.kv).toBeGreaterThan(0);
    expect(stdout).toContain("WAL append, sync 'none'");
  });

  test('sizes given on the command line reach the workers', () => {
    const args = ['--quick', '--only', 'wal-append-none', '--stores', 'kv', '--key-bytes', '24', '--value-bytes', '10'];
    const { report } = runCli(args);
    expect(report.config).toMatchObject({ keyBytes: 24, valueBytes: 10 });
    expect(report.runs[0]?.metrics[0]?.value).toBeGreaterThan(0);
  });

  test('an unknown workload is refused with the list of workloads', () => {
    expect(() => execFileSync(process.execPath, [cli, '--only', 'nope'], { cwd: repo, stdio: 'pipe' })).toThrow(
      /unknown "nope"/,
    );
  });
});
