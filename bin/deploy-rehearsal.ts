/**
 * Deploy rehearsal (`npm run rehearse`): the LocalStack variant's template created as a
 * CloudFormation stack on moto (AWS_ENDPOINT_URL, default http://127.0.0.1:5000), its assets
 * uploaded first to the bootstrap bucket, and a report resource by resource of what moto created
 * and what it does not support. It fails on a resource moto supports but refuses.
 *
 * How moto is met:
 * - Synthesised with CliCredentialsStackSynthesizer: assets go to the bootstrap bucket's usual name
 *   (`cdk-hnb659fds-assets-<account>-<region>`, created here on moto), and the template has no
 *   `BootstrapVersion` SSM parameter or check rule, nor bootstrap roles, which moto lacks.
 * - moto's CloudFormation skips a resource type it does not implement without a word, and answers
 *   Ref or GetAtt of it with null. Which types it implements is asked first, one probe stack per
 *   type; then every Ref, GetAtt and Sub of a skipped resource is replaced with an ARN-shaped
 *   placeholder, so each supported resource is judged on its own properties, not on a null moto
 *   put in them. Outputs are left out: moto's check of them fails on a GetAtt of a skipped type.
 * - moto creates a stack in one call and answers a resource's failure with an error for the
 *   whole stack (HTTP 500, no message): the refusing resource is found by creating ever longer
 *   prefixes of the resources in dependency order (a binary search), then left out with what
 *   depends on it, and the rest is created again.
 * - A refused resource whose properties hold a placeholder is not held against the template:
 *   moto looked up something it cannot have created (a stream consumer, a secret).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { App, CliCredentialsStackSynthesizer } from 'aws-cdk-lib';
import { s3Client } from '../functions/adapters/aws/clients';
import { AnalyticsStack } from '../lib/analytics-stack';
import { settingsFromContext } from '../lib/settings';
import { cliOptions } from './cli-options';

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly [key: string]: unknown;
}

export interface Template {
  readonly Resources: Record<string, TemplateResource>;
  readonly [key: string]: unknown;
}

export type Verdict =
  | { readonly id: string; readonly type: string; readonly verdict: 'created' }
  /** A custom resource moto accepted and handed to its provider function, whose code moto runs only in Docker. */
  | { readonly id: string; readonly type: string; readonly verdict: 'provider-not-run' }
  | { readonly id: string; readonly type: string; readonly verdict: 'unsupported' }
  | { readonly id: string; readonly type: string; readonly verdict: 'refused'; readonly error: string }
  /** Refused, but its properties named a resource moto does not support: moto's gap, not the template's. */
  | { readonly id: string; readonly type: string; readonly verdict: 'refused-unsupported-reference'; readonly error: string; readonly references: readonly string[] }
  | { readonly id: string; readonly type: string; readonly verdict: 'not-attempted'; readonly after: string };

/** The logical ids a value refers to: Ref, Fn::GetAtt and the `${Id}` / `${Id.Attr}` of Fn::Sub. */
export function referencesOf(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencesOf(item, into);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && !inner.startsWith('AWS::')) into.add(inner);
      else if (key === 'Fn::GetAtt') into.add(Array.isArray(inner) ? String(inner[0]) : String(inner).split('.')[0]!);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? String(inner[0]) : String(inner);
        for (const [, name] of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) into.add(name!);
        if (Array.isArray(inner)) referencesOf(inner[1], into);
      } else referencesOf(inner, into);
    }
  }
  return into;
}

const dependsOn = (resource: TemplateResource): string[] => (resource.DependsOn === undefined ? [] : [resource.DependsOn].flat());

/** Each resource's dependencies in the template: references and DependsOn. */
export function dependencies(template: Template): Map<string, Set<string>> {
  return new Map(
    Object.entries(template.Resources).map(([id, resource]) => [
      id,
      new Set([...referencesOf(resource.Properties ?? {}), ...dependsOn(resource)].filter((name) => name in template.Resources)),
    ]),
  );
}

