import { createHmac, timingSafeEqual } from 'node:crypto';

/** Where the runtime serves signed downloads: `/files/<object key>?expires=<epoch s>&signature=<hex>`. */
export const LOCAL_FILES_PATH = '/files/';

/**
 * The local runtime's stand-in for S3 presigned links: a link names an object and when it
 * expires, signed with a secret of the data folder, so it reads that one object without a token
 * until then, as a presigned URL does, and a changed key or time breaks the signature.
 */
export class LocalLinks {
  constructor(
    private readonly secret: Uint8Array,
    /** The runtime's URL, known once its server listens. */
    private readonly baseUrl: () => string,
    private readonly now: () => Date,
  ) {}

  sign(key: string, expiresInSeconds: number): { url: string; expiresAt: string } {
    const expires = Math.floor(this.now().getTime() / 1000) + expiresInSeconds;
    const path = LOCAL_FILES_PATH + key.split('/').map(encodeURIComponent).join('/');
    return { url: `${this.baseUrl()}${path}?expires=${expires}&signature=${this.signature(key, expires)}`, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** The object key a download URL may read, or why not. */
  verify(url: URL): { key: string } | { refused: 'expired' | 'bad_signature' } {
    const key = url.pathname.slice(LOCAL_FILES_PATH.length).split('/').map(decodeURIComponent).join('/');
    const expires = Number(url.searchParams.get('expires'));
    const given = Buffer.from(url.searchParams.get('signature') ?? '', 'hex');
    const expected = Buffer.from(this.signature(key, expires), 'hex');
    if (!Number.isSafeInteger(expires) || given.length !== expected.length || !timingSafeEqual(given, expected)) return { refused: 'bad_signature' };
    if (expires * 1000 <= this.now().getTime()) return { refused: 'expired' };
    return { key };
  }

  private signature(key: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${key}\n${expires}`).digest('hex');
  }
}
