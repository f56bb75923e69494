import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { describeWithServices, freshPostgresUrl } from '../support/services';
import { HOUSE_FUNCTIONS, lambdaNamed, synthStack } from './synth';

// The one synthesis that bundles for real with the local esbuild: proves the ESM output, the
// require shim and the source maps reach the asset that would be deployed, and that a bundle runs.
const { app, template } = synthStack({}, { bundle: true });
const outdir = app.synth().directory;
const bundleDir = (prefix: string) => {
  const { resource } = lambdaNamed(template, prefix);
  return path.join(outdir, `asset.${(resource.Properties.Code.S3Key as string).replace(/\.zip$/, '')}`);
};

describe('bundling', () => {
  it('bundles every handler as minified ESM with a require shim and a source map', () => {
    for (const prefix of Object.values(HOUSE_FUNCTIONS)) {
      const bundle = path.join(bundleDir(prefix), 'index.mjs');
      expect(existsSync(bundle)).toBe(true);
      const code = readFileSync(bundle, 'utf8');
      expect(code).toMatch(/createRequire as __houseCreateRequire.*import\.meta\.url/);
      expect(code).toContain('export');
      expect(code).toMatch(/sourceMappingURL=index\.mjs\.map/);
      expect(existsSync(`${bundle}.map`)).toBe(true);
      // Minified: the indentation of the source is gone.
      expect(code).not.toMatch(/\n {2}throw/);
      // The embedded-mode database never ships to Lambda.
      expect(code).not.toContain('pglite');
    }
  });

  it('ships the SQL migrations beside the migrate bundle', () => {
    const shipped = readdirSync(path.join(bundleDir(HOUSE_FUNCTIONS.migrate), 'migrations'));
    const source = readdirSync(path.join(__dirname, '..', '..', 'functions', 'adapters', 'pg', 'migrations'));

    expect(shipped.sort()).toEqual(source.filter((file) => file.endsWith('.sql')).sort());
  });
});

describeWithServices(['postgres'], 'the bundled migrate function', () => {
  it('runs as the deployed ES module and applies the migrations to PostgreSQL', async () => {
    const database = await freshPostgresUrl();
    const bundle = path.join(bundleDir(HOUSE_FUNCTIONS.migrate), 'index.mjs');
    try {
      const script = `const { handler } = await import(${JSON.stringify(bundle)}); process.stdout.write(JSON.stringify(await handler({ RequestType: 'Create' }, { awsRequestId: 'bundling-test', functionName: 'migrate' })));`;

      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
        encoding: 'utf8',
      });

      expect(JSON.parse(output)).toMatchObject({ PhysicalResourceId: 'schema-migrations', Data: { applied: expect.stringContaining('001-') } });
      const client = new Client({ connectionString: database.url });
      await client.connect();
      const tables = await client.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()");
      await client.end();
      expect(tables.rows.map((row) => row.name)).toEqual(expect.arrayContaining(['rollups', 'schema_migrations']));
    } finally {
      await database.drop();
    }
  });
});
