/**
 * `load FILE.csv`: replays one of nakevaleng's test workloads. Each row is
 *
 *   user,op,key,value      op: P put, G get, D delete (value may be left out for G and D)
 *
 * Fields may be double-quoted ("a,b" and "say ""hi"""). A first row whose op is not P, G or D
 * is taken as a header. The whole file is checked before anything is written, so a bad row
 * changes nothing. Runs of consecutive writes go to the store as batches of up to
 * LOAD_BATCH_ROWS, in file order, so a get always sees every write before it.
 */
import * as fs from 'node:fs/promises';
import type { BatchOperation } from '@kv/engine';
import { checkRecordLimits, DEFAULT_RECORD_LIMITS, KvRecord } from '@kv/record';
import { arg, type Command } from './command.js';
import { CliError } from './errors.js';
import { printTable } from './format.js';
import { progressBar } from './progress.js';

export const LOAD_BATCH_ROWS = 1000;

interface Row {
  line: number;
  op: 'P' | 'G' | 'D';
  key: Uint8Array;
  value: Uint8Array;
}

const encoder = new TextEncoder();

/** Splits one CSV line into fields; `where` (file:line) starts error messages. */
export function csvFields(text: string, where: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new CliError(`${where}: a quoted field is not closed`);
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break;
          i++;
        }
        field += text[i];
        i++;
      }
      i++;
      if (i < text.length && text[i] !== ',') throw new CliError(`${where}: text after a closing quote`);
    } else {
      const end = text.indexOf(',', i);
      field = text.slice(i, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/** Parses and checks a whole workload; throws CliError naming the first bad row as FILE:LINE. */
export function parseWorkload(text: string, file: string): { rows: Row[]; users: number; header: boolean } {
  const rows: Row[] = [];
  const users = new Set<string>();
  let header = false;
  const lines = text.split(/\r?\n/);
  for (let n = 1; n <= lines.length; n++) {
    const raw = lines[n - 1] as string;
    if (raw.trim() === '') continue;
    const at = `${file}:${n}`;
    const f = csvFields(raw, at);
    const op = (f[1] ?? '').trim().toUpperCase();
    if (op !== 'P' && op !== 'G' && op !== 'D') {
      if (rows.length === 0 && !header) {
        header = true;
        continue;
      }
      throw new CliError(`${at}: the operation must be P, G or D, got "${f[1] ?? ''}"; rows are user,op,key,value`);
    }
    const min = op === 'P' ? 4 : 3;
    if (f.length < min || f.length > 4) {
      const want = op === 'P' ? 'user,P,key,value' : `user,${op},key`;
      throw new CliError(`${at}: ${f.length} fields, expected ${want} (quote fields that contain commas)`);
    }
    const key = encoder.encode(f[2] as string);
    if (key.length === 0) throw new CliError(`${at}: the key is empty`);
    const value = op === 'P' ? encoder.encode(f[3] as string) : new Uint8Array(0);
    try {
      checkRecordLimits(new KvRecord({ key, value }), DEFAULT_RECORD_LIMITS);
    } catch (err) {
      throw new CliError(`${at}: ${(err as Error).message}`);
    }
    users.add(f[0] as string);
    rows.push({ line: n, op, key, value });
  }
  return { rows, users: users.size, header };
}

async function readWorkload(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(err));
    throw new CliError(`cannot read ${file}: ${why}`);
  }
}

const load: Command = {
  name: 'load',
  usage: 'load FILE.csv',
  summary: 'run a nakevaleng workload (user,P|G|D,key,value rows) and time it',
  details:
    'P puts, G gets (counted as hits or misses), D deletes. The file is checked first: a bad row\n' +
    'is reported with its line number and nothing is written. Consecutive writes are applied in\n' +
    `batches of up to ${LOAD_BATCH_ROWS}. Ends with counts per operation and operations per second.`,
  arity: [1, 1],
  async run(s, a) {
    if (s.pending !== null) throw new CliError('load cannot run inside a batch; batch commit or batch abort first');
    if (s.tx !== null) throw new CliError('load cannot run inside a transaction; tx commit or tx abort first');
    const file = new TextDecoder().decode(arg(a, 0).bytes);
    const { rows, users, header } = parseWorkload(await readWorkload(file), file);
    const db = s.ops;
    const counts = { P: 0, G: 0, D: 0, hits: 0, misses: 0 };
    const bar = progressBar(s.out, 'loading [{bar}] {percentage}% {value}/{total} rows', rows.length);
    const started = performance.now();
    let done = 0;
    try {
      while (done < rows.length) {
        if (s.interrupted)
          throw new CliError(`load interrupted after ${done} of ${rows.length} rows; those are applied`);
        const row = rows[done] as Row;
        if (row.op === 'G') {
          if (db.get(row.key) === undefined) counts.misses++;
          else counts.hits++;
          counts.G++;
          done++;
        } else {
          const ops: BatchOperation[] = [];
          for (let r = rows[done]; r !== undefined && r.op !== 'G' && ops.length < LOAD_BATCH_ROWS; r = rows[++done]) {
            ops.push(r.op === 'P' ? { type: 'put', key: r.key, value: r.value } : { type: 'del', key: r.key });
            counts[r.op]++;
          }
          await db.batch(ops);
        }
        if (bar !== undefined && (row.op !== 'G' || done % 1000 === 0)) bar.update(done);
      }
    } finally {
      bar?.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const opsPerSec = seconds > 0 ? Math.round(rows.length / seconds) : rows.length;
    const summary: [string, string][] = [
      ['rows', String(rows.length)],
      ['users', String(users)],
      ['puts', String(counts.P)],
      ['gets', String(counts.G)],
      ['hits', String(counts.hits)],
      ['misses', String(counts.misses)],
      ['deletes', String(counts.D)],
      ['seconds', seconds.toFixed(3)],
      ['ops_per_sec', String(opsPerSec)],
    ];
    if (s.out.tty) {
      s.out.print(`loaded ${file}${header ? ' (header row skipped)' : ''}`);
      printTable(s.out, ['', 'count'], summary, { right: [1] });
    } else {
      printTable(s.out, ['', 'count'], summary);
    }
  },
};

export const loadCommands: readonly Command[] = [load];
