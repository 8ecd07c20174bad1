/**
 * Binary-safe display of keys and values, and tables.
 *
 * A key or value is shown as text when it is valid UTF-8 without control characters;
 * otherwise as a 0x-prefixed hex literal (the same syntax the commands accept). Text that
 * could be misread — empty, "(nil)", starting with 0x or x', or with spaces at either end —
 * is shown in double quotes, so every shown value reads back as the same bytes.
 */
import { createRequire } from 'node:module';
import type CliTable from 'cli-table3';
import type { Colors, Output } from './output.js';

// Loaded on first use: only terminals get tables, and it is slow to load.
const lazyRequire = createRequire(import.meta.url);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators.
const UNPRINTABLE = /[\p{Cc}\u2028\u2029]/u;
const AMBIGUOUS = /^(?:$|\(nil\)$|0x|x'|\s|.*\s$)/is;

/** The bytes as text when they are printable UTF-8, else undefined. */
export function printableText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  return UNPRINTABLE.test(text) ? undefined : text;
}

export function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

/**
 * How a key or value is shown; see the file comment. Hex is coloured so it stands out. `max`
 * shortens the result to that many characters (for table cells), ending it with an ellipsis.
 */
export function showBytes(bytes: Uint8Array, c: Colors, max = Number.POSITIVE_INFINITY): string {
  const text = printableText(bytes);
  if (text === undefined) {
    const head = max === Number.POSITIVE_INFINITY ? bytes : bytes.subarray(0, Math.ceil(max / 2));
    const shown = truncate(hex(head), max);
    return c.yellow(head.length < bytes.length && !shown.endsWith('…') ? `${shown}…` : shown);
  }
  return truncate(AMBIGUOUS.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : text, max);
}

/** Shortens `s` to `max` characters, the last one an ellipsis. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export interface TableOptions {
  /** Columns to right-align on a terminal (numbers). */
  right?: readonly number[];
}

/**
 * A table on a terminal (cli-table3, with a header); tab-separated lines without a header when
 * piped, so scripts can `cut -f`. Cells must not hold tabs or newlines (showBytes never does).
 */
export function printTable(out: Output, head: readonly string[], rows: readonly string[][], opts: TableOptions = {}) {
  if (!out.tty) {
    for (const row of rows) out.print(row.join('\t'));
    return;
  }
  const right = new Set(opts.right ?? []);
  const Table = lazyRequire('cli-table3') as typeof CliTable;
  const table = new Table({
    head: head.map((h) => out.c.bold(out.c.cyan(h))),
    style: { head: [], border: [], compact: true },
    colAligns: head.map((_, i) => (right.has(i) ? 'right' : 'left')),
  });
  for (const row of rows) table.push([...row]);
  out.print(table.toString());
}
