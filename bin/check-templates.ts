/**
 * cfn-lint and checkov on the synthesised templates, against the findings acknowledged, each with
 * its reason, in `.ci/template-findings.json`: a finding not listed fails, and so does a listed
 * one that no longer occurs (a stale reason hides the next real finding). `.ci/run` runs it on both
 * templates: `npx tsx bin/check-templates.ts aws=cdk.out/AnalyticsStack.template.json
 * localstack=cdk.out.localstack/AnalyticsStack.template.json` (CFN_LINT and CHECKOV name the tools'
 * commands; by default those on the PATH).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Tool = 'cfn-lint' | 'checkov';

export interface Finding {
  readonly tool: Tool;
  readonly template: string;
  readonly rule: string;
  /** The resource's logical id, its hash suffix kept. */
  readonly resource: string;
  readonly message: string;
}

export interface Acknowledgement {
  readonly tool: Tool;
  readonly rule: string;
  /** Templates it holds in; every one when absent. */
  readonly templates?: readonly string[];
  /** Logical ids, a trailing `*` matching any suffix (CDK's hash); `*` alone, every resource. */
  readonly resources: readonly string[];
  readonly reason: string;
}

const matches = (pattern: string, id: string) => (pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : id === pattern);

const covers = (ack: Acknowledgement, finding: Finding) =>
  ack.tool === finding.tool && ack.rule === finding.rule && (ack.templates?.includes(finding.template) ?? true) && ack.resources.some((pattern) => matches(pattern, finding.resource));

/** Findings no acknowledgement covers, and acknowledged resource patterns that matched no finding. */
export function judgeFindings(findings: readonly Finding[], acknowledged: readonly Acknowledgement[]): { unlisted: Finding[]; stale: string[] } {
  const unlisted = findings.filter((finding) => !acknowledged.some((ack) => covers(ack, finding)));
  const stale = acknowledged.flatMap((ack) =>
    ack.resources
      .filter((pattern) => !findings.some((finding) => covers({ ...ack, resources: [pattern] }, finding)))
      .map((pattern) => `${ack.tool} ${ack.rule} ${pattern}${ack.templates ? ` (${ack.templates.join(', ')})` : ''}`),
  );
  return { unlisted, stale };
}

/** A tool that exits non-zero when it finds something: its output is still the answer. */
function run(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, status } = error as { stdout?: string; status?: number };
    const report = stdout?.trim() ?? '';
    if (report.startsWith('[') || report.startsWith('{')) return report;
    throw new Error(`${command} failed (exit ${status}): ${String((error as { stderr?: string }).stderr ?? error)}`);
  }
}

function cfnLintFindings(template: string, file: string): Finding[] {
  const results = JSON.parse(run(process.env.CFN_LINT ?? 'cfn-lint', ['--format', 'json', file]) || '[]') as { Rule: { Id: string }; Location: { Path: (string | number)[] }; Message: string }[];
  return results.map((r) => ({ tool: 'cfn-lint', template, rule: r.Rule.Id, resource: r.Location.Path[0] === 'Resources' ? String(r.Location.Path[1]) : r.Location.Path.join('/'), message: r.Message }));
}

function checkovFindings(template: string, file: string): Finding[] {
  const report = JSON.parse(run(process.env.CHECKOV ?? 'checkov', ['-f', file, '--framework', 'cloudformation', '-o', 'json', '--quiet'])) as { results?: { failed_checks: { check_id: string; check_name: string; resource: string }[] } };
  return (report.results?.failed_checks ?? []).map((c) => ({ tool: 'checkov', template, rule: c.check_id, resource: c.resource.split('.').slice(1).join('.'), message: c.check_name }));
}

function main(): void {
  const templates = process.argv.slice(2).map((arg) => arg.split('=') as [string, string]);
  if (templates.length === 0 || templates.some(([name, file]) => !name || !file)) throw new Error('usage: check-templates NAME=TEMPLATE.json ...');
  const { acknowledged } = JSON.parse(readFileSync(join(__dirname, '..', '.ci', 'template-findings.json'), 'utf8')) as { acknowledged: Acknowledgement[] };
  const findings = templates.flatMap(([name, file]) => [...cfnLintFindings(name, file), ...checkovFindings(name, file)]);
  const { unlisted, stale } = judgeFindings(findings, acknowledged);
  process.stdout.write(`${findings.length} findings of cfn-lint and checkov on ${templates.map(([name]) => name).join(' and ')}, ${findings.length - unlisted.length} acknowledged in .ci/template-findings.json\n`);
  for (const f of unlisted) process.stdout.write(`NOT ACKNOWLEDGED: ${f.tool} ${f.rule} ${f.template} ${f.resource}: ${f.message}\n`);
  for (const s of stale) process.stdout.write(`STALE ACKNOWLEDGEMENT (no such finding any more): ${s}\n`);
  if (unlisted.length > 0 || stale.length > 0) process.exit(1);
}

if (require.main === module) main();
