import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../ports';

/** Reports in the report bucket; its default encryption (SSE-KMS with the bucket key) applies to every object. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async get(key: string): Promise<{ body: string; contentType: string } | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: (await answer.Body?.transformToString('utf8')) ?? '', contentType: answer.ContentType ?? 'application/octet-stream' };
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
    }
  }
}

/** The object was not there (the SDK's class, or its name where an emulator's answer was parsed generically). */
export const isNoSuchKey = (error: unknown): boolean => error instanceof NoSuchKey || (error instanceof Error && error.name === 'NoSuchKey');

/** Creates the bucket where the stack did not (the emulated mode against moto or LocalStack). */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
}
