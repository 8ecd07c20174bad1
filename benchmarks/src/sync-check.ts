/**
 * Checks that "durable" means one flush per commit: runs a durable workload under
 * `strace -f -c` for 0 and for N operations and reports the extra fsync/fdatasync/msync calls
 * per operation. Optional: without strace on PATH the report says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunSpec } from './run-spec.js';
import { runWorker } from './runner.js';

const SYNC_CALLS = ['fsync', 'fdatasync', 'msync'];

export interface SyncCheck {
  workload: string;
  target: string;
  ops: number;
  syncsPerOp: number | null;
  error?: string;
}

/** The strace options to use, or null when strace cannot run here. */
export function straceOptions(): string[] | null {
  const base = ['-f', '-c', '-e', `trace=${SYNC_CALLS.join(',')}`];
  const probe = (extra: string[]) =>
    spawnSync('strace', [...extra, ...base, '-o', '/dev/null', 'true'], { stdio: 'ignore' }).status === 0;
  // seccomp-bpf stops only the traced calls, so the rest of the program runs at full speed.
  if (probe(['--seccomp-bpf'])) return ['--seccomp-bpf', ...base];
  return probe([]) ? base : null;
}

/** Sums the calls column of strace -c output for the sync system calls. */
export function parseStraceSummary(text: string): number {
  let calls = 0;
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const name = cols.at(-1);
    if (name === undefined || !SYNC_CALLS.includes(name) || cols.length < 5) continue;
    calls += Number(cols[3]) || 0;
  }
  return calls;
}

async function syncCalls(spec: RunSpec, strace: string[], timeoutMs: number): Promise<number> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'kv-bench-strace-'));
  const out = path.join(scratch, 'summary.txt');
  rmSync(spec.dir, { recursive: true, force: true });
  mkdirSync(spec.dir, { recursive: true });
  try {
    const r = await runWorker(spec, { timeoutMs, wrapper: ['strace', ...strace, '-o', out] });
    if (r.error !== undefined) throw new Error(r.error.split('\n')[0]);
    return parseStraceSummary(readFileSync(out, 'utf8'));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(spec.dir, { recursive: true, force: true });
  }
}

export async function checkSyncs(spec: RunSpec, ops: number, strace: string[], timeoutMs: number): Promise<SyncCheck> {
  const check: SyncCheck = { workload: spec.workload, target: spec.target, ops, syncsPerOp: null };
  try {
    const baseline = await syncCalls({ ...spec, fixedOps: 0 }, strace, timeoutMs);
    const loaded = await syncCalls({ ...spec, fixedOps: ops }, strace, timeoutMs);
    check.syncsPerOp = (loaded - baseline) / ops;
  } catch (err) {
    check.error = err instanceof Error ? err.message : String(err);
  }
  return check;
}
