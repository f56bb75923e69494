import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { Client } from 'pg';
import { extractText, getDocumentProxy } from 'unpdf';
import { ESM_REQUIRE_BANNER } from '../../lib/house-function';
import { PDF_FONT_BUNDLE } from '../../lib/reporting';
import { describeWithServices, freshPostgresUrl } from '../support/services';
import { AWS_ONLY_FUNCTIONS, HOUSE_FUNCTIONS, lambdaNamed, synthStack } from './synth';

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
    for (const prefix of Object.values({ ...HOUSE_FUNCTIONS, ...AWS_ONLY_FUNCTIONS })) {
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

describe('the bundled report function', () => {
  const asset = bundleDir(HOUSE_FUNCTIONS.report);
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'report-bundle-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("carries pdfkit's standard fonts beside the bundle, and the imports map that resolves them", () => {
    expect(JSON.parse(readFileSync(path.join(asset, 'package.json'), 'utf8'))).toEqual(JSON.parse(PDF_FONT_BUNDLE.files['package.json']));
    expect(readdirSync(path.join(asset, 'standard-fonts'))).toEqual(expect.arrayContaining(['Helvetica.cjs', 'HelveticaBold.cjs', 'chunks']));
  });

  /**
   * The renderer bundled as the house function bundles a handler (esbuild, ESM, the require shim),
   * run from a copy of the report function's asset folder, so it meets the fonts exactly as
   * deployed. The handler itself renders only after a database and S3 answer; this is the part
   * that broke in a bundle.
   */
  async function renderFrom(folder: string): Promise<ReturnType<typeof spawnSync>> {
    const entry = path.join(folder, 'render-entry.ts');
    writeFileSync(
      entry,
      [
        `import { pdfRenderer } from ${JSON.stringify(path.join(__dirname, '..', '..', 'functions', 'adapters', 'report-formats', 'pdf'))};`,
        `import { SAMPLE_REPORT } from ${JSON.stringify(path.join(__dirname, '..', 'support', 'report-document'))};`,
        'process.stdout.write((await pdfRenderer.render(SAMPLE_REPORT)).toString("base64"));',
      ].join('\n'),
    );
    await build({ entryPoints: [entry], outfile: path.join(folder, 'render.mjs'), bundle: true, format: 'esm', platform: 'node', target: 'node22', mainFields: ['module', 'main'], banner: { js: ESM_REQUIRE_BANNER }, minify: true, logLevel: 'error' });
    return spawnSync(process.execPath, [path.join(folder, 'render.mjs')], { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 64 * 1024 * 1024 });
  }

  it('renders a PDF with its text from a bundle laid out as the asset is', async () => {
    const deployed = path.join(scratch, 'deployed');
    cpSync(asset, deployed, { recursive: true });

    const run = await renderFrom(deployed);

    expect(run.stderr).toBe('');
    const pdf = Buffer.from(String(run.stdout), 'base64');
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true });
    expect(text).toContain('Therapeutic outcomes, March 2027');
  }, 120_000);

  it('fails to render from a bundle without the fonts beside it (what the asset layout is for)', async () => {
    const bare = path.join(scratch, 'bare');
    cpSync(asset, bare, { recursive: true, filter: (source) => !source.includes('standard-fonts') && !source.endsWith('package.json') });

    const run = await renderFrom(bare);

    expect(run.status).not.toBe(0);
    expect(String(run.stderr)).toMatch(/#standard-fonts/);
  }, 120_000);
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

describeWithServices(['postgres'], 'the bundled report function on PostgreSQL', () => {
  it('starts as the deployed ES module and answers an unreadable job as a batch failure', async () => {
    const database = await freshPostgresUrl();
    const bundle = path.join(bundleDir(HOUSE_FUNCTIONS.report), 'index.mjs');
    const event = { Records: [{ messageId: 'm1', body: 'not a job', attributes: { ApproximateReceiveCount: '1' } }] };
    try {
      const script = `const { handler } = await import(${JSON.stringify(bundle)}); process.stdout.write(JSON.stringify(await handler(${JSON.stringify(event)}, { awsRequestId: 'bundling-test', functionName: 'report' })));`;

      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: {
          ...process.env,
          DATABASE_URL: database.url,
          LOG_LEVEL: 'silent',
          NODE_ENV: 'production',
          REPORT_BUCKET: 'reports',
          REPORT_OWNER_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:warning',
          AGGREGATE_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/aggregate-dlq',
          DETECT_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/detect-dlq',
        },
        encoding: 'utf8',
      });

      expect(JSON.parse(output)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    } finally {
      await database.drop();
    }
  });
});
