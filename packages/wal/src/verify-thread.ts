import { Worker } from 'node:worker_threads';
import { alignFrame, FRAME_HEADER_BYTES, type FrameProbe } from './format.js';

/** Fields per frame in a reply: at, payloadBytes, firstIndex, count, syncedThrough. */
export const FRAME_FIELDS = 5;

/**
 * 'auto' puts a thread to work when the sealed segments hold at least this much: below it,
 * starting the thread (~30 ms) costs more than it saves.
 */
export const VERIFY_THREAD_MIN_BYTES = 128 * 1024 * 1024;

export interface VerifyRequest {
  id: number;
  file: string;
  segmentId: number;
  /** Bytes to map: the segment's size as the opening thread found it. */
  size: number;
}

export type VerifyReply =
  | { id: number; frames: Float64Array; stopAt: number; stop: 'end' | string; error?: undefined }
  | { id: number; error: string; frames?: undefined };

/**
 * What the thread found in one segment: its frames in order, then the probe result at the
 * offset where the walk stopped. `probe(at)` answers what `probeFrame` would at the next
 * offset the scan asks for, or undefined when the scan asks for another offset (it cannot,
 * as both walk the same chain; the caller then probes the bytes itself).
 */
export class VerifiedFrames {
  #next = 0;

  constructor(
    private readonly frames: Float64Array,
    private readonly stopAt: number,
    private readonly stop: 'end' | string,
  ) {}

  probe(at: number): FrameProbe | undefined {
    const f = this.#next * FRAME_FIELDS;
    if (f < this.frames.length) {
      if (this.frames[f] !== at) return undefined;
      this.#next++;
      const payloadBytes = this.frames[f + 1] as number;
      return {
        at,
        payloadBytes,
        firstIndex: this.frames[f + 2] as number,
        count: this.frames[f + 3] as number,
        syncedThrough: this.frames[f + 4] as number,
        end: at + alignFrame(FRAME_HEADER_BYTES + payloadBytes),
      };
    }
    return at === this.stopAt ? this.stop : undefined;
  }
}

/**
 * A worker thread that verifies the frames of sealed segments while the opening thread works
 * through the others: frame checksums are most of the time an open takes, and a sealed
 * segment's bytes do not change while the log is being opened (the directory is locked).
 * Any failure of the thread (it cannot start, map a file, or dies) only means the opening
 * thread probes that segment itself.
 */
export class VerifyThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, (found: VerifiedFrames | null) => void>();
  readonly #results = new Map<number, Promise<VerifiedFrames | null>>();
  #nextId = 1;

  constructor() {
    this.#worker = new Worker(new URL('./verify-worker.js', import.meta.url), {
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.#worker.unref();
    this.#worker.on('message', (reply: VerifyReply) => {
      const resolve = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      resolve?.(reply.error === undefined ? new VerifiedFrames(reply.frames, reply.stopAt, reply.stop) : null);
    });
    const giveUp = () => {
      for (const resolve of this.#waiting.values()) resolve(null);
      this.#waiting.clear();
    };
    this.#worker.on('error', giveUp);
    this.#worker.on('exit', giveUp);
  }

  /** Queues segment `key` (the caller's handle for it) for verification. */
  submit(key: number, file: string, segmentId: number, size: number): void {
    const id = this.#nextId++;
    this.#results.set(
      key,
      new Promise((resolve) => {
        this.#waiting.set(id, resolve);
      }),
    );
    this.#worker.postMessage({ id, file, segmentId, size } satisfies VerifyRequest);
  }

  /** What the thread found in segment `key`, or null when it was not submitted or failed. */
  result(key: number): Promise<VerifiedFrames | null> {
    return this.#results.get(key) ?? Promise.resolve(null);
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
