import { effectivenessWeeks, followUpsOf, releaseEffectiveness, type EffectivenessCounts } from '../../../functions/domain/alerting/intervention-effectiveness';
import type { StoredEvent } from '../../../functions/domain/events/schema';

const K = 5;
const week = (iso: string) => new Date(iso);
const counts = (overrides: Partial<EffectivenessCounts>): EffectivenessCounts => ({
  week: week('2026-11-09T00:00:00Z'),
  interventionType: 'crisis_support',
  users: K,
  recommended: 6,
  sent: 5,
  followed: 4,
  moodUsers: K,
  moodChangeMean: 0.25,
  ...overrides,
});

describe('the weeks an effectiveness answer covers', () => {
  const now = new Date('2026-12-06T12:00:00Z');

  it('are the last four whole weeks up to this one by default, Monday to Monday in UTC', () => {
    expect(effectivenessWeeks({}, now)).toEqual({ from: Date.parse('2026-11-09T00:00:00Z'), to: Date.parse('2026-12-07T00:00:00Z') });
  });

  it('widen the asked range to whole weeks, an end on a Monday midnight not counting the week it opens', () => {
    expect(effectivenessWeeks({ from: '2026-11-11T15:00:00Z', to: '2026-11-23T00:00:00Z' }, now)).toEqual({ from: Date.parse('2026-11-09T00:00:00Z'), to: Date.parse('2026-11-23T00:00:00Z') });
  });

  it('refuse a range that ends before it starts, or of more than two years, naming from', () => {
    expect(effectivenessWeeks({ from: '2026-11-20T00:00:00Z', to: '2026-11-02T00:00:00Z' }, now)).toEqual({ error: 'must be before to', parameter: 'from' });
    expect(effectivenessWeeks({ from: '2020-01-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }, now)).toMatchObject({ parameter: 'from' });
  });
});

describe('the release of effectiveness figures', () => {
  const range = { from: Date.parse('2026-11-09T00:00:00Z'), to: Date.parse('2026-11-23T00:00:00Z') };

  it('shows a week and type of k users, withholds one of k - 1, and withholds a mood change measured on fewer than k', () => {
    const answer = releaseEffectiveness(
      [counts({}), counts({ interventionType: 'breathing', users: K - 1 }), counts({ week: week('2026-11-16T00:00:00Z'), moodUsers: K - 1 }), counts({ week: week('2026-11-16T00:00:00Z'), interventionType: 'check_in', sent: 0, followed: 0, moodChangeMean: null, moodUsers: 0 })],
      range,
      K,
    );

    expect(answer.weeks).toEqual([
      {
        start: '2026-11-09T00:00:00.000Z',
        types: [
          { interventionType: 'breathing', suppressed: true },
          { interventionType: 'crisis_support', users: K, recommended: 6, sent: 5, followed: 4, followedShare: 0.8, moodChange: { users: K, mean: 0.25 } },
        ],
      },
      {
        start: '2026-11-16T00:00:00.000Z',
        types: [
          { interventionType: 'check_in', users: K, recommended: 6, sent: 0, followed: 0, followedShare: null, moodChange: { suppressed: true } },
          { interventionType: 'crisis_support', users: K, recommended: 6, sent: 5, followed: 4, followedShare: 0.8, moodChange: { suppressed: true } },
        ],
      },
    ]);
    expect([answer.from, answer.to, answer.k]).toEqual(['2026-11-09T00:00:00.000Z', '2026-11-23T00:00:00.000Z', K]);
  });

  it('answers a week the same whatever range holds it, and releases no total: differencing two answers leaves whole released weeks', () => {
    const stored = [counts({}), counts({ week: week('2026-11-16T00:00:00Z'), users: K - 1 })];
    const one = releaseEffectiveness(stored, { from: range.from, to: Date.parse('2026-11-16T00:00:00Z') }, K);
    const both = releaseEffectiveness(stored, range, K);

    expect(both.weeks[0]).toEqual(one.weeks[0]);
    expect(both.weeks[1]).toEqual({ start: '2026-11-16T00:00:00.000Z', types: [{ interventionType: 'crisis_support', suppressed: true }] });
    expect(Object.keys(both)).toEqual(['from', 'to', 'interval', 'k', 'weeks']);
  });
});

describe('follow-ups of a batch', () => {
  const event = (type: string, attributes: object, subject = 'e'.repeat(64)) => ({ type, attributes, subject, occurredAt: '2026-11-10T12:00:00.000Z' }) as unknown as StoredEvent;

  it('are the completed interventions and the mood reports, in event order, keyed as recommendations are', () => {
    const batch = [
      event('mood.reported', { valence: -0.3, arousal: 0.5 }),
      event('intervention.delivered', { interventionType: 'breathing', urgency: 'standard', completion: 'skipped' }),
      event('intervention.delivered', { interventionType: 'breathing', urgency: 'standard', completion: 'completed' }),
      event('session.started', { scenarioId: 'forest-path' }),
    ];

    expect(followUpsOf(batch)).toEqual([
      { kind: 'mood', subject: `user:${'e'.repeat(64)}`, valence: -0.3, at: new Date('2026-11-10T12:00:00.000Z') },
      { kind: 'completed', subject: `user:${'e'.repeat(64)}`, interventionType: 'breathing', at: new Date('2026-11-10T12:00:00.000Z') },
    ]);
  });
});
