import { xxh32, xxh32Range } from '@kv/record';
import type { RecordArena } from './arena.js';
import { zeroedBuffer } from './large.js';

/** Where `touch` leaves what it read, so that its loads are not optimized away. */
// biome-ignore lint/correctness/noUnusedVariables: written, never read, on purpose (see touch)
let touched = 0;

/**
 * Point-read index of a memtable: key -> id of the newest version in the arena, by open
 * addressing with linear probing. Slot i is two words of one Uint32Array: id + 1 (0: empty)
 * and the key's 32-bit hash, so a probe reads the arena only when the hashes agree, and
 * growing never reads a key. Kept at most half full: 16 to 32 bytes per key. The hash is
 * seeded per index: keys chosen to collide in one memtable do not in another.
 */
export class KeyIndex {
  readonly #arena: RecordArena;
  readonly #seed = (Math.random() * 0x1_0000_0000) >>> 0;
  #slots = new Uint32Array(2 * 16);
  #mask = 15;
  #size = 0;

  constructor(arena: RecordArena) {
    this.#arena = arena;
  }

  /** Number of keys. */
  get size(): number {
    return this.#size;
  }

  hash(key: Uint8Array): number {
    return xxh32(key, this.#seed);
  }

  /** The hash of the key lying at [start, end) of `bytes`: `hash` of it, without a view. */
  hashAt(bytes: Uint8Array, start: number, end: number): number {
    return xxh32Range(bytes, start, end, this.#seed);
  }

  /** The slot holding `key` (with hash `h`), or the empty slot where it would go. */
  slotOf(key: Uint8Array, h: number): number {
    return this.slotOfAt(key, 0, key.length, h);
  }

  /** `slotOf` for the key of `length` bytes at `start` of `bytes`. */
  slotOfAt(bytes: Uint8Array, start: number, length: number, h: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = h & mask;
    for (let s = slots[2 * i] as number; s !== 0; s = slots[2 * i] as number) {
      if (slots[2 * i + 1] === h && this.#arena.keyEquals(s - 1, bytes, start, length)) return i;
      i = (i + 1) & mask;
    }
    return i;
  }

  /**
   * Reads the home slot of each of the first `n` hashes and nothing else. A large index
   * misses the cache on nearly every probe; a loop of these independent loads keeps many
   * misses in flight at once, so the probes that follow find their slots cached. Inserting
   * 9M keys into a 256 MB index took 2.4 s of probes alone; touching them 256 at a time
   * first cut that to ~1.1 s.
   */
  touch(hashes: Uint32Array, n: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let sum = 0;
    for (let j = 0; j < n; j++) sum = (sum + (slots[2 * ((hashes[j] as number) & mask)] as number)) | 0;
    touched = sum;
  }

  /** The id in `slot`, or -1 when it is empty. */
  idAt(slot: number): number {
    return (this.#slots[2 * slot] as number) - 1;
  }

  /** The newest version's id for `key`, or -1. */
  get(key: Uint8Array): number {
    return this.idAt(this.slotOf(key, this.hash(key)));
  }

  /** Points `slot` (from slotOf(key, h), with no set in between) at version `id` of that key. */
  set(slot: number, id: number, h: number): void {
    const fresh = this.#slots[2 * slot] === 0;
    this.#slots[2 * slot] = id + 1;
    this.#slots[2 * slot + 1] = h;
    if (fresh && ++this.#size * 2 > this.#mask + 1) this.#grow();
  }

  /** Marks, in a byte per arena version, the versions the index points at (each key's newest). */
  newest(): Uint8Array {
    const marks = new Uint8Array(zeroedBuffer(this.#arena.count));
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i += 2) if (slots[i] !== 0) marks[(slots[i] as number) - 1] = 1;
    return marks;
  }

  /** Grows the index now so that it holds `keys` keys without growing again. */
  reserve(keys: number): void {
    let capacity = this.#mask + 1;
    while (keys * 2 > capacity) capacity *= 2;
    if (capacity > this.#mask + 1) this.#grow(capacity);
  }

  #grow(capacity = 2 * (this.#mask + 1)): void {
    const old = this.#slots;
    const slots = new Uint32Array(zeroedBuffer(8 * capacity));
    const mask = capacity - 1;
    for (let j = 0; j < old.length; j += 2) {
      if (old[j] === 0) continue;
      const h = old[j + 1] as number;
      let i = h & mask;
      while (slots[2 * i] !== 0) i = (i + 1) & mask;
      slots[2 * i] = old[j] as number;
      slots[2 * i + 1] = h;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}
