// Child of the kill loop: opens the store and runs the random workload until SIGKILL.
// It prints "ready" on stdout once the store is open, and appends to the log file, one line
// each, before ("T") and after ("A") every operation:
//   T <worker> <op json>   worker is about to issue op
//   A <worker>             worker's op resolved (acknowledged)
//   M <what>               an explicit flush / compact / scan check completed
// The log is written with writeSync to a file: a line is in the page cache before the
// operation starts, and a SIGKILL cannot lose it (a pipe's user-space buffer could).
// Anything on stderr (a rejected operation, a scan that breaks an invariant) is a failure.
//
// argv: dir seed tag config-json ({ options, profile, workers }) log-file
import * as fs from 'node:fs';
import { KvStore } from '@kv/engine';
import { Rng } from '../lib/rng.mjs';
import { isWellFormed, runWorkers } from '../lib/workload.mjs';

const [dir, seedText, tag, configJson, logFile] = process.argv.slice(2);
const config = JSON.parse(configJson);
const rng = new Rng(Number(seedText));
const log = fs.openSync(logFile, 'a');
const say = (line) => fs.writeSync(log, `${line}\n`);
const die = (why) => {
  process.stderr.write(`${why}\n`);
  process.exit(1);
};

const db = await KvStore.open(dir, config.options);
process.stdout.write('ready\n');

// Scans while writes, flushes and compactions run: keys strictly ordered, values whole.
function scanCheck(r) {
  const bound = () => `w${r.int(0, config.workers)}:${r.next().toString(36).slice(2, 4)}`;
  const range = { reverse: r.chance(0.5) };
  if (r.chance(0.5)) range.gte = bound();
  if (r.chance(0.5)) range.lt = bound();
  let previous;
  for (const [k, v] of db.iterator(range)) {
    const key = Buffer.from(k).toString('latin1');
    const value = Buffer.from(v).toString('latin1');
    if (previous !== undefined && (range.reverse ? key >= previous : key <= previous)) {
      die(`scan ${JSON.stringify(range)} yields ${key} after ${previous}`);
    }
    if (!isWellFormed(value)) die(`scan yields a malformed value for ${key}: ${JSON.stringify(value.slice(0, 40))}`);
    previous = key;
  }
}

async function maintenance(r) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, r.int(10, 250)));
    const x = r.next();
    if (x < 0.35) {
      await db.flush();
      say('M flush');
    } else if (x < 0.5) {
      await db.compact();
      say('M compact');
    } else {
      scanCheck(r);
      say('M scan');
    }
  }
}

maintenance(rng.fork('maintenance')).catch((err) => die(`maintenance failed: ${err?.stack ?? err}`));
await runWorkers(
  db,
  rng,
  { workers: config.workers, tag, profile: config.profile },
  {
    stop: () => false,
    issue: (w, op) => say(`T ${w} ${JSON.stringify(op)}`),
    ack: (w) => say(`A ${w}`),
    reject: (w, op, err) => die(`worker ${w}: ${op.type} rejected: ${err?.stack ?? err}`),
  },
);
