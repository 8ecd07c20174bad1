/**
 * Entry point of the compaction thread (see compaction-thread.ts): runs one CompactionJob per
 * message and answers { id, written } (how many outputs it wrote) or { id, error: { code, message } }.
 */
import { parentPort } from 'node:worker_threads';
import { isKvError } from '@kv/record';
import { type CompactionJob, runCompactionJob } from './compaction-job.js';

const port = parentPort;
if (port === null) throw new Error('compaction-worker.js runs only as a worker thread');
port.on('message', async ({ id, job }: { id: number; job: CompactionJob }) => {
  try {
    port.postMessage({ id, written: await runCompactionJob(job) });
  } catch (err) {
    const code = isKvError(err) ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    const syscallCode = (err as NodeJS.ErrnoException | undefined)?.code;
    port.postMessage({ id, error: { code, message, syscallCode } });
  }
});
