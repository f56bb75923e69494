#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { AnalyticsStack } from '../lib/analytics-stack';
import { settingsFromContext } from '../lib/settings';

const app = new App();
new AnalyticsStack(app, 'AnalyticsStack', {
  settings: settingsFromContext(app.node),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Therapeutic analytics: ingestion, aggregation, query API and alerting',
});
