import { basename } from 'node:path';
import type { LocalLinks } from '../adapters/local/local-links';
import type { ObjectStore } from '../ports';
import type { OperationAnswer } from './http-server';

const refusal = (status: number, code: string, message: string): OperationAnswer => ({ status, contentType: 'application/json', body: JSON.stringify({ error: { code, message } }) });

/** GET /files/...: a signed link's object, as S3 answers a presigned URL (403 when expired or altered). */
export function reportDownloads(links: LocalLinks, objects: Pick<ObjectStore, 'get'>) {
  return async (url: URL): Promise<OperationAnswer> => {
    const verdict = links.verify(url);
    if ('refused' in verdict) return refusal(403, verdict.refused === 'expired' ? 'link_expired' : 'forbidden', verdict.refused === 'expired' ? 'the link has expired: get a new one from GET /v1/reports/{id}' : 'the link is not valid');
    const object = await objects.get(verdict.key);
    if (!object) return refusal(404, 'not_found', 'no such file');
    const [kind, period] = verdict.key.split('/').slice(1, 3);
    return {
      status: 200,
      contentType: object.contentType,
      body: object.body,
      headers: { 'content-disposition': `attachment; filename="${kind}-${period}-${basename(verdict.key)}"`, 'cache-control': 'private, no-store' },
    };
  };
}
