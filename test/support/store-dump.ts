import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Redis } from 'ioredis';
import { open } from 'lmdb';
import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { urls } from './services';

/** A store's content as text, to search for what must not be there. */
export interface Dump {
  readonly where: string;
  readonly text: string;
}

/** Every row of every table of the current schema, as PostgreSQL prints it (bytea as hex, so a string in it shows as its UTF-8 hex too). */
export async function dumpTables(db: SqlDatabase, label = 'postgresql'): Promise<Dump[]> {
  const { rows: tables } = await db.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
  const dumps: Dump[] = [];
  for (const { name } of tables) {
    const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
    dumps.push({ where: `${label}:${name}`, text: rows.map((row) => row.row).join('\n') });
  }
  return dumps;
}

/** Every key of an LMDB environment (its root or named databases) with its value, bytes as UTF-8. */
export function dumpLmdb(path: string, names: readonly (string | null)[], label: string): Dump[] {
  const root = open({ path, compression: false, readOnly: true });
  try {
    return names.map((name) => {
      const db = name === null ? root : root.openDB({ name });
      const lines: string[] = [];
      for (const { key, value } of db.getRange({})) {
        lines.push(`${String(key)} ${JSON.stringify(value, (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v))}`);
      }
      return { where: `${label}:${name ?? 'root'}`, text: lines.join('\n') };
    });
  } finally {
    void root.close();
  }
}

/** Every Redis key under the prefix, with its value whatever its type. */
export async function dumpRedis(prefix: string): Promise<Dump[]> {
  const redis = new Redis(urls.redis);
  try {
    const dumps: Dump[] = [];
    for (const key of await redis.keys(`${prefix}*`)) {
      const type = await redis.type(key);
      const value =
        type === 'set' ? await redis.smembers(key) : type === 'hash' ? await redis.hgetall(key) : type === 'list' ? await redis.lrange(key, 0, -1) : type === 'string' ? await redis.get(key) : type;
      dumps.push({ where: `redis:${key}`, text: `${key} ${JSON.stringify(value)}` });
    }
    return dumps;
  } finally {
    await redis.quit();
  }
}

/** The places whose text holds the secret, as it is or as the hex of its UTF-8 (a bytea column). */
export function holding(dumps: readonly Dump[], secret: string): string[] {
  const hex = Buffer.from(secret, 'utf8').toString('hex');
  return dumps.filter((dump) => dump.text.includes(secret) || dump.text.includes(hex)).map((dump) => dump.where);
}

/**
 * The files under `dir` (recursively, every byte: database pages, write-ahead log, LMDB files,
 * the outbox) that hold any of the needles, as paths relative to `dir`: what a hex editor finds.
 */
export function filesHolding(dir: string, needles: readonly Buffer[]): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile()) {
        const bytes = readFileSync(full);
        if (needles.some((needle) => bytes.includes(needle))) found.push(relative(dir, full));
      }
    }
  };
  visit(dir);
  return found.sort();
}
