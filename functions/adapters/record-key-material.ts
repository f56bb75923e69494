import { randomBytes } from 'node:crypto';
import { KEY_BYTES, KEY_ID_BYTES, type RecordKey } from '../domain/privacy/sealed-record';

/** A fresh key with a random id: the id says nothing about its user (it is also their records' partition key). */
export function newRecordKey(): RecordKey {
  return { keyId: randomBytes(KEY_ID_BYTES).toString('hex'), key: randomBytes(KEY_BYTES) };
}
