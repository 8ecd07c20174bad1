/**
 * The parent's model for crash tests: the state every acknowledged operation implies, plus
 * the operations that were in flight when the child died (each may or may not have happened,
 * a batch as a whole).
 */
export type Put = { type: 'put'; key: string; value: string };
export type Del = { type: 'del'; key: string };
export type Op = Put | Del | { type: 'batch'; items: (Put | Del)[] };

export const tokenValue = (t: string) => (t.startsWith('V') ? t + 'x'.repeat(Number(t.split('_')[1])) : t);

export class CrashModel {
  readonly state = new Map<string, string>();
  acked = 0;

  /** Feeds the child's stdout; returns the operations in flight at the kill. */
  apply(output: string): Op[] {
    const pending = new Map<string, Op>();
    const lines = output.split('\n');
    if (!output.endsWith('\n')) lines.pop();
    for (const line of lines) {
      if (line.startsWith('T ')) {
        const sp = line.indexOf(' ', 2);
        pending.set(line.slice(2, sp), JSON.parse(line.slice(sp + 1)) as Op);
      } else if (line.startsWith('A ')) {
        const w = line.slice(2);
        const op = pending.get(w);
        if (op === undefined) throw new Error(`ack without an operation: ${line}`);
        this.applyOp(op);
        this.acked++;
        pending.delete(w);
      }
    }
    return [...pending.values()];
  }

  applyOp(op: Op): void {
    const items = op.type === 'batch' ? op.items : [op];
    for (const i of items) {
      if (i.type === 'put') this.state.set(i.key, tokenValue(i.value));
      else this.state.delete(i.key);
    }
  }

  /**
   * Checks what the store shows against the model and the in-flight operations, then adopts
   * the outcome of each in-flight operation. Returns a description of the first mismatch.
   */
  reconcile(read: (key: string) => string | undefined, inFlight: Op[]): string | null {
    const touched = new Set<string>();
    for (const op of inFlight) for (const i of op.type === 'batch' ? op.items : [op]) touched.add(i.key);
    for (const [k, v] of this.state) {
      if (!touched.has(k) && read(k) !== v) return `acknowledged ${k}=${v.slice(0, 40)} reads ${read(k)?.slice(0, 40)}`;
    }
    for (const op of inFlight) {
      const after = new Map(this.state);
      const items = op.type === 'batch' ? op.items : [op];
      for (const i of items) {
        if (i.type === 'put') after.set(i.key, tokenValue(i.value));
        else after.delete(i.key);
      }
      const keys = [...new Set(items.map((i) => i.key))];
      const old = keys.every((k) => read(k) === this.state.get(k));
      const neu = keys.every((k) => read(k) === after.get(k));
      if (!old && !neu) return `in-flight ${JSON.stringify(op).slice(0, 200)} is half applied`;
      if (neu) this.applyOp(op);
    }
    return null;
  }
}
