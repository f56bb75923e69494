import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../adapters/log';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { SqlAuditLog } from '../adapters/pg/sql-audit-log';
import { SqlAnomalyStore } from '../adapters/pg/sql-anomaly-stores';
import { parseEnv } from '../config/env';
import { alertsEnv, connectDatabase, functionUrlVerifier } from '../config/lambda';
import { QueryError } from '../domain/rollups/metric-query';
import { silenceInputSchema } from '../domain/alerting/silence';
import { alertQuerySchema } from '../domain/alerting/alert';
import type { Clock } from '../ports';
import type { AuditLog } from '../ports/audit';
import type { AnomalyStore } from '../ports/anomalies';
import { AlertResolvedError, InvalidSilenceError, type AlertConsole } from '../use-cases/alert-manager';
import type { AlertRulesAdmin } from '../use-cases/rule-engine';
import { listAnomalies } from '../use-cases/watch-series';
import { HttpError, badRequest, invalidBody } from './http/errors';
import { callerOf, json, jsonBody, noteForAudit, onlyParameters, routedHandler, type HttpEvent, type HttpResult } from './http/middleware';
import type { BearerVerifier } from './http/bearer';
import { lazyHandler } from './lazy';
import { alertConsole, alertRulesAdmin } from './monitoring-parts';
import { issueMessage } from '../domain/api/issue-message';
import { recipientPreferencesSchema } from '../domain/alerting/recipient';
import { clinicianFromPath } from './http/clinician-path';

export interface AlertsHandlerDeps {
  readonly alerts: AlertConsole;
  readonly rules: AlertRulesAdmin;
  readonly anomalies: AnomalyStore;
  readonly k: number;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly verifyBearer?: BearerVerifier;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The alert's or silence's id from the path, once valid also noted for the audit entry. */
function idFromPath(event: HttpEvent): string {
  const id = event.pathParameters?.['id'] ?? '';
  if (!ID.test(id)) throw badRequest('invalid_parameter', 'id: must be a lowercase UUID', { parameter: 'id' });
  noteForAudit(event, { id });
  return id;
}

function parameters<T>(event: HttpEvent, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  // A strict schema reports unknown parameters at the query's root: name the first of them.
  const parameter = issue.code === 'unrecognized_keys' ? (issue.keys[0] ?? 'query') : String(issue.path[0] ?? 'query');
  throw badRequest('invalid_parameter', `${parameter}: ${issue.code === 'unrecognized_keys' ? 'unknown parameter' : issueMessage(issue)}`, { parameter });
}

/** A clinician sees and acknowledges the alerts of their own caseload only; an administrator all. */
function caseloadOf(event: HttpEvent): { caseloadOf?: string } {
  const caller = callerOf(event);
  return caller.role === 'clinician' ? { caseloadOf: caller.actor } : {};
}

/** GET /v1/alerts: newest first; `before` is the `startsAt` of the last alert of the previous page. */
async function getAlerts(deps: AlertsHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const query = parameters(event, alertQuerySchema);
  const alerts = await deps.alerts.list({ ...query, ...caseloadOf(event) });
  noteForAudit(event, { status: query.status ?? 'any', severity: query.severity ?? 'any', count: alerts.length });
  return json(200, { alerts }, { 'cache-control': 'no-store' });
}

async function acknowledge(deps: AlertsHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const id = idFromPath(event);
  try {
    const alert = await deps.alerts.acknowledge(id, callerOf(event).actor, caseloadOf(event).caseloadOf);
    if (!alert) throw new HttpError(404, 'not_found', `no alert ${id}`);
    return json(200, alert);
  } catch (error) {
    if (error instanceof AlertResolvedError) throw new HttpError(409, 'alert_resolved', error.message);
    throw error;
  }
}

async function putAlertRules(deps: AlertsHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  try {
    const answer = await deps.rules.putRules(jsonBody(event), callerOf(event).actor);
    noteForAudit(event, { rules: answer.rules.length });
    return json(200, answer);
  } catch (error) {
    if (error instanceof z.ZodError) throw invalidBody(error.issues);
    throw error;
  }
}

async function postSilence(deps: AlertsHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const parsed = silenceInputSchema.safeParse(jsonBody(event));
  if (!parsed.success) throw invalidBody(parsed.error.issues);
  try {
    const silence = await deps.alerts.silences.create(parsed.data, callerOf(event).actor);
    noteForAudit(event, { silence: silence.id, endsAt: silence.endsAt });
    return json(201, silence);
  } catch (error) {
    if (error instanceof InvalidSilenceError) throw badRequest('invalid_body', error.message, { field: 'endsAt' });
    throw error;
  }
}

async function deleteSilence(deps: AlertsHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const id = idFromPath(event);
  if (!(await deps.alerts.silences.expire(id, callerOf(event).actor))) throw new HttpError(404, 'not_found', `no silence ${id}`);
  return json(200, { id, expired: true });
}

async function getAnomalies(deps: AlertsHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, ['from', 'to', 'series', 'limit']);
  try {
    const { anomalies, query } = await listAnomalies(deps.anomalies, event.queryStringParameters ?? {}, { k: deps.k });
    noteForAudit(event, { from: query.from.toISOString(), to: query.to.toISOString(), series: query.series, limit: query.limit, count: anomalies.length });
    return json(200, { anomalies }, { 'cache-control': 'no-store' });
  } catch (error) {
    if (error instanceof QueryError) throw badRequest('invalid_parameter', `${error.parameter}: ${error.message}`, { parameter: error.parameter });
    throw error;
  }
}