/** The resources, every one after those it depends on (template order among equals). */
export function dependencyOrder(template: Template): string[] {
  const needs = dependencies(template);
  const ordered: string[] = [];
  const placed = new Set<string>();
  const visit = (id: string, path: Set<string>) => {
    if (placed.has(id)) return;
    if (path.has(id)) throw new Error(`dependency cycle through ${id}`);
    path.add(id);
    for (const needed of needs.get(id) ?? []) visit(needed, path);
    path.delete(id);
    placed.add(id);
    ordered.push(id);
  };
  for (const id of Object.keys(template.Resources)) visit(id, new Set());
  return ordered;
}

/** Every resource that depends, directly or not, on one of `roots`. */
export function dependentsOf(template: Template, roots: ReadonlySet<string>): Set<string> {
  const needs = dependencies(template);
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, needed] of needs) {
      if (found.has(id) || roots.has(id)) continue;
      if ([...needed].some((n) => roots.has(n) || found.has(n))) {
        found.add(id);
        grew = true;
      }
    }
  }
  return found;
}

/** What stands in for a skipped resource's Ref or attribute: an ARN of its service, naming it. */
export function placeholder(type: string, id: string, attribute: string | undefined, env: { readonly account: string; readonly region: string }): string {
  const service = type.split('::')[1]!.toLowerCase();
  return `arn:aws:${service}:${env.region}:${env.account}:rehearsal-placeholder/${id}${attribute === undefined ? '' : `/${attribute}`}`;
}

/**
 * The template moto is given: `keep` resources only, references to skipped resources (types in
 * `unsupported`) replaced by placeholders, DependsOn on them dropped, no Outputs. Answers which
 * resources hold a placeholder, and of what.
 */
export function rehearsalTemplate(
  template: Template,
  keep: ReadonlySet<string>,
  unsupported: ReadonlySet<string>,
  env: { readonly account: string; readonly region: string },
): { template: Template; placeheld: Map<string, string[]> } {
  const skipped = (id: string) => template.Resources[id] !== undefined && unsupported.has(template.Resources[id].Type);
  const placeheld = new Map<string, string[]>();
  const replace = (value: unknown, owner: string): unknown => {
    const note = (id: string) => placeheld.set(owner, [...new Set([...(placeheld.get(owner) ?? []), id])]);
    if (Array.isArray(value)) return value.map((item) => replace(item, owner));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [[key, inner]] = entries as [[string, unknown]];
      if (key === 'Ref' && typeof inner === 'string' && skipped(inner)) {
        note(inner);
        return placeholder(template.Resources[inner]!.Type, inner, undefined, env);
      }
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(inner) ? [String(inner[0]), String(inner[1])] : (String(inner).split('.') as [string, string]);
        if (skipped(id)) {
          note(id);
          return placeholder(template.Resources[id]!.Type, id, attribute, env);
        }
      }
      if (key === 'Fn::Sub' && typeof inner === 'string') {
        const text = inner.replace(/\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}/g, (whole, id: string, attribute: string | undefined) => {
          if (!skipped(id)) return whole;
          note(id);
          return placeholder(template.Resources[id]!.Type, id, attribute, env);
        });
        return { 'Fn::Sub': text };
      }
    }
    return Object.fromEntries(entries.map(([key, inner]) => [key, replace(inner, owner)]));
  };
  const resources = Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([id]) => keep.has(id))
      .map(([id, resource]) => {
        const { DependsOn: _dependsOn, Properties, ...rest } = resource;
        const kept = dependsOn(resource).filter((name) => keep.has(name) && !skipped(name));
        const properties = Properties === undefined ? {} : { Properties: unique(resource.Type, replace(Properties, id) as Record<string, unknown>) };
        return [id, { ...rest, ...properties, ...(kept.length > 0 ? { DependsOn: kept } : {}) }];
      }),
  );
  const { Outputs: _outputs, ...rest } = template;
  return { template: { ...rest, Resources: resources }, placeheld };
}

/**
 * Types whose name CloudFormation requires and moto keeps after a stack that failed (it does not
 * roll back): each attempt names them anew, or the next attempt is refused with "already exists"
 * and the refusal pinned on them.
 */
const NAMED_TYPES = new Set(['AWS::Events::EventBus']);
let attempts = 0;

function unique(type: string, properties: Record<string, unknown>): Record<string, unknown> {
  if (!NAMED_TYPES.has(type) || typeof properties['Name'] !== 'string') return properties;
  attempts += 1;
  return { ...properties, Name: `${properties['Name']}-${attempts}` };
}

