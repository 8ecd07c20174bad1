/** A growable array of u32 entry offsets: 4 bytes an entry instead of a JS number's 8+. */
export class OffsetList {
  private data: Uint32Array;
  length = 0;

  constructor(initial = 64) {
    this.data = new Uint32Array(initial);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  at(i: number): number {
    return this.data[i] as number;
  }

  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }
}