/** The clinician of the path, when the caller may read and set their preferences: an administrator, or that clinician. */
function preferencesOwner(event: HttpEvent): string {
  const clinician = clinicianFromPath(event);
  const caller = callerOf(event);
  if (caller.role === 'clinician' && caller.actor !== clinician) throw new HttpError(403, 'forbidden', 'a clinician may read and set only their own preferences');
  return clinician;
}

async function putPreferences(deps: AlertsHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const clinician = preferencesOwner(event);
  const body = recipientPreferencesSchema.safeParse(jsonBody(event));
  if (!body.success) throw invalidBody(body.error.issues);
  noteForAudit(event, { clinician });
  return json(200, await deps.alerts.preferences.set(clinician, body.data));
}

/** Monitoring: alerts and their acknowledgement, alert rules, silences and the anomalies found. */
export function makeAlertsHandler(deps: AlertsHandlerDeps) {
  return routedHandler(
    {
      'GET /v1/alerts': (event) => getAlerts(deps, event),
      'POST /v1/alerts/{id}/ack': (event) => acknowledge(deps, event),
      'GET /v1/alert-rules': async () => json(200, await deps.rules.getRules()),
      'PUT /v1/alert-rules': (event) => putAlertRules(deps, event),
      'GET /v1/silences': async () => json(200, { silences: await deps.alerts.silences.list() }),
      'POST /v1/silences': (event) => postSilence(deps, event),
      'DELETE /v1/silences/{id}': (event) => deleteSilence(deps, event),
      'GET /v1/anomalies': (event) => getAnomalies(deps, event),
      'GET /v1/clinicians/{clinicianId}/preferences': async (event) => json(200, await deps.alerts.preferences.get(preferencesOwner(event))),
      'PUT /v1/clinicians/{clinicianId}/preferences': (event) => putPreferences(deps, event),
    },
    { logger: deps.logger, verifyBearer: deps.verifyBearer, audit: { log: deps.audit, clock: deps.clock } },
  );
}

const logger = lambdaLogger('alerts');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(alertsEnv);
    const clock = { now: () => new Date() };
    const db = await connectDatabase({ logger });
    return makeAlertsHandler({
      alerts: alertConsole(db, clock, randomUUID),
      rules: alertRulesAdmin(db),
      anomalies: new SqlAnomalyStore(db),
      k: config.K_ANONYMITY,
      audit: new SqlAuditLog(db),
      clock,
      logger,
      verifyBearer: functionUrlVerifier(),
    });
  }),
);
