/**
 * The only randomness the noise samplers use. The domain is pure, so the bytes come from the
 * caller: in production `crypto.randomBytes` (or `crypto.getRandomValues`), never `Math.random`,
 * whose generator is predictable from a few outputs and would let a reader subtract the noise.
 */
export type RandomBytes = (byteCount: number) => Uint8Array;

export interface RandomBits {
  /** A uniform integer in [0, n), for n ≥ 1. */
  uniformBelow(n: bigint): bigint;
}

/**
 * Uniform integers by rejection: draw just enough bits to cover n - 1 and draw again when the
 * result is n or more. Reducing a wider draw modulo n would favour the small residues; rejection
 * has no bias, and since the bits cover less than 2n values, fewer than two draws are needed on
 * average.
 */
export function randomBits(bytes: RandomBytes): RandomBits {
  return {
    uniformBelow(n) {
      if (n < 1n) throw new RangeError(`uniformBelow needs n ≥ 1, got ${n}`);
      if (n === 1n) return 0n;
      const bitCount = bitLength(n - 1n);
      const byteCount = Math.ceil(bitCount / 8);
      // Bits of the leading byte beyond bitCount are masked off, so a draw is in [0, 2^bitCount).
      const leadingMask = (1 << (bitCount - 8 * (byteCount - 1))) - 1;
      for (;;) {
        const drawn = bytes(byteCount);
        if (drawn.length !== byteCount) throw new RangeError(`the byte source gave ${drawn.length} bytes for ${byteCount}`);
        let value = BigInt((drawn[0] ?? 0) & leadingMask);
        for (let i = 1; i < byteCount; i++) value = (value << 8n) | BigInt(drawn[i] ?? 0);
        if (value < n) return value;
      }
    },
  };
}

/**
 * A byte source that asks the underlying one for a pool at a time: a sampler asks for one or two
 * bytes dozens of times per draw, and each call to `crypto.randomBytes` costs far more than
 * copying bytes out of a pool. The bytes are the same cryptographic bytes, used once each.
 */
export function pooledBytes(bytes: RandomBytes, poolSize = 4096): RandomBytes {
  let pool: Uint8Array = new Uint8Array(0);
  let next = 0;
  return (byteCount) => {
    if (byteCount > poolSize) return bytes(byteCount);
    if (next + byteCount > pool.length) {
      pool = bytes(poolSize);
      next = 0;
    }
    const taken = pool.slice(next, next + byteCount);
    next += byteCount;
    return taken;
  };
}

/** The number of bits of a non-negative integer: 0 for 0, 1 for 1, 3 for 4..7. */
export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}
