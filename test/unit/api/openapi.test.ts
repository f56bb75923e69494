import { openApiDocument } from '../../../functions/domain/api/openapi';
import { ATTRIBUTE_SCHEMAS, EVENT_TYPES, INSTRUMENTS } from '../../../functions/domain/events/schema';

/*
 * @seriousme/openapi-schema-validator is ESM-only and jest runs CommonJS here, so the OpenAPI
 * 3.1 structure is checked by hand: the required fields, every operation's responses, path
 * templates against their parameters, and that every $ref resolves.
 */

type Json = Record<string, any>;

const doc = openApiDocument() as Json;
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
    it('has exactly the listed paths and methods', () => {
      const operations = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
        Object.keys(item as Json).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(operations.sort()).toEqual(['GET /health', 'GET /openapi.json', 'GET /v1/metrics/{metric}', 'POST /v1/events', 'PUT /v1/consent/{userId}', 'GET /v1/audit', 'DELETE /v1/users/{userId}/data', 'POST /v1/research/exports', 'GET /v1/privacy/budget', 'POST /v1/reports', 'GET /v1/reports/{id}'].sort());
    });

    it('protects the /v1 routes with a bearer JWT and leaves /health and /openapi.json open', () => {
      expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
      expect(doc.paths['/v1/events'].post.security).toEqual([{ bearerAuth: [] }]);
      expect(doc.paths['/v1/metrics/{metric}'].get.security).toEqual([{ bearerAuth: [] }]);
      expect(doc.paths['/v1/consent/{userId}'].put.security).toEqual([{ bearerAuth: [] }]);
      expect(doc.paths['/health'].get.security).toBeUndefined();
      expect(doc.paths['/openapi.json'].get.security).toBeUndefined();
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

    it.each(['400', '401', '413'])('answers %s with the error envelope', (status) => {
      const schema = operation.responses[status].content['application/json'].schema as Json;
      expect(schema).toEqual({ $ref: '#/components/schemas/Error' });
      const envelope = deref(schema);
      expect(envelope.required).toEqual(['error']);
      expect(envelope.properties.error.required).toEqual(['code', 'message']);
      expect(Object.keys(envelope.properties.error.properties)).toEqual(['code', 'message', 'details']);
    });

    it('describes the 413 as the 1 MiB body limit', () => {
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
        'mood.valence',
        'assessment.score',
        'active_users',
      ]);
    });

    it('takes from, to, interval and groupBy as query parameters', () => {
      expect(parameter('from')).toMatchObject({ in: 'query', schema: { type: 'string', format: 'date-time' } });
      expect(parameter('to')).toMatchObject({ in: 'query', schema: { type: 'string', format: 'date-time' } });
      expect(parameter('interval')).toMatchObject({ in: 'query', schema: { enum: ['minute', 'hour', 'day'] } });
      expect(parameter('groupBy')).toMatchObject({ in: 'query', required: false, schema: { type: 'string' } });
    });

    it('answers 200 with series of points and whether anything was withheld, 400 and 401 with the envelope', () => {
      const answer = deref(operation.responses['200'].content['application/json'].schema as Json);
      expect(answer.required).toEqual(expect.arrayContaining(['metric', 'interval', 'from', 'to', 'groupBy', 'series', 'suppressed']));
      const pointSchema = answer.properties.series.items.properties.points.items as Json;
      expect(pointSchema.required).toEqual(['t', 'count', 'users']);
      expect(Object.keys(pointSchema.properties as Json).sort()).toEqual(['count', 'mean', 'p50', 'p95', 'sum', 't', 'users', 'usersApprox']);
      // A withheld entry names no group: its only property is the reason.
      expect(answer.properties.suppressed.items).toMatchObject({ required: ['reason'], properties: { reason: { enum: ['k_anonymity'] } } });
      expect(Object.keys(answer.properties.suppressed.items.properties as Json)).toEqual(['reason']);
      for (const status of ['400', '401']) {
        expect(operation.responses[status].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      }
    });
  });

  it('produces the same document on every call', () => {
    expect(openApiDocument()).toEqual(doc);
  });
});
