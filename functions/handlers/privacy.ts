import { randomUUID } from 'node:crypto';
import { redisClient } from '../adapters/redis/redis-client';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import type { Logger } from '../adapters/log';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { dynamoDbClient } from '../adapters/aws/clients';
import { DynamoConsentRegistry } from '../adapters/aws/dynamo-consent-registry';
import { parseEnv } from '../config/env';
import { connectDatabase, functionUrlVerifier, loadPepper, privacyEnv, recordKeyStore } from '../config/lambda';
import { userIdSchema } from '../domain/events/schema';
import { PLAIN_TEXT_MESSAGE } from '../domain/api/input-bounds';
import { consentBodySchema } from '../domain/privacy/consent';
import { SqlAuditLog } from '../adapters/pg/sql-audit-log';
import type { Clock } from '../ports';
import type { AuditLog } from '../ports/audit';
import { ConsentUnavailableError } from '../ports/consent';
import { makeRecordConsent, type RecordConsent } from '../use-cases/consent';
import { RETAINED_EVERYWHERE, RETAINED_IN_AWS, erasureTargets, makeEraseUser, type EraseUser } from '../use-cases/erase-user';
import { HttpError, badRequest, invalidBody } from './http/errors';
import { lazyHandler } from './lazy';
import { alertConsole } from './monitoring-parts';
import { SqlConditionStore } from '../adapters/pg/sql-condition-store';
import type { BearerVerifier } from './http/bearer';
import { json, jsonBody, noteForAudit, onlyParameters, routedHandler, type HttpEvent, type HttpResult } from './http/middleware';
import { pseudonymisers } from './ingest';
import { caseloadBodySchema } from '../domain/alerting/caseload';
import { clinicianFromPath } from './http/clinician-path';
import { makeAssignCaseload, type AssignCaseload } from '../use-cases/caseloads';
import { SqlInterventionStore } from '../adapters/pg/sql-intervention-store';
import { SqlCaseloadStore } from '../adapters/pg/sql-caseload-store';

export interface PrivacyHandlerDeps {
  readonly recordConsent: RecordConsent;
  readonly assignCaseload: AssignCaseload;
  readonly eraseUser: EraseUser;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly verifyBearer?: BearerVerifier;
}

function userIdFromPath(event: HttpEvent): string {
  const parsed = userIdSchema.safeParse(event.pathParameters?.['userId']);
  if (!parsed.success) throw badRequest('invalid_parameter', `userId: must be 1 to 256 characters and ${PLAIN_TEXT_MESSAGE}`, { parameter: 'userId' });
  return parsed.data;
}

async function putConsent(deps: PrivacyHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const userId = userIdFromPath(event);
  const body = consentBodySchema.safeParse(jsonBody(event));
  if (!body.success) throw invalidBody(body.error.issues);
  const record = await deps.recordConsent(userId, body.data).catch((error: unknown) => {
    if (error instanceof ConsentUnavailableError) throw new HttpError(503, 'consent_unavailable', 'the consent registry did not answer, so the consent was not recorded; send it again');
    throw error;
  });
  noteForAudit(event, { scopes: record.scopes });
  deps.logger.info('consent recorded', { analytics: record.scopes.analytics, research: record.scopes.research, safetyMonitoring: record.scopes.safety_monitoring });
  return json(200, record);
}

/** PUT /v1/clinicians/{clinicianId}/users: how many users the caseload holds, never who. */
async function putCaseload(deps: PrivacyHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const clinician = clinicianFromPath(event);
  const body = caseloadBodySchema.safeParse(jsonBody(event));
  if (!body.success) throw invalidBody(body.error.issues);
  const assigned = await deps.assignCaseload(clinician, body.data.userIds);
  noteForAudit(event, { clinician: assigned.clinicianId, users: assigned.users });
  return json(200, assigned);
}

/** DELETE /v1/users/{userId}/data: the receipt; its audit entry keeps the counts, not the pseudonym. */
async function deleteUserData(deps: PrivacyHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const receipt = await deps.eraseUser(userIdFromPath(event));
  // Per store, summed: several steps can clean one store (PostgreSQL holds events, alerts, conditions).
  const removed: Record<string, number> = {};
  for (const step of receipt.removed) removed[step.store] = (removed[step.store] ?? 0) + step.count;
  noteForAudit(event, { receiptId: receipt.receiptId, removed });
  deps.logger.info('user data erased', { receiptId: receipt.receiptId, items: receipt.removed.reduce((sum, step) => sum + step.count, 0) });
  return json(200, receipt, { 'cache-control': 'no-store' });
}

const AUDIT_PAGE = { default: 100, max: 1_000 } as const;

function positiveInteger(event: HttpEvent, name: string, max: number): number | undefined {
  const text = event.queryStringParameters?.[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > max) throw badRequest('invalid_parameter', `${name}: must be an integer from 1 to ${max}`, { parameter: name });
  return value;
}

/** GET /v1/audit: newest first, `limit` per page, `before` the `next` of the previous page. */
async function getAudit(deps: PrivacyHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, ['before', 'limit']);
  const limit = positiveInteger(event, 'limit', AUDIT_PAGE.max) ?? AUDIT_PAGE.default;
  const entries = await deps.audit.list({ beforeSeq: positiveInteger(event, 'before', Number.MAX_SAFE_INTEGER), limit });
  const last = entries[entries.length - 1];
  return json(200, { entries, next: entries.length === limit && last !== undefined && last.seq > 1 ? last.seq : null }, { 'cache-control': 'no-store' });
}

/** Consent, erasure and the audit trail: the data subject's and the auditor's side of the API. */
export function makePrivacyHandler(deps: PrivacyHandlerDeps) {
  return routedHandler(
    {
      'PUT /v1/consent/{userId}': (event) => putConsent(deps, event),
      'DELETE /v1/users/{userId}/data': (event) => deleteUserData(deps, event),
      'GET /v1/audit': (event) => getAudit(deps, event),
      'PUT /v1/clinicians/{clinicianId}/users': (event) => putCaseload(deps, event),
    },
    { logger: deps.logger, verifyBearer: deps.verifyBearer, audit: { log: deps.audit, clock: deps.clock } },
  );
}

const logger = lambdaLogger('privacy');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(privacyEnv);
    const clock = { now: () => new Date() };
    const consent = new DynamoConsentRegistry(dynamoDbClient(), config.CONSENT_TABLE_NAME);
    const pseudonymiseUser = pseudonymisers(await loadPepper()).user;
    const db = await connectDatabase({ logger });
    const live = new RedisLiveStore(redisClient(config.REDIS_URL, { logger }));
    return makePrivacyHandler({
      recordConsent: makeRecordConsent({ registry: consent, pseudonymiseUser, clock }),
      assignCaseload: makeAssignCaseload({ caseloads: new SqlCaseloadStore(db), pseudonymiseUser, clock }),
      eraseUser: makeEraseUser({
        pseudonymiseUser,
        targets: erasureTargets({
          consent,
          keys: recordKeyStore(),
          rollups: new SqlRollupStore(db),
          live,
          records: [],
          alerts: alertConsole(db, clock, randomUUID),
          conditions: new SqlConditionStore(db),
          alertFeed: live,
          interventions: new SqlInterventionStore(db),
        }),
        retained: [...RETAINED_EVERYWHERE, ...RETAINED_IN_AWS],
        clock,
        newId: randomUUID,
      }),
      audit: new SqlAuditLog(db),
      clock,
      logger,
      verifyBearer: functionUrlVerifier(),
    });
  }),
);
