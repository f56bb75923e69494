import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * Stream payloads sealed under a per-user key (AES-256-GCM), so deleting the key erases every
 * copy of the user's records at once, including those no one can delete: Kinesis records until
 * they expire, dead letters, freed pages of the embedded stream's file (crypto-shredding).
 *
 * Layout: `E5 01` (marker, format version 1), the key id (16 bytes), the IV (12 bytes), the
 * ciphertext, the GCM tag (16 bytes). The header is the additional authenticated data, so a record
 * cannot be moved under another key id. 0xE5 never starts UTF-8 text, so a sealed record is never
 * taken for the plain JSON records an earlier version put on the stream.
 *
 * The key id is random, not derived from the pseudonym, and it is also the record's partition
 * key: once the key is deleted nothing left on the stream links a record to anyone.
 */
export const KEY_BYTES = 32;
export const KEY_ID_BYTES = 16;
export const IV_BYTES = 12;
const TAG_BYTES = 16;
const MARKER = 0xe5;
const VERSION = 1;
const HEADER_BYTES = 2 + KEY_ID_BYTES + IV_BYTES;

export interface RecordKey {
  /** Hex of KEY_ID_BYTES random bytes. */
  readonly keyId: string;
  readonly key: Uint8Array;
}

/** `iv`: IV_BYTES fresh random bytes per record (GCM's security rests on never repeating one under a key). */
export function sealRecord(key: RecordKey, plaintext: Uint8Array, iv: Uint8Array): Uint8Array {
  if (key.key.length !== KEY_BYTES || iv.length !== IV_BYTES) throw new RangeError('a record key is 32 bytes and an IV 12');
  const header = Buffer.concat([Buffer.from([MARKER, VERSION]), Buffer.from(key.keyId, 'hex'), iv]);
  if (header.length !== HEADER_BYTES) throw new RangeError(`a key id is ${KEY_ID_BYTES} bytes of hex`);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv).setAAD(header);
  return Buffer.concat([header, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

export type SealedHeader = { readonly sealed: true; readonly keyId: string } | { readonly sealed: false };

/** The key id a record is sealed under; `sealed: false` for a record written before sealing (plain JSON). */
export function sealedHeader(data: Uint8Array): SealedHeader {
  if (data[0] !== MARKER) return { sealed: false };
  return { sealed: true, keyId: Buffer.from(data.subarray(2, 2 + KEY_ID_BYTES)).toString('hex') };
}

/** The plaintext, or undefined when the record is not one sealed under this key (tampered, truncated, another version). */
export function openRecord(data: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  if (data.length < HEADER_BYTES + TAG_BYTES || data[0] !== MARKER || data[1] !== VERSION) return undefined;
  const header = data.subarray(0, HEADER_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(2 + KEY_ID_BYTES, HEADER_BYTES)).setAAD(header);
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(HEADER_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
