#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { AnalyticsStack } from '../lib/analytics-stack';
import { settingsFromContext } from '../lib/settings';

// aws-cdk-lib announces each bundled asset on stderr whatever the CLI's verbosity, so a quiet
// `cdk synth -q` printed a line per function; only those announcements are dropped here.
const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => (typeof chunk === 'string' && /^Bundling asset \S+\.\.\.\n?$/.test(chunk) ? true : write(chunk, ...rest)));

// The AWS target deploys the built web app: built here when its sources are newer than the build,
// as `npm start` does, so `cdk synth` and `cdk deploy` need no step of their own (its output is
// dropped: a quiet synth prints nothing; a failed build prints its error and stops the synth).
execFileSync(process.execPath, [path.join(__dirname, 'web-build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });

const app = new App();
new AnalyticsStack(app, 'AnalyticsStack', {
  settings: settingsFromContext(app.node),
  webBuildFolder: path.join(__dirname, '..', 'web', 'dist'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Therapeutic analytics: ingestion, aggregation, query API and alerting',
});
// The stack has no unacknowledged finding (test/infra/cdk-nag.test.ts); a new one fails synth
// and deploy too, not only the tests. Acknowledge through lib/nag.ts, with the reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
