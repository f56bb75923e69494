import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { serviceUrls, SERVICES_FILE } = require('./service-urls') as {
  serviceUrls: () => Record<ServiceName, string>;
  SERVICES_FILE: string;
};

export type ServiceName = 'postgres' | 'redis' | 'moto';

interface ServiceStatus {
  ok: boolean;
  url: string;
  why?: string;
}

function status(): Record<ServiceName, ServiceStatus> {
  return JSON.parse(readFileSync(SERVICES_FILE, 'utf8')) as Record<ServiceName, ServiceStatus>;
}

export const urls = serviceUrls();

/** True when `command` is an executable file in a folder of PATH. */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((folder) => {
    try {
      accessSync(join(folder, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * `describe` when every named service answered the global probe, otherwise a skipped
 * `describe` (the probe printed why; under REQUIRE_SERVICES=1 the run already failed).
 * `commands` the suite starts itself (a private `moto_server` it can restart) must be on PATH:
 * a missing one skips the suite with a printed reason, or fails it under REQUIRE_SERVICES=1.
 */
export function describeWithServices(services: readonly ServiceName[], name: string, body: () => void, options: { readonly commands?: readonly string[] } = {}): void {
  const found = status();
  const missing = services.filter((service) => !found[service].ok);
  const absent = (options.commands ?? []).filter((command) => !onPath(command));
  if (absent.length > 0) {
    const why = `${name}: ${absent.join(', ')} not on PATH`;
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1 but ${why}`);
    console.warn(`Skipped: ${why}`);
  }
  const reasons = [...(missing.length > 0 ? [`${missing.join(', ')} unreachable`] : []), ...(absent.length > 0 ? [`${absent.join(', ')} not on PATH`] : [])];
  const run = reasons.length === 0 ? describe : describe.skip;
  run(reasons.length === 0 ? name : `${name} [skipped: ${reasons.join('; ')}]`, body);
}

/** A PostgreSQL URL whose connections use a fresh schema, so suites running in parallel do not meet. */
export async function freshPostgresUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const { Client } = await import('pg');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: urls.postgres });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(urls.postgres);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: urls.postgres });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** A prefix for Redis keys and channels, unique per suite. */
export function freshRedisPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}
