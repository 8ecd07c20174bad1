/**
 * The thread that verifies sealed segments while the log opens (see verify-thread.ts): it maps
 * each segment read-only, walks its frames from the header on with the same `probeFrame` the
 * open uses, and answers with every frame it verified and what stopped the walk. It decides
 * nothing: the opening thread checks the indices and handles the stop exactly as if it had
 * probed the frames itself.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { probeFrame, SEGMENT_HEADER_BYTES } from './format.js';
import { FRAME_FIELDS, type VerifyReply, type VerifyRequest } from './verify-thread.js';

type Mmap = typeof import('mmap-io').default;
const mmap = createRequire(import.meta.url)('mmap-io') as Mmap;

function verify(req: VerifyRequest): VerifyReply {
  const fd = fs.openSync(req.file, 'r');
  try {
    const map = mmap.map(req.size, mmap.PROT_READ as 1, mmap.MAP_SHARED, fd, 0);
    try {
      let frames = new Float64Array(FRAME_FIELDS * 1024);
      let n = 0;
      let at = SEGMENT_HEADER_BYTES;
      for (;;) {
        const probe = probeFrame(map, at, map.length, req.segmentId);
        if (typeof probe !== 'object') {
          return { id: req.id, frames: frames.subarray(0, n * FRAME_FIELDS), stopAt: at, stop: probe };
        }
        if ((n + 1) * FRAME_FIELDS > frames.length) {
          const grown = new Float64Array(frames.length * 2);
          grown.set(frames);
          frames = grown;
        }
        const f = n * FRAME_FIELDS;
        frames[f] = probe.at;
        frames[f + 1] = probe.payloadBytes;
        frames[f + 2] = probe.firstIndex;
        frames[f + 3] = probe.count;
        frames[f + 4] = probe.syncedThrough;
        n++;
        at = probe.end;
      }
    } finally {
      // The opening thread maps these pages again; this mapping's copies need not stay resident.
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
  parentPort?.postMessage(reply, reply.frames === undefined ? [] : [reply.frames.buffer as ArrayBuffer]);
});
