// The first process of the two-process scenario: opens the store and runs the workload,
// logging "T <worker> <op>" and "A <worker>" to the log file as the kill child does, until it
// reads "close" on stdin: then it lets every operation settle, closes the store, and prints
// "closed" on stdout.
// argv: dir seed tag config-json ({ options, profile, workers }) log-file
import * as fs from 'node:fs';
import { KvStore } from '@kv/engine';
import { Rng } from '../lib/rng.mjs';
import { runWorkers } from '../lib/workload.mjs';

const [dir, seedText, tag, configJson, logFile] = process.argv.slice(2);
const config = JSON.parse(configJson);
const log = fs.openSync(logFile, 'a');
const say = (line) => fs.writeSync(log, `${line}\n`);
let stopping = false;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  if (d.includes('close')) stopping = true;
});

const db = await KvStore.open(dir, config.options);
process.stdout.write('ready\n');
await runWorkers(
  db,
  new Rng(Number(seedText)),
  { workers: config.workers, tag, profile: config.profile },
  {
    stop: () => stopping,
    issue: (w, op) => say(`T ${w} ${JSON.stringify(op)}`),
    ack: (w) => say(`A ${w}`),
    reject: (w, op, err) => {
      process.stderr.write(`worker ${w}: ${op.type} rejected: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  },
);
await db.close();
process.stdout.write('closed\n');
process.exit(0);
