import type { AlertMessage } from '../../../functions/domain/alerting/model';
import { snsPublication } from '../../../functions/domain/alerting/message';
import {
  failures,
  newLedger,
  parsePage,
  reconcileCounts,
  reconcileCrises,
  streamOf,
  type AlertRecord,
  type CrisisExpectation,
  type Ledger,
  type Page,
  type Verdict,
} from '../../../bench/fault-reconcile';

/** A ledger of `accepted` events answered at the given times, and other events in the given states. */
function ledgerOf(accepted: readonly [sentAt: number, answeredAt: number][], others: { unanswered?: number; refused?: number; unansweredThenRefused?: number } = {}): Ledger {
  const ledger = newLedger();
  accepted.forEach(([sentAt, answeredAt], index) => {
    ledger.sent.set(`a${index}`, { kind: 'load', userId: 'u' });
    ledger.accepted.set(`a${index}`, { sentAt, answeredAt });
  });
  for (let index = 0; index < (others.unanswered ?? 0); index += 1) ledger.unanswered.add(`n${index}`);
  for (let index = 0; index < (others.refused ?? 0); index += 1) ledger.refused.set(`r${index}`, 'consent_missing');
  for (let index = 0; index < (others.unansweredThenRefused ?? 0); index += 1) {
    ledger.unanswered.add(`ur${index}`);
    ledger.refused.set(`ur${index}`, 'consent_missing');
  }
  return ledger;
}

const times = (count: number, at: number): [number, number][] => Array.from({ length: count }, () => [at, at + 5]);

/** The plain text the product pages with (SNS `default`, outbox `message`), rendered by the product's own code. */
function pageText(kind: AlertMessage['kind'], subjects: readonly string[], rule = 'crisis-signal'): string {
  const message: AlertMessage = {
    kind,
    severity: 'critical',
    groupKey: rule,
    alerts: subjects.map((subject, index) => ({ id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, rule, subject, startsAt: '2026-12-04T10:00:00.000Z', summary: 'crisis.severity 4 >= 3' })),
    dashboardUrl: 'http://127.0.0.1:3000/alerts/x',
  };
  return (JSON.parse(snsPublication(message).Message) as { default: string }).default;
}

const alertOf = (subject: string, notifications: { status: string; kind?: string; at?: string }[] = [{ status: 'delivered' }]): AlertRecord => ({
  rule: 'crisis-signal',
  subject,
  notifications: notifications.map((n) => ({ kind: n.kind ?? 'firing', channel: 'sns', status: n.status, at: n.at ?? '2026-12-04T10:00:01.000Z' })),
});

