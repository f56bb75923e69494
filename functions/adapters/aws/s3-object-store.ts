import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ObjectExistsError, type ObjectStore } from '../../ports';

/** Reports in the report bucket; its default encryption (SSE-KMS with the bucket key) applies to every object. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async put(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /**
   * S3's conditional write: `If-None-Match: *` makes S3 itself refuse a key that has a current
   * version (412), so two writers racing for one key cannot both succeed, as a HeadObject first could.
   */
  async putNew(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' }));
    } catch (error) {
      if (isPreconditionFailed(error)) throw new ObjectExistsError(key);
      throw error;
    }
  }

  /**
   * A presigned GET. S3 refuses it once the credentials that signed it expire, whatever its own
   * expiry: a Lambda role's session lasts hours, not the week a link may ask for, so `expiresAt`
   * is the earlier of the two, the time the link really stops working.
   */
  async link(key: string, expiresInSeconds: number): Promise<{ url: string; expiresAt: string }> {
    const signedAt = this.now();
    const credentials = await this.client.config.credentials();
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds, signingDate: signedAt });
    const expiresAt = Math.min(signedAt.getTime() + expiresInSeconds * 1000, credentials.expiration?.getTime() ?? Infinity);
    return { url, expiresAt: new Date(expiresAt).toISOString() };
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async get(key: string): Promise<{ body: Buffer; contentType: string } | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: Buffer.from((await answer.Body?.transformToByteArray()) ?? []), contentType: answer.ContentType ?? 'application/octet-stream' };
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
    }
  }
}

/** The object was not there (the SDK's class, or its name where an emulator's answer was parsed generically). */
export const isNoSuchKey = (error: unknown): boolean => error instanceof NoSuchKey || (error instanceof Error && error.name === 'NoSuchKey');

const isPreconditionFailed = (error: unknown): boolean =>
  (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) || (error instanceof Error && error.name === 'PreconditionFailed');

/** Creates the bucket where the stack did not (the emulated mode against moto or LocalStack). */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
}
