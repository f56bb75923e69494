import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../../functions/adapters/aws/s3-object-store';

const SIGNED_AT = new Date('2027-03-29T12:00:00.000Z');
const WEEK = 7 * 86_400;

/** A store signing with the credentials given, at a fixed time: presigning is local, no request is sent. */
const storeWith = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }) =>
  new S3ObjectStore(new S3Client({ region: 'eu-west-2', credentials: async () => credentials }), 'reports', () => SIGNED_AT);

describe('S3 links', () => {
  it("says a link expires when the role session that signed it does, before the week it asked for", async () => {
    const sessionEnds = new Date('2027-03-29T18:30:00.000Z');

    const { url, expiresAt } = await storeWith({ accessKeyId: 'ASIA', secretAccessKey: 'secret', sessionToken: 'session', expiration: sessionEnds }).link('reports/outcomes/2027-03/v1.pdf', WEEK);

    expect(expiresAt).toBe(sessionEnds.toISOString());
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(String(WEEK));
    expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe('session');
  });

  it('says a link signed with long-term keys expires when it asked to', async () => {
    const { expiresAt } = await storeWith({ accessKeyId: 'AKIA', secretAccessKey: 'secret' }).link('reports/outcomes/2027-03/v1.pdf', WEEK);

    expect(expiresAt).toBe('2027-04-05T12:00:00.000Z');
  });
});