describe('the fault script reconciliation', () => {
  describe('streamOf', () => {
    const loss = { killedAt: 1_000, upAt: 2_000 };

    it('puts an event answered before the emulator was back on the lost stream, one sent after the kill on the new one', () => {
      expect(streamOf({ sentAt: 900, answeredAt: 950 }, loss)).toBe('old');
      // Answered during the outage: the emulator had taken it before it died.
      expect(streamOf({ sentAt: 990, answeredAt: 1_500 }, loss)).toBe('old');
      expect(streamOf({ sentAt: 1_200, answeredAt: 2_100 }, loss)).toBe('new');
      expect(streamOf({ sentAt: 900, answeredAt: 2_100 }, loss)).toBe('ambiguous');
    });
  });

  describe('reconcileCounts', () => {
    it('finds nothing wrong when every accepted event is counted once', () => {
      const result = reconcileCounts(ledgerOf(times(5, 0)), 5);

      expect(result).toMatchObject({ accepted: 5, expected: 5, counted: 5, missing: 0, extra: 0 });
    });

    it('names an accepted event that was never counted as missing, and one counted twice as extra', () => {
      expect(reconcileCounts(ledgerOf(times(5, 0)), 4)).toMatchObject({ missing: 1, extra: 0 });
      expect(reconcileCounts(ledgerOf(times(5, 0)), 6)).toMatchObject({ missing: 0, extra: 1 });
    });

    it('lets an event of an unanswered attempt be counted even if never accepted, but not one only ever refused', () => {
      const ledger = ledgerOf(times(5, 0), { unanswered: 2, unansweredThenRefused: 1, refused: 3 });

      expect(reconcileCounts(ledger, 8)).toMatchObject({ maybeStored: 3, extra: 0 });
      expect(reconcileCounts(ledger, 9)).toMatchObject({ maybeStored: 3, extra: 1 });
    });

    it('charges the emulator with what was on its lost stream and not yet counted when it died, and the product with the rest', () => {
      // 6 accepted before the kill (2 of them counted by then), 4 after the emulator came back.
      const ledger = ledgerOf([...times(6, 500), ...times(4, 3_000)]);
      const loss = { killedAt: 1_000, upAt: 2_000, countedWhileDown: 2, alertedWhileDown: new Set<string>() };

      expect(reconcileCounts(ledger, 6, loss)).toMatchObject({ onLostStream: 6, emulatorLoss: 4, expected: 6, missing: 0, extra: 0 });
      // Events of the new stream skipped (a stale checkpoint, say) are the product's loss.
      expect(reconcileCounts(ledger, 3, loss)).toMatchObject({ emulatorLoss: 4, missing: 3 });
    });
  });

  describe('parsePage', () => {
    it('reads the kind, the rule and each listed subject of a page the product renders', () => {
      const pages = parsePage(pageText('firing', ['user:aa', 'user:bb']), 7);

      expect(pages).toEqual<Page[]>([{ at: 7, kind: 'firing', rule: 'crisis-signal', subjects: ['user:aa', 'user:bb'], hidden: 0 }]);
      expect(parsePage(pageText('repeat', ['user:aa']), 7)[0]?.kind).toBe('repeat');
      expect(parsePage(pageText('escalation', ['user:aa']), 7)[0]?.kind).toBe('escalation');
    });

    it('counts the alerts a large group page leaves unlisted', () => {
      const subjects = Array.from({ length: 23 }, (_, index) => `user:${index}`);

      const [page] = parsePage(pageText('firing', subjects), 0);

      expect(page?.subjects).toHaveLength(20);
      expect(page?.hidden).toBe(3);
    });

    it('reads nothing from a text that is not a page', () => {
      expect(parsePage('hello', 0)).toEqual([]);
    });
  });

  describe('reconcileCrises', () => {
    const watched = (subject: string, atRisk = false): CrisisExpectation => ({ subject, watched: true, atRisk });
    const firing = (subjects: string[], hidden = 0, at = 0): Page => ({ at, kind: 'firing', rule: 'crisis-signal', subjects, hidden });

    it('tells each way a crisis can end', () => {
      const expected = [watched('user:once'), watched('user:twice'), watched('user:none'), watched('user:lost', true), watched('user:failed'), watched('user:stuck'), { subject: 'user:private', watched: false, atRisk: false }, { subject: 'user:quiet', watched: false, atRisk: false }];
      const pages = [firing(['user:once', 'user:twice']), firing(['user:twice']), firing(['user:private'])];
      const alerts = [alertOf('user:once'), alertOf('user:twice'), alertOf('user:failed', [{ status: 'undelivered' }]), alertOf('user:stuck', []), alertOf('user:private')];

      const outcomes = reconcileCrises(expected, pages, alerts, []);

      expect(Object.fromEntries(outcomes)).toEqual({
        'user:once': 'paged once',
        'user:twice': 'paged twice',
        'user:none': 'missed',
        'user:lost': 'lost with the emulator',
        'user:failed': 'undelivered',
        'user:stuck': 'alert raised, never paged',
        'user:private': 'paged without consent',
        'user:quiet': 'not paged (no consent)',
      });
    });

    it('counts a page the product recorded while the tap was down, or left unlisted in a group page, as paged once', () => {
      const downAt = Date.parse('2026-12-04T10:00:01.000Z');
      const expected = [watched('user:gap'), watched('user:unlisted'), watched('user:nowhere')];
      const alerts = [alertOf('user:gap'), alertOf('user:unlisted', [{ status: 'delivered', at: '2026-12-04T11:00:00.000Z' }]), alertOf('user:nowhere', [{ status: 'delivered', at: '2026-12-04T11:00:00.000Z' }])];

      const outcomes = reconcileCrises(expected, [firing(['user:other'], 1)], alerts, [[downAt - 10, downAt + 10]]);

      expect(outcomes.get('user:gap')).toBe('paged once, while the tap was down');
      expect(outcomes.get('user:unlisted')).toBe('paged once, unlisted in a group page');
      // One unlisted alert accounts for one crisis only.
      expect(outcomes.get('user:nowhere')).toBe('recorded as paged, never received');
    });

    it('ignores repeats, resolutions and other rules: only a firing page of the rule is a page of the crisis', () => {
      const pages: Page[] = [{ at: 0, kind: 'repeat', rule: 'crisis-signal', subjects: ['user:a'], hidden: 0 }, { at: 0, kind: 'firing', rule: 'phq9-item9', subjects: ['user:a'], hidden: 0 }, firing(['user:a'])];

      expect(reconcileCrises([watched('user:a')], pages, [alertOf('user:a', [{ status: 'delivered' }, { kind: 'repeat', status: 'delivered' }])], []).get('user:a')).toBe('paged once');
    });
  });

  describe('failures', () => {
    const clean: Verdict = {
      round: 'wired',
      counts: reconcileCounts(ledgerOf(times(3, 0)), 3),
      crises: new Map([['user:a', 'paged once']]),
      recoveries: [{ round: 'wired', fault: 'Redis restarted', sawUnhealthy: false, healthyAfterMs: 0, probeCountedAfterMs: 300, boundMs: 10_000 }],
      unexpectedExits: 0,
    };

    it('passes a run where every promise held', () => {
      expect(failures(clean)).toEqual([]);
    });

    it('fails on a loss, a double count, a missed or double page, a part that did not recover and a runtime that died by itself', () => {
      const broken: Verdict = {
        ...clean,
        counts: { ...clean.counts, missing: 2, extra: 1 },
        crises: new Map([
          ['user:a', 'missed'],
          ['user:b', 'paged twice'],
        ]),
        recoveries: [{ round: 'wired', fault: 'PostgreSQL connections terminated', sawUnhealthy: true, boundMs: 10_000 }],
        unexpectedExits: 1,
      };

      expect(failures(broken)).toEqual([
        'wired: 2 accepted events never counted (lost by the product)',
        'wired: 1 events counted more than once',
        'wired: 1 crisis signals missed',
        'wired: 1 crisis signals paged twice',
        'wired: /health not 200 within 10 s of PostgreSQL connections terminated',
        'wired: a probe event sent after PostgreSQL connections terminated not counted within 10 s',
        'wired: the runtime process exited by itself 1 time(s)',
      ]);
    });
  });
});
