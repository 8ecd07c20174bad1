import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvError } from '@kv/record';

/** A mistake in what the user typed. The message says what was wrong and what to do instead. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** The pid written in the store's lock file, if it can be read. */
function lockHolder(dir: string, message: string): string | undefined {
  const fromMessage = /process (\d+)/.exec(message)?.[1];
  if (fromMessage !== undefined) return fromMessage;
  try {
    return fs.readFileSync(path.join(dir, 'LOCK'), 'utf8').trim().split(' ')[0] || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The one line (without the "error: " prefix) that reports `err`. `dir` is the data directory
 * as the user gave it, so messages name it the way they typed it.
 */
export function errorLine(err: unknown, dir: string): string {
  if (err instanceof CliError) return err.message;
  if (err instanceof KvError) {
    if (err.code === 'KV_LOCKED') {
      const pid = lockHolder(dir, err.message);
      const who = pid === undefined ? 'another process' : `process ${pid}`;
      return `${dir} is in use by ${who} (KV_LOCKED); close it there first`;
    }
    // The engine names its option; say how to set it from here.
    const hint = err.message.includes("recoveryMode 'truncate'") ? ' (kv-cli --recovery truncate)' : '';
    return `${err.message} (${err.code})${hint}`;
  }
  if (err instanceof TypeError || err instanceof RangeError) return err.message;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof Error && typeof code === 'string') return `${err.message} (${code})`;
  return `unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}
