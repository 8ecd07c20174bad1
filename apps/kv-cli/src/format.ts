/**
 * Binary-safe display of keys and values, and tables.
 *
 * A key or value is shown as text when it is valid UTF-8 without control characters;
 * otherwise as a 0x-prefixed hex literal (the same syntax the commands accept). Text that
 * could be misread — empty, "(nil)", starting with 0x or x', or with spaces at either end —
 * is shown in double quotes, so every shown value reads back as the same bytes. The one
 * exception is a sketch (hll, cms), shown as a summary: `(HyperLogLog sketch, 4101 bytes; ...)`.
 */
import { createRequire } from 'node:module';
import type CliTable from 'cli-table3';
import type { Colors, Output } from './output.js';

// Loaded on first use: only terminals get tables, and it is slow to load.
const lazyRequire = createRequire(import.meta.url);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators.
const UNPRINTABLE = /[\p{Cc}\u2028\u2029]/u;
// The last alternatives are what a sketch's summary starts with (see sketchSummary).
const AMBIGUOUS = /^(?:$|\(nil\)$|0x|x'|\s|.*\s$|\((?:HyperLogLog|Count-Min) sketch,)/is;

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

/** The kinds of sketch value the engine stores (RecordType.HyperLogLog, RecordType.CountMinSketch). */
export type SketchKind = 'HyperLogLog' | 'CountMinSketch';

const HLL_MAGIC = [0x48, 0x4c, 0x4c, 0x31]; // "HLL1", then the precision p and 2^p registers
const CMS_PREFIX = Buffer.from('{"type":"CountMinSketch"');

/**
 * The sketch a value's bytes look like, judged by their shape only: `get` returns bytes
 * without the record type, so a plain value could look the same (see storedKind for the check).
 */
export function sketchShape(bytes: Uint8Array): SketchKind | undefined {
  if (bytes.length > 5 && HLL_MAGIC.every((b, i) => bytes[i] === b)) {
    const p = bytes[4] as number;
    if (p >= 4 && p <= 16 && bytes.length === 5 + 2 ** p) return 'HyperLogLog';
  }
  if (bytes.length > CMS_PREFIX.length && CMS_PREFIX.equals(bytes.subarray(0, CMS_PREFIX.length))) {
    return 'CountMinSketch';
  }
  return undefined;
}

/** What get, scan and tail show for a sketch instead of its serialized bytes. */
export function sketchSummary(kind: SketchKind, byteLength: number, c: Colors, max = Number.POSITIVE_INFINITY): string {
  const text =
    kind === 'HyperLogLog'
      ? `(HyperLogLog sketch, ${byteLength} bytes; use hll count)`
      : `(Count-Min sketch, ${byteLength} bytes; use cms query)`;
  return c.magenta(truncate(text, max));
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
