/**
 * Read-only views of the store's write-ahead log: its segments, its entries, and a checksum
 * pass over all of them. Nothing here writes to the log.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvError, type KvRecord, RecordType } from '@kv/record';
import type { Command } from './command.js';
import { CliError } from './errors.js';
import { humanBytes, printTable, showBytes, sketchSummary } from './format.js';
import { breathe, type Session } from './session.js';

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const SEGMENT_FILE = /^wal-\d{20}\.log$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Segment files on disk, oldest first; they line up with the live segments after open. */
function segmentFiles(s: Session): string[] {
  const dir = path.join(s.dir, 'wal');
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => SEGMENT_FILE.test(f))
      .sort();
  } catch {
    return [];
  }
}

const segments: Command = {
  name: 'wal segments',
  usage: 'wal segments',
  summary: 'list the live WAL segments: file, index range, entries, size',
  arity: [0, 0],
  run(s) {
    const wal = s.store.wal;
    const count = wal.segmentCount;
    const files = segmentFiles(s);
    const named = files.length === count;
    const rows: string[][] = [];
    let first = wal.stats().firstIndex;
    for (let i = 0; i < count; i++) {
      const entries = wal.readSegmentAt(i).length;
      const file = named ? (files[i] as string) : '?';
      let size = '?';
      if (named) {
        try {
          const bytes = fs.statSync(path.join(s.dir, 'wal', file)).size;
          size = s.out.tty ? humanBytes(bytes) : String(bytes);
        } catch {
          // Removed by a flush between readdir and stat: leave the size unknown.
        }
      }
      const last = first + entries - 1;
      rows.push([String(i), file, String(first), entries === 0 ? '-' : String(last), String(entries), size]);
      first = last + 1;
    }
    printTable(s.out, ['#', 'file', 'first', 'last', 'entries', 'size'], rows, { right: [0, 2, 3, 4, 5] });
  },
};

/** A key or value for JSON: its text when it is valid UTF-8, else { hex }. */
export function jsonBytes(bytes: Uint8Array): string | { hex: string } {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return { hex: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') };
  }
}

/** One `wal dump --json` line. The shape is documented in the README; keep it stable. */
export function entryJson(index: number, r: KvRecord): string {
  return JSON.stringify({
    index,
    seq: r.seq,
    op: r.tombstone ? 'del' : 'put',
    key: jsonBytes(r.key),
    value: r.tombstone ? null : jsonBytes(r.value),
    timestamp: r.timestamp,
  });
}

const dump: Command = {
  name: 'wal dump',
  usage: 'wal dump [--json]',
  summary: 'print every WAL entry, oldest first',
  details:
    'Piped: INDEX<tab>SEQ<tab>put|del<tab>KEY<tab>VALUE lines (a sketch as its summary). --json: one\n' +
    'object per line, {"index","seq","op","key","value","timestamp"}; key and value are text, or\n' +
    '{"hex": ...} when not UTF-8; value is null for a delete.\n' +
    'Entries already flushed to tables are gone from the WAL.',
  arity: [0, 0],
  flags: { json: 'switch' },
  async run(s, a) {
    const { out } = s;
    const { c } = out;
    const json = a.flags.has('json');
    let n = 0;
    for (const { index, record: r } of s.store.wal.entries()) {
      const op = r.tombstone ? 'del' : 'put';
      let value = r.tombstone ? '' : showBytes(r.value, c);
      if (r.type === RecordType.HyperLogLog) value = sketchSummary('HyperLogLog', r.value.length, c);
      if (r.type === RecordType.CountMinSketch) value = sketchSummary('CountMinSketch', r.value.length, c);
      if (json) out.print(entryJson(index, r));
      else if (!out.tty) out.print([index, r.seq, op, showBytes(r.key, c), value].join('\t'));
      else {
        const when = new Date(r.timestamp).toISOString();
        const opShown = r.tombstone ? c.red(op) : c.green(op);
        out.print(
          `${c.dim(String(index).padStart(6))}  ${c.dim(`seq ${r.seq}`)}  ${opShown}  ${showBytes(r.key, c)}  ${value}  ${c.dim(when)}`,
        );
      }
      if (++n % 1000 === 0) {
        await breathe();
        if (s.interrupted) return;
      }
    }
    if (out.tty && !json) out.print(c.dim(`(${n} ${n === 1 ? 'entry' : 'entries'})`));
  },
};

const verify: Command = {
  name: 'wal verify',
  usage: 'wal verify',
  summary: 'read every WAL entry and check its checksum; report counts or the first corruption',
  arity: [0, 0],
  async run(s) {
    const wal = s.store.wal;
    let puts = 0;
    let dels = 0;
    let lastSeq = 0;
    const { firstIndex, lastIndex } = wal.stats();
    // The entry being read: entries() throws while reading it, before it yields it.
    let at = firstIndex;
    try {
      for (const { index, record } of wal.entries(wal.firstIndex, wal.lastIndex + 1, { verify: true })) {
        if (record.seq <= lastSeq) {
          throw new KvError('KV_CORRUPTION', `entry ${index} has seq ${record.seq}, not above the previous ${lastSeq}`);
        }
        lastSeq = record.seq;
        if (record.tombstone) dels++;
        else puts++;
        at = index + 1;
        if ((puts + dels) % 10_000 === 0) {
          await breathe();
          if (s.interrupted) throw new CliError(`wal verify interrupted at entry ${index}`);
        }
      }
    } catch (err) {
      if (!(err instanceof KvError)) throw err;
      const ok = puts + dels;
      throw new CliError(
        `WAL corrupt at entry ${at}: ${err.message} (${err.code}); the ${count(ok, 'entry', 'entries')} before it ${ok === 1 ? 'is' : 'are'} intact`,
      );
    }
    const n = puts + dels;
    const span = n === 0 ? 'the WAL is empty' : `indices ${firstIndex}..${lastIndex}`;
    const segs = wal.segmentCount;
    s.out.print(
      `OK: ${count(n, 'entry', 'entries')} in ${count(segs, 'segment')} verified (${span}; ${count(puts, 'put')}, ${count(dels, 'delete')})`,
    );
  },
};

export const walCommands: readonly Command[] = [segments, dump, verify];
