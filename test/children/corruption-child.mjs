// Child of the corruption sweep: runs damage cases one after another and logs each to the
// log file (writeSync: a line survives the process dying right after it):
//   B <id>            case id begins (a crash or a hang is blamed on it)
//   R <id> <verdict>  its verdict as JSON
//   D <maxRssBytes>   done
// argv: job-json-file log-file (job: see test/lib/corruption.mjs)
import * as fs from 'node:fs';
import { runCase } from '../lib/corruption-check.mjs';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const log = fs.openSync(process.argv[3], 'a');
for (const c of job.cases) {
  fs.writeSync(log, `B ${c.id}\n`);
  const verdict = await runCase(job.pristine, job.work, c, job.expect, job.options);
  fs.writeSync(log, `R ${c.id} ${JSON.stringify(verdict)}\n`);
}
fs.rmSync(job.work, { recursive: true, force: true });
fs.writeSync(log, `D ${process.resourceUsage().maxRSS * 1024}\n`);
