import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { type FrameProbe, probeFrame } from './format.js';

/**
 * 'auto' starts a thread when the sealed segments hold at least this much. The opening
 * thread never waits for it, so a small log loses only the thread's start (55-67 ms of the
 * other core here); below this it would rarely finish a segment in time to help.
 */
export const VERIFY_THREAD_MIN_BYTES = 256 * 1024 * 1024;

export interface VerifyRequest {
  id: number;
  file: string;
  segmentId: number;
  /** Bytes to map: the segment's size as the opening thread found it. */
  size: number;
}

export type VerifyReply =
  | { id: number; verifiedTo: number; stop: 'end' | string; error?: undefined }
  | { id: number; error: string };

/**
 * What the thread found in one segment: every frame from the header up to `verifiedTo` passed
 * `probeFrame`, checksum included, and at `verifiedTo` the walk stopped with `stop`. `probe`
 * answers what `probeFrame` would at `at` without hashing those frames again: their headers
 * and bounds are still read and checked by the caller's thread, from its own mapping.
 */
export class VerifiedFrames {
  constructor(
    readonly verifiedTo: number,
    readonly stop: 'end' | string,
  ) {}

  probe(seg: Uint8Array, at: number, segmentId: number): FrameProbe {
    if (at < this.verifiedTo) return probeFrame(seg, at, seg.length, segmentId, false);
    if (at === this.verifiedTo) return this.stop;
    return probeFrame(seg, at, seg.length, segmentId);
  }
}

/**
 * A worker thread that verifies the frame checksums of sealed segments while the opening
 * thread works through the log from its start: checksums are most of the time an open takes,
 * and a sealed segment's bytes do not change while the log is being opened (the directory is
 * locked). The thread takes its segments in the order submitted (the caller submits them
 * last first, so the two threads meet in the middle); the opening thread takes whatever
 * answers have arrived (`take`, which never waits) and verifies any other segment itself.
 * A thread that cannot start, cannot read a file or dies only verifies less.
 */
export class VerifyThread {
  readonly #worker: Worker;
  readonly #replies: MessagePort;
  readonly #keys = new Map<number, number>();
  readonly #found = new Map<number, VerifiedFrames>();
  /** Keys answered, with a result or an error. */
  readonly #answered = new Set<number>();
  #dead = false;
  #nextId = 1;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.#replies = port1;
    this.#worker = new Worker(new URL('./verify-worker.js', import.meta.url), {
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
      workerData: { replies: port2 },
      transferList: [port2],
    });
    this.#worker.unref();
    // Its segments are then verified by the opening thread.
    this.#worker.on('error', () => {
      this.#dead = true;
    });
    this.#worker.on('exit', () => {
      this.#dead = true;
    });
  }

  /** Queues segment `key` (the caller's handle for it) for verification. */
  submit(key: number, file: string, segmentId: number, size: number): void {
    const id = this.#nextId++;
    this.#keys.set(id, key);
    this.#worker.postMessage({ id, file, segmentId, size } satisfies VerifyRequest);
  }

  /** What the thread found in segment `key` if its answer has arrived, else null. Never waits. */
  take(key: number): VerifiedFrames | null {
    for (let m = receiveMessageOnPort(this.#replies); m !== undefined; m = receiveMessageOnPort(this.#replies)) {
      const reply = m.message as VerifyReply;
      const k = this.#keys.get(reply.id);
      if (k === undefined) continue;
      this.#answered.add(k);
      if (reply.error === undefined) this.#found.set(k, new VerifiedFrames(reply.verifiedTo, reply.stop));
    }
    return this.#found.get(key) ?? null;
  }

  /**
   * What the thread found in segment `key`, waiting for its answer (polling every
   * millisecond); null when it was not submitted, or the thread failed on it or died.
   * verifyThread 'always' waits, so that tests exercise this path deterministically.
   */
  async wait(key: number): Promise<VerifiedFrames | null> {
    const submitted = [...this.#keys.values()].includes(key);
    for (;;) {
      const found = this.take(key);
      if (found !== null || !submitted || this.#answered.has(key) || this.#dead) return found;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  async close(): Promise<void> {
    this.#replies.close();
    await this.#worker.terminate();
  }
}
