/**
 * What a writer keeps of the rows it wrote, up to a bound of bytes (each value says about how many
 * it takes): setting a key makes it the most recent, and the least recent go first past the bound.
 */
export class HeldByBytes<Value extends { readonly bytes: number }> {
  /** Insertion order is recency order. */
  private readonly values = new Map<string, Value>();
  private heldBytes = 0;

  constructor(private readonly bound: number) {}

  get(key: string): Value | undefined {
    return this.values.get(key);
  }

  set(key: string, value: Value): void {
    this.delete(key);
    this.values.set(key, value);
    this.heldBytes += value.bytes;
    for (const [oldest, held] of this.values) {
      if (this.heldBytes <= this.bound) break;
      this.values.delete(oldest);
      this.heldBytes -= held.bytes;
    }
  }

  delete(key: string): void {
    const held = this.values.get(key);
    if (!held) return;
    this.values.delete(key);
    this.heldBytes -= held.bytes;
  }

  clear(): void {
    this.values.clear();
    this.heldBytes = 0;
  }

  get size(): number {
    return this.values.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }
}
