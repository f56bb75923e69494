import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AnalyticsStack } from '../../lib/analytics-stack';
import { settingsFromContext } from '../../lib/settings';

/** A built web app in miniature (index.html, one hashed script), so no test needs `npm run build:web`. */
export const WEB_BUILD_FIXTURE = path.join(__dirname, 'fixtures', 'web-dist');

export interface Synthesised {
  readonly app: App;
  readonly stack: AnalyticsStack;
  readonly template: Template;
}

/**
 * Builds the stack the way bin/app.ts does; bundling is skipped unless asked for. `extend` adds to
 * the stack before synthesis, as a construct built by another part would.
 */
export function synthStack(context: Record<string, unknown> = {}, options: { bundle?: boolean; extend?: (stack: AnalyticsStack) => void } = {}): Synthesised {
  const app = new App({
    context: options.bundle ? context : { 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new AnalyticsStack(app, 'AnalyticsStack', { settings: settingsFromContext(app.node), webBuildFolder: WEB_BUILD_FIXTURE });
  options.extend?.(stack);
  return { app, stack, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, any>; [key: string]: any };

/** The one Lambda whose logical id starts with `prefix` (construct paths are stable ids). */
export function lambdaNamed(template: Template, prefix: string): { id: string; resource: Resource } {
  const matches = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one function ${prefix}*, found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  const [id, resource] = matches[0]!;
  return { id, resource: resource as Resource };
}

export function logicalIdOf(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

export const HOUSE_FUNCTIONS = {
  ingest: 'IngestionIngestFunction',
  aggregate: 'ProcessingAggregateFunction',
  rollUp: 'ProcessingRollUpFunction',
  purge: 'ProcessingPurgeFunction',
  query: 'QueryServiceQueryFunction',
  privacy: 'PrivacyServicePrivacyFunction',
  migrate: 'MigrationsMigrateFunction',
  detect: 'MonitoringDetectFunction',
  monitor: 'MonitoringMonitorFunction',
  alerts: 'MonitoringAlertsFunction',
  import: 'HistoryImportImportFunction',
  model: 'BehaviourModelModelFunction',
  report: 'ReportingReportFunction',
} as const;

/** Functions the AWS target alone builds: the live stream's (lib/live-stream.ts), which serves behind CloudFront. */
export const AWS_ONLY_FUNCTIONS = {
  live: 'LiveStreamLiveFunction',
  jwks: 'LiveStreamJwksFunction',
} as const;

/** One unacknowledged finding, as a line a reader can act on: rule, severity, construct path. */
export function nagFindings(scope: IConstruct): string[] {
  const lines: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
    for (const violation of pack.validateScope(scope).violations) {
      for (const resource of violation.violatingResources) {
        lines.push(`${violation.ruleName} (${violation.severity}) at ${resource.constructPath}: ${violation.description}`);
      }
    }
  }
  return lines.sort();
}
