/**
 * `pnpm bench`: runs every workload against every target, each run in a fresh worker process,
 * then prints one table (and optionally JSON and an SVG chart). See ../README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';
import { type CliOptions, parseCli, USAGE } from './args.js';
import { renderChart } from './chart.js';
import { fileSystemOf, machine } from './environment.js';
import { compact } from './format.js';
import { buildRows, renderMarkdown, renderNotes, renderTable } from './report.js';
import type { RunResult, RunSpec } from './run-spec.js';
import { runWorker } from './runner.js';
import { loadDriver } from './stores/index.js';
import { STORE_NAMES, type StoreName } from './stores/types.js';
import { checkSyncs, type SyncCheck, straceOptions } from './sync-check.js';
import { WORKLOADS } from './workloads/index.js';
import type { Target, Workload } from './workloads/types.js';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
/** The durable workloads whose syncs per operation the strace check counts. */
const SYNC_CHECKED = ['durable-put-1', 'wal-durable-1'];

interface Planned {
  workload: Workload;
  target: Target;
}

function plan(opts: CliOptions): Planned[] {
  const runs: Planned[] = [];
  for (const workload of WORKLOADS) {
    if (!opts.workloads.includes(workload.id)) continue;
    for (const target of workload.targets) if (opts.targets.includes(target)) runs.push({ workload, target });
  }
  return runs;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function summary(r: RunResult): string {
  if (r.skipped !== undefined) return pc.yellow(`skipped: ${r.skipped}`);
  if (r.error !== undefined) return pc.red(`error: ${r.error.split('\n')[0]}`);
  const figures = r.metrics.map((m) => `${m.id} ${compact(m.value)} ${m.unit}`).join(', ');
  return `${figures} ${pc.dim(`(${(r.wallMs / 1000).toFixed(1)} s)`)}`;
}

async function runAll(runs: readonly Planned[], opts: CliOptions, root: string, engineMissing: string | null) {
  const results: RunResult[] = [];
  for (const [i, { workload, target }] of runs.entries()) {
    const prefix = `[${i + 1}/${runs.length}] ${workload.id} × ${target}`;
    if (target === 'kv' && workload.needsEngine && engineMissing !== null) {
      results.push({ workload: workload.id, target, metrics: [], details: {}, skipped: engineMissing, wallMs: 0 });
      continue;
    }
    const dir = path.join(root, `${workload.id}-${target}`);
    mkdirSync(dir, { recursive: true });
    const spec: RunSpec = { workload: workload.id, target, config: opts.config, dir };
    const nodeArgs =
      opts.cpuProfDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=${workload.id}-${target}.cpuprofile`];
    const result = await runWorker(spec, { timeoutMs: opts.timeoutMs, nodeArgs });
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    log(`${prefix}: ${summary(result)}`);
    results.push(result);
  }
  return results;
}

async function syncCheck(results: readonly RunResult[], opts: CliOptions, root: string) {
  const candidates = results.filter((r) => SYNC_CHECKED.includes(r.workload) && r.metrics.length > 0);
  if (candidates.length === 0) return { line: null, available: false, checks: [] as SyncCheck[] };
  if (!opts.syncCheck) return { line: 'sync check: skipped (--no-sync-check)', available: false, checks: [] };
  const strace = straceOptions();
  if (strace === null) return { line: 'sync check: strace not available', available: false, checks: [] };
  const checks: SyncCheck[] = [];
  for (const r of candidates) {
    const spec: RunSpec = {
      workload: r.workload,
      target: r.target,
      config: opts.config,
      dir: path.join(root, `sync-check-${r.workload}-${r.target}`),
    };
    const check = await checkSyncs(spec, opts.config.scale.syncCheckOps, strace, opts.timeoutMs);
    log(`sync check ${r.workload} × ${r.target}: ${check.syncsPerOp?.toFixed(2) ?? check.error} syncs/op`);
    checks.push(check);
  }
  const parts = checks.map((c) => {
    const name = `${c.target}${c.workload.startsWith('wal-') ? ' (WAL)' : ''}`;
    if (c.syncsPerOp === null) return `${name} ${pc.red(`failed: ${c.error ?? '?'}`)}`;
    const text = c.syncsPerOp.toFixed(2);
    return `${name} ${c.syncsPerOp >= 0.99 ? pc.green(text) : pc.red(`${text} (not flushed per commit)`)}`;
  });
  const ops = opts.config.scale.syncCheckOps;
  return {
    line: `sync check (strace, fsync+fdatasync+msync per durable put, ${ops} ops): ${parts.join(', ')}`,
    available: true,
    checks,
  };
}

async function main(): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    log(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const startedAt = new Date().toISOString();
  const root = mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'kv-bench-'));
  const fsType = fileSystemOf(root);
  log(`kv benchmarks${opts.config.quick ? ' (quick)' : ''}: data in ${root} (${fsType})`);
  if (fsType === 'tmpfs')
    log(pc.yellow('warning: the data directory is on tmpfs, so sync figures mean nothing; pass --dir'));
  const runs = plan(opts);
  const needsEngine = runs.some((r) => r.target === 'kv' && r.workload.needsEngine);
  const engineMissing = needsEngine ? await (await loadDriver('kv')).unavailable() : null;
  if (engineMissing !== null) log(pc.yellow(`kv: ${engineMissing} — its engine workloads are skipped`));

  let results: RunResult[];
  let sync: Awaited<ReturnType<typeof syncCheck>>;
  try {
    results = await runAll(runs, opts, root, engineMissing);
    sync = await syncCheck(results, opts, root);
  } finally {
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  }

  const rows = buildRows(results);
  const targets = opts.targets.filter((t) => runs.some((r) => r.target === t));
  const notes = renderNotes(results);
  process.stdout.write(`${renderTable(rows, targets)}\n`);
  for (const line of [...notes, ...(sync.line === null ? [] : [sync.line])]) process.stdout.write(`${line}\n`);

  const report = {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machine(),
    fileSystem: fsType,
    config: opts.config,
    targets,
    rows,
    runs: results,
    syncCheck: { available: sync.available, checks: sync.checks },
    notes: notes.map((n) => stripVTControlCharacters(n)),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (opts.json !== undefined) writeFileSync(opts.json, json);
  if (opts.markdown !== undefined) {
    const footer = [...report.notes, ...(sync.line === null ? [] : [stripVTControlCharacters(sync.line)])];
    writeFileSync(opts.markdown, `${renderMarkdown(rows, targets)}\n${footer.map((n) => `${n}  `).join('\n')}\n`);
  }
  if (opts.save) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(path.join(RESULTS_DIR, 'latest.json'), json);
    const stores = STORE_NAMES.filter((s: StoreName) => targets.includes(s));
    const title = `kv benchmarks ${startedAt.slice(0, 10)}${opts.config.quick ? ' (quick)' : ''}: taller is better, best = full height`;
    writeFileSync(path.join(RESULTS_DIR, 'latest.svg'), renderChart(rows, stores, title));
    log(`saved ${path.join(RESULTS_DIR, 'latest.json')} and latest.svg`);
  }
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

process.exitCode = await main();
