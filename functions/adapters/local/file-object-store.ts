import { link as hardLink, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ObjectExistsError, type ObjectStore } from '../../ports';
import type { LocalLinks } from './local-links';

/**
 * Reports as files under a folder of the data directory, each beside a `.type` file naming its
 * content type; links are the runtime's signed download links (`links`), absent where nothing
 * serves them (a CLI's store).
 */
export class FileObjectStore implements ObjectStore {
  private readonly root: string;

  constructor(
    root: string,
    private readonly links?: LocalLinks,
  ) {
    this.root = resolve(root);
  }

  async put(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    const path = await this.written(key, body);
    await writeFile(`${path}.type`, contentType, 'utf8');
    await rename(`${path}.partial`, path);
  }

  async putNew(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    const path = await this.written(key, body);
    // A hard link fails when the name is taken, where a rename would replace it: S3's If-None-Match.
    try {
      await hardLink(`${path}.partial`, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ObjectExistsError(key);
      throw error;
    } finally {
      await rm(`${path}.partial`, { force: true });
    }
    await writeFile(`${path}.type`, contentType, 'utf8');
  }

  async link(key: string, expiresInSeconds: number): Promise<{ url: string; expiresAt: string }> {
    if (!this.links) throw new Error('this object store serves no links');
    return this.links.sign(key, expiresInSeconds);
  }

  /** Written aside (`.partial`), to be renamed or linked into place: a reader never sees half a report. */
  private async written(key: string, body: string | Uint8Array): Promise<string> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.partial`, body);
    return path;
  }

  async get(key: string): Promise<{ body: Buffer; contentType: string } | undefined> {
    const path = this.pathOf(key);
    try {
      return { body: await readFile(path), contentType: await readFile(`${path}.type`, 'utf8') };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    await rm(`${path}.type`, { force: true });
  }

  /** Keys are ours (`reports/research/<uuid>.csv`), but a key that climbs out of the folder is refused all the same. */
  private pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new RangeError(`object key ${key} leaves the object folder`);
    return path;
  }
}
