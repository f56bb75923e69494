import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../../functions/domain/api/openapi';
import { ERRORS } from '../../../functions/domain/api/openapi-route';
import { ATTRIBUTE_SCHEMAS, EVENT_TYPES, INSTRUMENTS } from '../../../functions/domain/events/schema';
import { AUDIT_PURPOSES } from '../../../functions/domain/privacy/audit';
import { METRICS } from '../../../functions/domain/rollups/catalogue';
import { LIVE_ROLES, ROUTES, type RouteKey } from '../../../functions/handlers/http/roles';
// The runtime's streaming global first: the live function's module calls it as it loads.
import '../../support/lambda-streaming';
import { BEARER_HEADER, LIVE_STREAM_MS } from '../../../functions/handlers/live';
import { COUNTERS_EVERY_MS, alertNotice, releasedCounters } from '../../../functions/use-cases/live-events';

/*
 * @seriousme/openapi-schema-validator is ESM-only and jest runs CommonJS here, so the OpenAPI
 * 3.1 structure is checked by hand: the required fields, every operation's responses, path
 * templates against their parameters, and that every $ref resolves. Each example is validated
 * against its schema by Ajv's JSON Schema 2020-12 (the dialect of OpenAPI 3.1's schemas).
 */

type Json = Record<string, any>;

const doc = openApiDocument(ROUTES) as Json;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of the document as `METHOD /path`, with its object. */
const operations = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
  Object.entries(item as Json)
    .filter(([method]) => HTTP_METHODS.includes(method))
    .map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation as Json] as const),
);
const operationOf = (routeKey: string): Json | undefined => operations.find(([key]) => key === routeKey)?.[1];
const routeKeys = Object.keys(ROUTES) as RouteKey[];
const errorCodesOf = (response: Json): string[] => {
  const schema = response.content['application/json'].schema as Json;
  const envelope = (schema.anyOf ? schema.anyOf[0] : schema) as Json;
  return envelope.properties.error.properties.code.enum as string[];
};
const schemas = doc.components.schemas as Json;

function resolve(ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsIn);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refsIn(value)));
}

function deref(node: Json): Json {
  return typeof node.$ref === 'string' ? deref(resolve(node.$ref) as Json) : node;
}

function variant(type: string): Json {
  const union = schemas.Event as Json;
  const found = (union.oneOf as Json[]).map(deref).find((v) => (v.properties.type.enum as string[]).includes(type));
  if (!found) throw new Error(`no variant for ${type}`);
  return found;
}

