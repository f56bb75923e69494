import { randomBytes } from 'node:crypto';
import { pooledBytes, randomBits, type RandomBits } from '../domain/privacy/noise/random-bits';

/** The operating system's cryptographic random source, as the noise mechanisms draw from it. */
export const cryptoRandomBits = (): RandomBits => randomBits(pooledBytes((count) => randomBytes(count)));
