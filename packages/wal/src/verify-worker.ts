/**
 * The thread that verifies sealed segments while the log opens (see verify-thread.ts): it maps
 * each segment read-only and walks its frames from the header on with the same `probeFrame`
 * the open uses, and answers how far they were valid and what stopped the walk. It decides
 * nothing: the opening thread reads every frame header itself, checks the indices and
 * handles the stop exactly as if it had hashed the frames too.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { probeFrame, SEGMENT_HEADER_BYTES } from './format.js';
import type { VerifyReply, VerifyRequest } from './verify-thread.js';

type Mmap = typeof import('mmap-io').default;
const mmap = createRequire(import.meta.url)('mmap-io') as Mmap;
const replies = (workerData as { replies: MessagePort }).replies;

function verify(req: VerifyRequest): VerifyReply {
  const fd = fs.openSync(req.file, 'r');
  try {
    const map = mmap.map(req.size, mmap.PROT_READ as 1, mmap.MAP_SHARED, fd, 0);
    try {
      let at = SEGMENT_HEADER_BYTES;
      for (;;) {
        const probe = probeFrame(map, at, map.length, req.segmentId);
        if (typeof probe !== 'object') return { id: req.id, verifiedTo: at, stop: probe };
        at = probe.end;
      }
    } finally {
      // The opening thread maps these pages itself; this mapping's need not stay resident.
      mmap.advise(map, 0, map.length, mmap.MADV_DONTNEED);
    }
  } finally {
    fs.closeSync(fd);
  }
}

parentPort?.on('message', (req: VerifyRequest) => {
  let reply: VerifyReply;
  try {
    reply = verify(req);
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
  replies.postMessage(reply);
});