/** The verdict on every resource of the template, from what was refused, skipped and created. */
export function judge(
  template: Template,
  found: {
    readonly unsupported: ReadonlySet<string>;
    readonly refused: ReadonlyMap<string, string>;
    readonly notAttempted: ReadonlyMap<string, string>;
    readonly placeheld: ReadonlyMap<string, readonly string[]>;
    /** DescribeStackResources of the stack that was created: logical id to status. */
    readonly described: ReadonlyMap<string, string>;
  },
): Verdict[] {
  return Object.entries(template.Resources).map(([id, { Type: type }]): Verdict => {
    const error = found.refused.get(id);
    if (error !== undefined) {
      const references = found.placeheld.get(id) ?? [];
      return references.length > 0 ? { id, type, verdict: 'refused-unsupported-reference', error, references } : { id, type, verdict: 'refused', error };
    }
    const after = found.notAttempted.get(id);
    if (after !== undefined) return { id, type, verdict: 'not-attempted', after };
    if (found.unsupported.has(type)) return { id, type, verdict: 'unsupported' };
    // moto creates every resource inside CreateStack (a failure fails the call) and lists each
    // with the stack's status, which stays CREATE_IN_PROGRESS while a custom resource waits.
    const status = found.described.get(id);
    if (status === undefined) return { id, type, verdict: 'refused', error: 'accepted by CreateStack but absent from DescribeStackResources' };
    if (/FAILED|ROLLBACK/.test(status)) return { id, type, verdict: 'refused', error: `left in ${status}` };
    if (type.startsWith('Custom::') && status.endsWith('IN_PROGRESS')) return { id, type, verdict: 'provider-not-run' };
    return { id, type, verdict: 'created' };
  });
}

/** Whether the rehearsal fails: a resource moto supports, refused on the template's own account. */
export const failures = (verdicts: readonly Verdict[]): Verdict[] => verdicts.filter((v) => v.verdict === 'refused');

// --- moto --------------------------------------------------------------------------------------

