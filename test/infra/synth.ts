import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AnalyticsStack } from '../../lib/analytics-stack';
import { settingsFromContext } from '../../lib/settings';

export interface Synthesised {
  readonly app: App;
  readonly stack: AnalyticsStack;
  readonly template: Template;
}

/** Builds the stack the way bin/app.ts does; bundling is skipped unless asked for. */
export function synthStack(context: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): Synthesised {
  const app = new App({
    context: options.bundle ? context : { 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new AnalyticsStack(app, 'AnalyticsStack', { settings: settingsFromContext(app.node) });
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
} as const;
