/**
 * Runs one workload against one target in this fresh process and prints its RunResult as one
 * JSON line on stdout (the only thing written there). Usage: node worker.js '<RunSpec JSON>'.
 * A workload with a fill phase first runs it in a child process that exits without closing.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadDriver } from './stores/index.js';
import type { RunResult, RunSpec } from './run-spec.js';
import { now } from './stats.js';
import { findWorkload } from './workloads/index.js';
import type { WorkloadContext } from './workloads/types.js';

async function context(spec: RunSpec): Promise<WorkloadContext> {
  const details: Record<string, number | string> = {};
  const target = spec.target;
  return {
    target,
    config: spec.config,
    dir: spec.dir,
    details,
    ...(spec.fixedOps === undefined ? {} : { fixedOps: spec.fixedOps }),
    async openStore(durable, unflushedBytes) {
      if (target === 'disk') throw new Error('the disk target has no store');
      const driver = await loadDriver(target);
      return driver.open({ dir: spec.dir, durable, ...(unflushedBytes === undefined ? {} : { unflushedBytes }) });
    },
  };
}

function fillInChild(spec: RunSpec): void {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [self, JSON.stringify({ ...spec, phase: 'fill' })], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) {
    throw new Error(`fill phase failed (status ${child.status}): ${child.stderr?.toString().trim().slice(-2000)}`);
  }
}

async function run(spec: RunSpec): Promise<RunResult> {
  const result: RunResult = { workload: spec.workload, target: spec.target, metrics: [], details: {}, wallMs: 0 };
  const start = now();
  try {
    const workload = findWorkload(spec.workload);
    if (workload === undefined) throw new Error(`unknown workload ${spec.workload}`);
    if (spec.target !== 'disk' && workload.needsEngine) {
      const reason = await (await loadDriver(spec.target)).unavailable();
      if (reason !== null) return { ...result, skipped: reason };
    }
    const ctx = await context(spec);
    if (spec.phase === 'fill') {
      await workload.fill?.(ctx);
      process.exit(0); // Without closing anything: the next process finds what a crash leaves.
    }
    if (workload.fill !== undefined) fillInChild(spec);
    result.metrics = await workload.run(ctx);
    result.details = ctx.details;
  } catch (err) {
    result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  }
  result.wallMs = now() - start;
  return result;
}

const spec = JSON.parse(process.argv[2] ?? 'null') as RunSpec | null;
if (spec === null) {
  process.stderr.write("usage: node worker.js '<RunSpec JSON>'\n");
  process.exit(2);
}
const result = await run(spec);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.error === undefined ? 0 : 1);