export class QueryError extends Error {
  constructor(
    readonly action: string,
    readonly status: number,
    detail: string,
  ) {
    super(`${action} answered ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'QueryError';
  }
}

const tag = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/**
 * An AWS query-protocol call (CloudFormation, STS) to moto. The project's AWS SDK has no
 * CloudFormation client; moto reads the service from the credential scope and checks no
 * signature, so a rehearsal against it needs neither. Never pointed at AWS.
 */
export async function motoQuery(endpoint: string, service: 'cloudformation' | 'sts', action: string, params: Record<string, string>, region: string): Promise<string> {
  const version = service === 'cloudformation' ? '2010-05-15' : '2011-06-15';
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Action: action, Version: version, ...params }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new QueryError(action, response.status, [tag(text, 'Code'), tag(text, 'Message')].filter(Boolean).join(': '));
  return text;
}

export interface Moto {
  readonly endpoint: string;
  readonly region: string;
  readonly account: string;
}

/** Creates the stack; answers its resources' statuses, or the error moto refused it with. */
export async function createStack(moto: Moto, template: Template): Promise<{ ok: true; name: string; described: Map<string, string> } | { ok: false; error: string }> {
  const name = `rehearsal-${randomBytes(4).toString('hex')}`;
  const call = (action: string, params: Record<string, string>) => motoQuery(moto.endpoint, 'cloudformation', action, params, moto.region);
  try {
    await call('CreateStack', { StackName: name, TemplateBody: JSON.stringify(template), 'Capabilities.member.1': 'CAPABILITY_IAM', 'Capabilities.member.2': 'CAPABILITY_NAMED_IAM' });
  } catch (error) {
    if (error instanceof QueryError) return { ok: false, error: error.message };
    throw error;
  }
  const xml = await call('DescribeStackResources', { StackName: name });
  // A resource of a type moto skips is listed too, with no logical id or type: left out here.
  const described = new Map(
    [...xml.matchAll(/<member>([\s\S]*?)<\/member>/g)].flatMap(([, member]) => {
      const id = tag(member!, 'LogicalResourceId');
      return id ? [[id, tag(member!, 'ResourceStatus') ?? '']] : [];
    }),
  );
  return { ok: true, name, described };
}

export async function deleteStack(moto: Moto, name: string): Promise<void> {
  await motoQuery(moto.endpoint, 'cloudformation', 'DeleteStack', { StackName: name }, moto.region).catch(() => undefined);
}

/** The types moto's CloudFormation skips: a stack of one such resource, even without properties, is created empty. */
export async function unsupportedTypes(moto: Moto, types: Iterable<string>): Promise<Set<string>> {
  const skipped = new Set<string>();
  for (const type of new Set(types)) {
    const probe = await createStack(moto, { Resources: { Probe: { Type: type, Properties: {} } } });
    if (!probe.ok) continue;
    if (probe.described.size === 0) skipped.add(type);
    await deleteStack(moto, probe.name);
  }
  return skipped;
}

/**
 * Creates the template on moto, resource by resource judged: a refusal is pinned on its resource
 * by creating ever longer prefixes in dependency order, and the rest is tried again without it
 * and what depends on it.
 */
export async function rehearse(moto: Moto, template: Template, log: (line: string) => void = () => undefined): Promise<Verdict[]> {
  const unsupported = await unsupportedTypes(moto, Object.values(template.Resources).map((r) => r.Type));
  log(`moto's CloudFormation skips ${unsupported.size} of the template's resource types: ${[...unsupported].sort().join(', ') || 'none'}`);
  const order = dependencyOrder(template);
  const refused = new Map<string, string>();
  const notAttempted = new Map<string, string>();
  let placeheld = new Map<string, string[]>();
  for (;;) {
    const keep = new Set(order.filter((id) => !refused.has(id) && !notAttempted.has(id)));
    const attempt = rehearsalTemplate(template, keep, unsupported, moto);
    placeheld = new Map([...placeheld, ...attempt.placeheld]);
    const created = await createStack(moto, attempt.template);
    if (created.ok) {
      await deleteStack(moto, created.name);
      return judge(template, { unsupported, refused, notAttempted, placeheld, described: created.described });
    }
    const kept = order.filter((id) => keep.has(id));
    // The shortest prefix moto refuses ends with the refusing resource.
    let [low, high] = [1, kept.length];
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const prefix = rehearsalTemplate(template, new Set(kept.slice(0, middle)), unsupported, moto).template;
      const trial = await createStack(moto, prefix);
      if (trial.ok) {
        await deleteStack(moto, trial.name);
        low = middle + 1;
      } else high = middle;
    }
    const culprit = kept[low - 1]!;
    const alone = await createStack(moto, rehearsalTemplate(template, new Set(kept.slice(0, low)), unsupported, moto).template);
    if (alone.ok) {
      await deleteStack(moto, alone.name);
      throw new Error(`moto refused the whole template (${created.error}) but no prefix of it: cannot pin the refusal on a resource`);
    }
    refused.set(culprit, alone.error);
    log(`refused: ${culprit} (${template.Resources[culprit]!.Type}): ${alone.error}`);
    for (const dependent of dependentsOf(template, new Set([culprit]))) if (!refused.has(dependent)) notAttempted.set(dependent, culprit);
  }
}

// --- the command ---------------------------------------------------------------------------------

const USAGE = `usage: npm run rehearse [-- --out DIR]

Synthesises the LocalStack variant (-c target=localstack), uploads its assets to the bootstrap
bucket on moto at AWS_ENDPOINT_URL (default http://127.0.0.1:5000), creates it as a CloudFormation
stack there and reports, resource by resource, what moto created and what it does not support.
Exits 1 when moto refuses a resource it supports. --out keeps the synthesised assembly in DIR.`;

/** The LocalStack variant's assembly, with the synthesizer that needs no bootstrap stack. */
function synthesise(outdir: string): { template: Template; assets: AssetManifest } {
  const app = new App({ outdir, context: { target: 'localstack' } });
  new AnalyticsStack(app, 'AnalyticsStack', { settings: settingsFromContext(app.node), synthesizer: new CliCredentialsStackSynthesizer() });
  app.synth();
  return {
    template: JSON.parse(readFileSync(join(outdir, 'AnalyticsStack.template.json'), 'utf8')) as Template,
    assets: JSON.parse(readFileSync(join(outdir, 'AnalyticsStack.assets.json'), 'utf8')) as AssetManifest,
  };
}

interface AssetManifest {
  readonly files: Record<string, { readonly source: { readonly path: string; readonly packaging?: 'zip' | 'file' }; readonly destinations: Record<string, { readonly bucketName: string; readonly objectKey: string }> }>;
}

/** Every file asset into its bucket, directories zipped as `cdk deploy` does (by Python's zipfile: moto's own Python is there). */
async function uploadAssets(moto: Moto, outdir: string, manifest: AssetManifest): Promise<number> {
  const s3 = s3Client({ endpoint: moto.endpoint, region: moto.region });
  const buckets = new Set<string>();
  let uploaded = 0;
  for (const [hash, asset] of Object.entries(manifest.files)) {
    const source = join(outdir, asset.source.path);
    const body = asset.source.packaging === 'zip' ? readFileSync(execFileSync('python3', ['-c', 'import shutil, sys; print(shutil.make_archive(sys.argv[1], "zip", sys.argv[2]))', join(outdir, `zip-${hash}`), source], { encoding: 'utf8' }).trim()) : readFileSync(source);
    for (const destination of Object.values(asset.destinations)) {
      const bucket = destination.bucketName.replaceAll('${AWS::AccountId}', moto.account).replaceAll('${AWS::Region}', moto.region).replaceAll('${AWS::Partition}', 'aws');
      if (!buckets.has(bucket)) {
        await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
          if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(error.name)) throw error;
        });
        buckets.add(bucket);
      }
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: destination.objectKey, Body: body }));
      uploaded += 1;
    }
  }
  return uploaded;
}

const EXPLAINED: Readonly<Record<Verdict['verdict'], string>> = {
  created: 'created',
  'provider-not-run': 'created; its provider function not run (moto runs Lambda code only in Docker)',
  unsupported: "not supported by moto's CloudFormation (skipped)",
  refused: 'REFUSED by moto',
  'refused-unsupported-reference': 'refused by moto, over a placeholder for a resource it does not support',
  'not-attempted': 'not attempted: depends on a refused resource',
};

async function main(): Promise<void> {
  const options = cliOptions(USAGE, { out: { type: 'string' } });
  const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:5000';
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const account = tag(await motoQuery(endpoint, 'sts', 'GetCallerIdentity', {}, region), 'Account');
  if (account === undefined) throw new Error(`no account from GetCallerIdentity at ${endpoint}: is moto running there?`);
  const moto: Moto = { endpoint, region, account };
  const outdir = options.out ?? mkdtempSync(join(tmpdir(), 'rehearsal-'));
  try {
    const started = Date.now();
    const { template, assets } = synthesise(outdir);
    const uploaded = await uploadAssets(moto, outdir, assets);
    process.stdout.write(`synthesised the LocalStack variant (${Object.keys(template.Resources).length} resources) and uploaded ${uploaded} assets to moto at ${endpoint} (account ${account}) in ${Math.round((Date.now() - started) / 1000)} s\n`);
    const verdicts = await rehearse(moto, template, (line) => process.stdout.write(`${line}\n`));
    for (const v of [...verdicts].sort((a, b) => a.verdict.localeCompare(b.verdict) || a.type.localeCompare(b.type) || a.id.localeCompare(b.id))) {
      const detail = v.verdict === 'refused' ? `: ${v.error}` : v.verdict === 'refused-unsupported-reference' ? `: ${v.references.join(', ')} (${v.error})` : v.verdict === 'not-attempted' ? ` (${v.after})` : '';
      process.stdout.write(`${v.type.padEnd(34)} ${v.id.padEnd(70)} ${EXPLAINED[v.verdict]}${detail}\n`);
    }
    const tally = new Map<string, number>();
    for (const v of verdicts) tally.set(v.verdict, (tally.get(v.verdict) ?? 0) + 1);
    process.stdout.write(`${[...tally].map(([verdict, n]) => `${n} ${verdict}`).join(', ')}\n`);
    if (failures(verdicts).length > 0) process.exit(1);
  } finally {
    if (options.out === undefined) rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
