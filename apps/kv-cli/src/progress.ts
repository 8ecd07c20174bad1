import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';
import type { Output } from './output.js';

// Loaded on first use: only terminals get progress bars.
const lazyRequire = createRequire(import.meta.url);

export interface Progress {
  update(value: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr, or undefined when output is not a terminal (piped output gets no
 * bar at all). `format` is a cli-progress format, e.g. 'loading [{bar}] {value}/{total} rows'.
 */
export function progressBar(out: Output, format: string, total: number): Progress | undefined {
  if (!out.tty || process.stderr.isTTY !== true || total === 0) return undefined;
  const cliProgress = lazyRequire('cli-progress') as typeof CliProgress;
  const bar = new cliProgress.SingleBar(
    { format, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
