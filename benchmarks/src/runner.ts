/** Starts worker processes and collects their results. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunResult, RunSpec } from './run-spec.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface SpawnOptions {
  timeoutMs: number;
  /** Command and arguments placed before `node worker.js ...` (e.g. strace and its options). */
  wrapper?: readonly string[];
  /** Node options placed before worker.js (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
}

/** Runs `spec` in a fresh node process; a crash, timeout or garbled output becomes an error result. */
export function runWorker(spec: RunSpec, options: SpawnOptions): Promise<RunResult> {
  const wrapper = options.wrapper ?? [];
  const argv = [...wrapper, process.execPath, ...(options.nodeArgs ?? []), WORKER, JSON.stringify(spec)];
  const failed = (error: string): RunResult => ({
    workload: spec.workload,
    target: spec.target,
    metrics: [],
    details: {},
    error,
    wallMs: 0,
  });
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(failed(`could not start ${argv[0]}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as RunResult);
      } catch {
        const why = signal === 'SIGKILL' ? `timed out after ${options.timeoutMs / 1000} s` : `exit ${code ?? signal}`;
        resolve(failed(`worker ${why}; stderr: ${stderr.trim() || '(empty)'}`));
      }
    });
  });
}
