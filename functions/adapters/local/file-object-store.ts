import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ObjectStore } from '../../ports';

/** Reports as files under a folder of the data directory, each beside a `.type` file naming its content type. */
export class FileObjectStore implements ObjectStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    // Written aside and renamed: a reader never sees half a report.
    await writeFile(`${path}.partial`, body, 'utf8');
    await writeFile(`${path}.type`, contentType, 'utf8');
    await rename(`${path}.partial`, path);
  }

  async get(key: string): Promise<{ body: string; contentType: string } | undefined> {
    const path = this.pathOf(key);
    try {
      return { body: await readFile(path, 'utf8'), contentType: await readFile(`${path}.type`, 'utf8') };
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
