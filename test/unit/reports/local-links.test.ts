import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileObjectStore } from '../../../functions/adapters/local/file-object-store';
import { LocalLinks } from '../../../functions/adapters/local/local-links';
import { ObjectExistsError } from '../../../functions/ports';

let now = new Date('2027-04-05T12:00:00.000Z');
const links = new LocalLinks(Buffer.alloc(32, 1), () => 'http://127.0.0.1:3000', () => now);
let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'local-links-'));
  now = new Date('2027-04-05T12:00:00.000Z');
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

describe('local signed links', () => {
  it('read the one object they name until they expire, and nothing once altered', () => {
    const { url, expiresAt } = links.sign('reports/outcomes/2027-W13/v1.pdf', 3_600);

    expect(expiresAt).toBe('2027-04-05T13:00:00.000Z');
    expect(links.verify(new URL(url))).toEqual({ key: 'reports/outcomes/2027-W13/v1.pdf' });
    expect(links.verify(new URL(url.replace('v1.pdf', 'v2.pdf')))).toEqual({ refused: 'bad_signature' });
    expect(links.verify(new URL(url.replace(/expires=\d+/, (match) => `expires=${Number(match.slice(8)) + 86_400}`)))).toEqual({ refused: 'bad_signature' });
    expect(links.verify(new URL(url.replace(/signature=[0-9a-f]+/, 'signature=00')))).toEqual({ refused: 'bad_signature' });
    expect(new LocalLinks(Buffer.alloc(32, 2), () => 'http://127.0.0.1:3000', () => now).verify(new URL(url))).toEqual({ refused: 'bad_signature' });
    now = new Date('2027-04-05T13:00:00.000Z');
    expect(links.verify(new URL(url))).toEqual({ refused: 'expired' });
  });
});

describe('the file object store', () => {
  it('writes a new key once, refuses to overwrite it, and keeps bytes as bytes', async () => {
    const store = new FileObjectStore(folder, links);
    const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x0a]);

    await store.putNew('reports/outcomes/2027-03/v1.pdf', pdf, 'application/pdf');
    await expect(store.putNew('reports/outcomes/2027-03/v1.pdf', Buffer.from('other'), 'application/pdf')).rejects.toThrow(ObjectExistsError);

    expect(await store.get('reports/outcomes/2027-03/v1.pdf')).toEqual({ body: pdf, contentType: 'application/pdf' });
    expect((await store.link('reports/outcomes/2027-03/v1.pdf', 60)).url).toMatch(/^http:\/\/127\.0\.0\.1:3000\/files\/reports\/outcomes\/2027-03\/v1\.pdf\?expires=\d+&signature=[0-9a-f]{64}$/);
    await expect(new FileObjectStore(folder).link('reports/outcomes/2027-03/v1.pdf', 60)).rejects.toThrow('serves no links');
  });
});