describe('openApiDocument', () => {
  describe('OpenAPI 3.1 structure', () => {
    it('declares version 3.1.x with an info block', () => {
      expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
      expect(typeof doc.info.title).toBe('string');
      expect(typeof doc.info.version).toBe('string');
    });

    it('gives every operation at least one response, each with a description', () => {
      for (const item of Object.values(doc.paths as Json)) {
        for (const operation of Object.values(item as Json)) {
          const responses = Object.entries((operation as Json).responses as Json);
          expect(responses.length).toBeGreaterThan(0);
          for (const [status, response] of responses) {
            expect(status).toMatch(/^[1-5]\d\d$/);
            expect(typeof deref(response as Json).description).toBe('string');
          }
        }
      }
    });

    it('declares a required path parameter for every template segment', () => {
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        expect(path.startsWith('/')).toBe(true);
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
        for (const operation of Object.values(item as Json)) {
          const declared = (((operation as Json).parameters ?? []) as Json[]).filter((p) => p.in === 'path');
          expect(declared.map((p) => p.name).sort()).toEqual([...templated].sort());
          for (const parameter of declared) expect(parameter.required).toBe(true);
        }
      }
    });

    it('declares each parameter once per operation, with a schema', () => {
      for (const [, operation] of operations) {
        const parameters = (operation.parameters ?? []) as Json[];
        expect(new Set(parameters.map((p) => `${p.in} ${p.name}`)).size).toBe(parameters.length);
        for (const parameter of parameters) {
          expect(['path', 'query', 'header', 'cookie']).toContain(parameter.in);
          expect(parameter.schema).toBeDefined();
        }
      }
    });

    it('holds only operations in its path items, and only declared schemes in their security', () => {
      const schemes = Object.keys(doc.components.securitySchemes as Json);
      for (const item of Object.values(doc.paths as Json)) for (const key of Object.keys(item as Json)) expect(HTTP_METHODS).toContain(key);
      for (const [, operation] of operations) for (const requirement of (operation.security ?? []) as Json[]) for (const scheme of Object.keys(requirement)) expect(schemes).toContain(scheme);
    });

    it('gives every response header a schema and every named example a value', () => {
      for (const [, operation] of operations) {
        for (const response of Object.values(operation.responses as Json) as Json[]) {
          for (const header of Object.values((response.headers ?? {}) as Json) as Json[]) expect(header.schema).toBeDefined();
          for (const media of Object.values((response.content ?? {}) as Json) as Json[]) for (const example of Object.values((media.examples ?? {}) as Json) as Json[]) expect(example).toHaveProperty('value');
        }
      }
    });

    it('resolves every $ref inside the document', () => {
      const refs = refsIn(doc);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect(resolve(ref)).toBeDefined();
    });

    it('names components with the characters OpenAPI allows', () => {
      for (const group of Object.values(doc.components as Json)) {
        for (const name of Object.keys(group as Json)) expect(name).toMatch(/^[a-zA-Z0-9.\-_]+$/);
      }
    });
  });

  describe('routes', () => {
    it.each(routeKeys)('documents %s', (routeKey) => {
      expect(operationOf(routeKey)).toBeDefined();
    });

    it('holds no operation outside ROUTES but the local runtime\'s own and the live stream', () => {
      const extra = operations.filter(([key]) => !(key in ROUTES) && key !== 'GET /v1/live');
      expect(extra.map(([key]) => key).sort()).toEqual(['GET /health', 'GET /metrics', 'POST /imports', 'POST /model-runs']);
      for (const [, operation] of extra) expect(operation.tags).toEqual(['Local runtime']);
    });

    it('documents the live stream as the code serves it: its events, roles and times', () => {
      const live = operationOf('GET /v1/live')!;
      expect(live.tags).toEqual(['Live view']);
      const stream = live.responses['200'].content['text/event-stream'];
      // Blocks as the stream writes them (eventsource-parser, the app's, is ESM-only under jest).
      const blocks = (stream.example as string).split('\n\n').filter((block) => block !== '');
      expect(blocks.map((block) => block.split('\n')[0])).toEqual(['retry: 2000', 'event: counters', 'event: alert', ': keep-alive']);
      const [counters, alert] = blocks.filter((block) => block.startsWith('event: ')).map((block) => JSON.parse(block.split('data: ')[1]!) as Json);
      // The example's fields are those the code releases, of the types it releases them as.
      expect(counters).toEqual(releasedCounters({ ...counters!, active_users: String(counters!.active_users) }, 5));
      expect(alert).toEqual(alertNotice(JSON.stringify({ kind: alert!.kind, severity: alert!.severity, alerts: (alert!.alertIds as string[]).map((id) => ({ id })) })));
      const description = live.description as string;
      for (const role of LIVE_ROLES) expect(description).toContain(role);
      expect(description).toContain(`every ${COUNTERS_EVERY_MS / 1000} s`);
      expect(description).toContain(`after ${LIVE_STREAM_MS / 60_000} minutes`);
      expect(description).toContain(BEARER_HEADER);
    });

    const publicRoutes = routeKeys.filter((key) => ROUTES[key].roles === 'public');
    const protectedRoutes = routeKeys.filter((key) => ROUTES[key].roles !== 'public');
    const auditedRoutes = routeKeys.filter((key) => 'audit' in ROUTES[key]);
    const unauditedRoutes = routeKeys.filter((key) => !('audit' in ROUTES[key]));
    const purposeHeaderOf = (routeKey: string) => ((operationOf(routeKey)!.parameters ?? []) as Json[]).find((p) => p.in === 'header' && p.name === 'x-purpose');

    it.each(protectedRoutes)('asks %s for a bearer token of the roles ROUTES names', (routeKey) => {
      const operation = operationOf(routeKey)!;
      expect(operation.security).toEqual([{ bearerAuth: [] }]);
      expect(operation['x-roles']).toEqual(ROUTES[routeKey].roles);
      expect(errorCodesOf(operation.responses['401'])).toEqual(['unauthorized']);
      expect(errorCodesOf(operation.responses['403'])).toContain('forbidden');
    });

    it.each(publicRoutes)('leaves %s open, as ROUTES does', (routeKey) => {
      expect(operationOf(routeKey)!.security).toBeUndefined();
      expect(operationOf(routeKey)!.responses['401']).toBeUndefined();
    });

    it.each(auditedRoutes)('takes x-purpose on the audited %s, and answers its 400 and the audit trail\'s 503', (routeKey) => {
      const operation = operationOf(routeKey)!;
      expect(purposeHeaderOf(routeKey)).toMatchObject({ required: false, schema: { enum: [...AUDIT_PURPOSES] } });
      expect(errorCodesOf(operation.responses['400'])).toContain('invalid_header');
      expect(errorCodesOf(operation.responses['503'])).toContain('audit_unavailable');
    });

    it.each(unauditedRoutes)('takes no x-purpose on %s, which is not audited', (routeKey) => {
      expect(purposeHeaderOf(routeKey)).toBeUndefined();
    });

    const withoutExample = new Set(['GET /openapi.json']);
    it.each(routeKeys.filter((key) => !withoutExample.has(key)))('gives %s an example answer', (routeKey) => {
      const operation = operationOf(routeKey)!;
      const success = Object.keys(operation.responses as Json).find((status) => status.startsWith('2'))!;
      expect(operation.responses[success].content['application/json'].example).toBeDefined();
    });

    it('gives examples that their schemas accept, answers and bodies alike', () => {
      // The document as a schema of its own, so each media schema's $refs resolve in it; OpenAPI's
      // own keywords (discriminator, example) are not JSON Schema's, hence strict off.
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats(ajv);
      ajv.addSchema({ ...doc, $id: 'doc' });
      const pointer = (...keys: string[]) => keys.map((key) => key.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
      const checked: string[] = [];
      const refused: Json[] = [];
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        for (const [method, operation] of Object.entries(item as Json)) {
          const media = [
            ...Object.entries((operation.responses ?? {}) as Json).map(([status, response]) => [['responses', status], (response as Json).content] as const),
            [['requestBody'], operation.requestBody?.content] as const,
          ];
          for (const [at, content] of media) {
            for (const [type, medium] of Object.entries((content ?? {}) as Json)) {
              const examples = [...(medium.example !== undefined ? [medium.example] : []), ...Object.values((medium.examples ?? {}) as Json).map((example) => (example as Json).value)];
              if (examples.length === 0 || !medium.schema) continue;
              const validate = ajv.compile({ $ref: `doc#/${pointer('paths', path, method, ...at, 'content', type, 'schema')}` });
              for (const example of examples) {
                checked.push(`${method} ${path} ${at.join(' ')}`);
                if (!validate(example)) refused.push({ at: `${method} ${path} ${at.join(' ')}`, errors: validate.errors });
              }
            }
          }
        }
      }
      expect(refused).toEqual([]);
      expect(checked.length).toBeGreaterThan(50);
    });

    it('gives operations unique ids and declares every tag they use', () => {
      const ids = operations.map(([, operation]) => operation.operationId as string);
      expect(new Set(ids).size).toBe(ids.length);
      const declared = (doc.tags as Json[]).map((tag) => tag.name);
      for (const [, operation] of operations) for (const tag of operation.tags as string[]) expect(declared).toContain(tag);
    });
  });

  describe('errors', () => {
    const errorAnswers = operations
      .filter(([key]) => key in ROUTES)
      .flatMap(([key, operation]) =>
      Object.entries(operation.responses as Json)
        // API Gateway's own throttle answer (a 429 without codes) has no envelope.
        .filter(([status]) => status >= '400' && (operation.responses[status] as Json).content?.['application/json']?.examples)
        .map(([status, response]) => [key, status, response as Json] as const),
    );

    it('lists each code under its status, with an example of each that names it', () => {
      expect(errorAnswers.length).toBeGreaterThan(0);
      for (const [, status, response] of errorAnswers) {
        const codes = errorCodesOf(response);
        for (const code of codes) {
          expect(String(ERRORS[code as keyof typeof ERRORS].status)).toBe(status);
          expect(response.content['application/json'].examples[code].value.error.code).toBe(code);
          expect(response.description).toContain(`\`${code}\``);
        }
      }
    });

    it('documents every code of the catalogue on some route', () => {
      const used = new Set(errorAnswers.flatMap(([, , response]) => errorCodesOf(response)));
      expect([...used].sort()).toEqual(Object.keys(ERRORS).sort());
    });

    it('names the reasons a token is refused and the header that says how to authenticate', () => {
      const unauthorized = doc.paths['/v1/metrics/{metric}'].get.responses['401'] as Json;
      expect(unauthorized.content['application/json'].schema.anyOf[0].properties.error.properties.details.properties.reason.enum).toEqual(['missing', 'malformed', 'expired', 'bad_signature', 'not_accepted']);
      expect(unauthorized.headers['www-authenticate']).toMatchObject({ required: false });
    });

    it('says when to retry a 503, and that a 429 is API Gateway\'s throttle', () => {
      const operation = doc.paths['/v1/events'].post as Json;
      expect([...errorCodesOf(operation.responses['503'])].sort()).toEqual(['consent_unavailable', 'keys_unavailable', 'unavailable']);
      expect(operation.responses['503'].headers['retry-after']).toMatchObject({ required: false });
      const metrics = doc.paths['/v1/metrics/{metric}'].get as Json;
      expect(deref(metrics.responses['429'].content['application/json'].schema as Json).properties.message.type).toBe('string');
    });

    it('documents the backlog 429 of POST /v1/events, with Retry-After, beside API Gateway\'s throttle', () => {
      const answer = (doc.paths['/v1/events'].post as Json).responses['429'] as Json;
      expect(errorCodesOf(answer)).toEqual(['ingest_backlog']);
      expect(answer.headers['retry-after']).toMatchObject({ required: false });
      expect(deref(answer.content['application/json'].schema.anyOf[1] as Json).properties.message.type).toBe('string');
      expect(Object.keys(answer.content['application/json'].examples)).toEqual(['ingest_backlog', 'gateway']);
    });

    it('answers the ack of a resolved alert 409 and an unknown one 404', () => {
      const ack = doc.paths['/v1/alerts/{id}/ack'].post as Json;
      expect(errorCodesOf(ack.responses['409'])).toEqual(['alert_resolved']);
      expect(errorCodesOf(ack.responses['404'])).toEqual(['not_found']);
    });
  });

  describe('POST /v1/events', () => {
    const operation = doc.paths['/v1/events'].post as Json;

    it('takes 1 to 500 events of the Event union', () => {
      const body = deref(operation.requestBody.content['application/json'].schema as Json);
      expect(body.required).toEqual(['events']);
      expect(body.properties.events).toMatchObject({ type: 'array', minItems: 1, maxItems: 500, items: { $ref: '#/components/schemas/Event' } });
    });

    it('answers 202 with accepted and per-index rejections', () => {
      const result = deref(operation.responses['202'].content['application/json'].schema as Json);
      expect(result.required).toEqual(expect.arrayContaining(['accepted', 'rejected']));
      expect(result.properties.accepted.type).toBe('integer');
      expect(result.properties.rejected.items.required).toEqual(['index', 'code', 'message']);
    });

    it.each(['400', '403', '413', '500', '503'])('answers %s with the error envelope', (status) => {
      const envelope = operation.responses[status].content['application/json'].schema as Json;
      expect(envelope.required).toEqual(['error']);
      expect(envelope.properties.error.required).toEqual(['code', 'message']);
      expect(Object.keys(envelope.properties.error.properties)).toEqual(expect.arrayContaining(['code', 'message']));
    });

    it('answers 400 for a body that is not JSON or no list of 1 to 500 events, 413 over 1 MiB', () => {
      expect([...errorCodesOf(operation.responses['400'])].sort()).toEqual(['invalid_request', 'malformed_json']);
      expect(errorCodesOf(operation.responses['413'])).toEqual(['payload_too_large']);
      expect(operation.responses['413'].description).toMatch(/1 MiB/);
    });
  });

  describe('the Event union', () => {
    it('is a oneOf discriminated by type over all 9 types', () => {
      const union = schemas.Event as Json;
      expect(union.discriminator.propertyName).toBe('type');
      expect(Object.keys(union.discriminator.mapping as Json).sort()).toEqual([...EVENT_TYPES].sort());
      expect(union.oneOf).toHaveLength(9);
      for (const type of EVENT_TYPES) {
        const v = variant(type);
        expect(v.required).toEqual(expect.arrayContaining(['eventId', 'type', 'occurredAt', 'userId', 'sessionId', 'attributes']));
        expect(v.properties.attributes.type).toBe('object');
      }
    });

    it.each(EVENT_TYPES)('gives %s the attributes its ingest schema names', (type) => {
      expect(Object.keys(variant(type).properties.attributes.properties as Json)).toEqual(Object.keys(ATTRIBUTE_SCHEMAS[type].shape));
    });

    it('bounds mood.reported valence to -1..1', () => {
      expect(variant('mood.reported').properties.attributes.properties.valence).toMatchObject({ type: 'number', minimum: -1, maximum: 1 });
      expect(variant('mood.reported').properties.attributes.required).toEqual(['valence', 'arousal']);
    });

    it('lists the assessment instruments and states their score rules', () => {
      const assessment = variant('assessment.completed');
      expect(assessment.properties.attributes.properties.instrument.enum).toEqual(Object.keys(INSTRUMENTS));
      expect(assessment.description).toContain('PHQ-9: score 0..27, 9 items of 0..3');
    });

    it('carries the enums of choices, interventions, milestones and crisis signals', () => {
      const attributes = (type: string) => variant(type).properties.attributes.properties as Json;
      expect(attributes('choice.made').choiceType.enum).toContain('emotional_regulation');
      expect(attributes('choice.made').therapeuticValue).toMatchObject({ minimum: 0, maximum: 1 });
      expect(attributes('intervention.delivered').urgency.enum).toEqual(['standard', 'elevated', 'crisis']);
      expect(attributes('intervention.delivered').effectivenessRating).toMatchObject({ type: 'integer', minimum: 1, maximum: 5 });
      expect(attributes('progress.milestone').milestone.enum).toEqual(['breakthrough', 'skill_acquired', 'goal_completed']);
      expect(attributes('crisis.signal').severity.enum).toEqual(['low', 'moderate', 'high', 'imminent']);
      expect(attributes('engagement.heartbeat').activeSec).toMatchObject({ maximum: 3600 });
      expect(attributes('session.ended').completed.type).toBe('boolean');
    });
  });

  describe('GET /v1/metrics', () => {
    it('answers the catalogue, each metric with kind, unit, description and dimensions, with an example that fits it', () => {
      const ok = doc.paths['/v1/metrics'].get.responses['200'].content['application/json'] as Json;
      const answer = deref(ok.schema as Json);
      const entry = answer.properties.metrics.items as Json;
      expect(entry.required).toEqual(['name', 'kind', 'unit', 'description', 'dimensions']);
      expect(entry.properties.kind.enum).toEqual(['counter', 'distribution', 'distinct']);
      expect(ok.example.metrics[0]).toEqual({ name: 'events', kind: 'counter', unit: 'events', description: 'every event', dimensions: ['type', 'platform'] });
    });
  });

  describe('GET /v1/metrics/{metric}', () => {
    const operation = doc.paths['/v1/metrics/{metric}'].get as Json;
    const parameter = (name: string) => (operation.parameters as Json[]).find((p) => p.name === name) as Json;

    it('takes the metric from the catalogue as a path parameter', () => {
      expect(parameter('metric').in).toBe('path');
      expect(parameter('metric').schema.enum).toEqual([
        'events',
        'sessions',
        'sessions.completed',
        'session.duration',
        'choice.response_time',
        'choice.therapeutic_value',
        'interventions',
        'intervention.effectiveness',
        'mood.valence',
        'assessment.score',
        'active_users',
      ]);
    });

    it('takes from, to, interval, groupBy, timeZone and filter as query parameters', () => {
      expect(parameter('from')).toMatchObject({ in: 'query', schema: { type: 'string', format: 'date-time' } });
      expect(parameter('to')).toMatchObject({ in: 'query', schema: { type: 'string', format: 'date-time' } });
      expect(parameter('interval')).toMatchObject({ in: 'query', schema: { enum: ['minute', 'hour', 'day', 'week', 'month'] } });
      expect(parameter('groupBy')).toMatchObject({ in: 'query', required: false, schema: { type: 'string' } });
      expect(parameter('timeZone')).toMatchObject({ in: 'query', required: false, schema: { type: 'string' }, example: 'Europe/London' });
      expect(parameter('filter')).toMatchObject({ in: 'query', required: false, schema: { type: 'string' }, example: 'platform:ios,platform:android,scenarioId:forest-path' });
      expect(parameter('filter').description).toContain('PRIVACY.md rule 7');
    });

    it('answers 200 with series of points and whether anything was withheld, 400 and 401 with the envelope', () => {
      const answer = deref(operation.responses['200'].content['application/json'].schema as Json);
      expect(answer.required).toEqual(expect.arrayContaining(['metric', 'interval', 'timeZone', 'from', 'to', 'groupBy', 'series', 'suppressed']));
      const pointSchema = answer.properties.series.items.properties.points.items as Json;
      expect(pointSchema.required).toEqual(['t', 'count', 'users']);
      expect(Object.keys(pointSchema.properties as Json).sort()).toEqual(['count', 'mean', 'p50', 'p95', 'sum', 't', 'users', 'usersApprox']);
      // A withheld entry names no group: its only property is the reason.
      expect(answer.properties.suppressed.items).toMatchObject({ required: ['reason'], properties: { reason: { enum: ['k_anonymity'] } } });
      expect(Object.keys(answer.properties.suppressed.items.properties as Json)).toEqual(['reason']);
      expect([...errorCodesOf(operation.responses['400'])].sort()).toEqual(['invalid_header', 'invalid_parameter']);
    });

    it('states which dimensions each metric may be grouped by', () => {
      expect(operation['x-metric-dimensions']).toEqual(Object.fromEntries(METRICS.map((metric) => [metric.name, metric.dimensions])));
      const groupBy = new RegExp(parameter('groupBy').schema.pattern as string);
      expect(groupBy.test('type,platform')).toBe(true);
      expect(groupBy.test('type, platform')).toBe(true);
      expect(groupBy.test('type;platform')).toBe(false);
      for (const metric of METRICS) {
        expect(operation.description).toContain(`| \`${metric.name}\` |`);
        expect(parameter('groupBy').description).toContain(`${metric.name}: ${metric.dimensions.join(', ')}`);
      }
    });

    it('gives an example answer', () => {
      expect(operation.responses['200'].content['application/json'].example).toMatchObject({ metric: 'events', groupBy: ['type'] });
    });
  });

  describe('monitoring', () => {
    it('takes alert rules and silences as their handlers validate them', () => {
      const rules = doc.paths['/v1/alert-rules'].put as Json;
      expect(rules.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/AlertRules' });
      const kinds = (schemas.AlertRules.properties.rules.items.oneOf as Json[]).map((rule) => rule.properties.kind.enum[0]);
      expect(kinds).toEqual(['threshold', 'rate_of_change', 'absence', 'anomaly', 'composite']);
      const silence = deref(doc.paths['/v1/silences'].post.requestBody.content['application/json'].schema as Json);
      expect(silence.required).toEqual(['matchers', 'endsAt', 'comment']);
      expect(silence.properties.matchers).toMatchObject({ minItems: 1, maxItems: 16 });
    });

    it('answers alerts with their pseudonymous subject, and filters them by status and severity', () => {
      const list = doc.paths['/v1/alerts'].get as Json;
      const parameter = (name: string) => (list.parameters as Json[]).find((p) => p.name === name) as Json;
      expect(parameter('status').schema.enum).toEqual(['firing', 'acknowledged', 'resolved']);
      expect(parameter('limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 100 });
      expect(schemas.Alert.properties.subject.description).toMatch(/never a raw user id/);
      expect(list.responses['200'].content['application/json'].example.alerts[0].subject).toMatch(/^user:[0-9a-f]{64}$/);
    });

    it('lists the watched series an anomaly query may name', () => {
      const series = (doc.paths['/v1/anomalies'].get.parameters as Json[]).find((p) => p.name === 'series') as Json;
      expect(series.schema.enum).toEqual(expect.arrayContaining(['ingest.latency_p95_ms', 'events.per_minute{type=crisis.signal}']));
    });
  });

  describe('the local runtime\'s operations', () => {
    it('answers /metrics in the Prometheus text format and /health with each part', () => {
      expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain; version=0.0.4; charset=utf-8']);
      expect(schemas.HealthReport.properties.status.enum).toEqual(['ok', 'degraded', 'down']);
      expect(doc.paths['/health'].get.responses['503']).toBeDefined();
    });
  });

  it('produces the same document on every call', () => {
    expect(openApiDocument(ROUTES)).toEqual(doc);
  });
});
