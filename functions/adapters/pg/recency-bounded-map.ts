/**
 * What a store keeps of the rows it wrote or read, up to a bound of their summed weight (bytes of
 * heap, rows): setting a key makes it the most recent, and the least recent go first past the
 * bound. Reading one does not make it recent.
 */
export class RecencyBoundedMap<Value> {
  /** Insertion order is recency order. */
  private readonly values = new Map<string, Value>();
  private held = 0;

  constructor(
    private readonly bound: number,
    private readonly weigh: (value: Value) => number,
  ) {}

  get(key: string): Value | undefined {
    return this.values.get(key);
  }

  set(key: string, value: Value): void {
    this.delete(key);
    this.values.set(key, value);
    this.held += this.weigh(value);
    for (const [oldest, kept] of this.values) {
      if (this.held <= this.bound) break;
      this.values.delete(oldest);
      this.held -= this.weigh(kept);
    }
  }

  delete(key: string): void {
    const kept = this.values.get(key);
    if (kept === undefined) return;
    this.values.delete(key);
    this.held -= this.weigh(kept);
  }

  clear(): void {
    this.values.clear();
    this.held = 0;
  }

  get size(): number {
    return this.values.size;
  }

  /** The summed weight of what is kept. */
  get weight(): number {
    return this.held;
  }
}
