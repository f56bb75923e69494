/**
 * The fault script's bookkeeping and verdicts, kept free of I/O so a unit test can feed them
 * fabricated runs: what the client was told (the ledger), what the product counted and paged,
 * and which differences are the product's fault.
 */

export type EventKind = 'load' | 'crisis-watched' | 'crisis-unwatched' | 'probe';

/** Everything the client sent and what it was answered, by eventId. */
export interface Ledger {
  readonly sent: Map<string, { readonly kind: EventKind; readonly userId: string }>;
  /** Answered accepted (202, not in `rejected`): the product's promise covers these. The first accepting attempt. */
  readonly accepted: Map<string, { readonly sentAt: number; readonly answeredAt: number }>;
  /** Some attempt got no answer or a 5xx: the event may have reached the stream even if never accepted. */
  readonly unanswered: Set<string>;
  /** Refused for good (consent_missing, a 4xx...): not the product's promise (though an earlier unanswered attempt may have stored it). */
  readonly refused: Map<string, string>;
  /** Still failing when the client gave up. */
  readonly abandoned: Set<string>;
  readonly requests: { sent: number; retries: number; connectionErrors: number; streamUnavailable: number; readonly byStatus: Map<number, number> };
}

export const newLedger = (): Ledger => ({
  sent: new Map(),
  accepted: new Map(),
  unanswered: new Set(),
  refused: new Map(),
  abandoned: new Set(),
  requests: { sent: 0, retries: 0, connectionErrors: 0, streamUnavailable: 0, byStatus: new Map() },
});

/** The emulator's loss: when it died, when it answered again (empty), and what the product had done by then. */
export interface StreamLoss {
  readonly killedAt: number;
  readonly upAt: number;
  /** `events` total read while the emulator was down and the consumers could read nothing more. */
  readonly countedWhileDown: number;
  /** Subjects with a crisis alert by then (GET /v1/alerts while the emulator was down). */
  readonly alertedWhileDown: ReadonlySet<string>;
}

/**
 * Where an accepted event went: `old` to the stream the emulator lost (answered before the new
 * emulator was up; nothing could accept in between), `new` to the recreated one (sent after the
 * kill), `ambiguous` when its request spanned the whole outage.
 */
export function streamOf(accepted: { readonly sentAt: number; readonly answeredAt: number }, loss: Pick<StreamLoss, 'killedAt' | 'upAt'>): 'old' | 'new' | 'ambiguous' {
  if (accepted.answeredAt < loss.upAt) return 'old';
  if (accepted.sentAt >= loss.killedAt) return 'new';
  return 'ambiguous';
}

export interface CountReconciliation {
  readonly accepted: number;
  /** Accepted onto the stream the emulator later lost (ambiguous ones included). */
  readonly onLostStream: number;
  /** Of those, never consumed before the emulator died: gone with it, not the product's loss. */
  readonly emulatorLoss: number;
  /** What the product promised to count: accepted minus the emulator's loss. */
  readonly expected: number;
  readonly counted: number;
  /** Sent in a request that got no answer (or a 5xx) and never accepted later: may be counted, need not be. */
  readonly maybeStored: number;
  /** Promised and not counted: the product lost them. */
  readonly missing: number;
  /** Counted beyond every event that could have been stored: a double count. */
  readonly extra: number;
}

export function reconcileCounts(ledger: Ledger, counted: number, loss?: StreamLoss): CountReconciliation {
  const accepted = ledger.accepted.size;
  const onLostStream = loss ? [...ledger.accepted.values()].filter((event) => streamOf(event, loss) !== 'new').length : 0;
  const emulatorLoss = loss ? Math.max(0, onLostStream - loss.countedWhileDown) : 0;
  const expected = accepted - emulatorLoss;
  // A later refusal (consent lost meanwhile, say) does not undo what an unanswered attempt may have stored.
  const maybeStored = [...ledger.unanswered].filter((id) => !ledger.accepted.has(id)).length;
  return {
    accepted,
    onLostStream,
    emulatorLoss,
    expected,
    counted,
    maybeStored,
    missing: Math.max(0, expected - counted),
    extra: Math.max(0, counted - expected - maybeStored),
  };
}

/** One notification as the pager saw it: its kind, the subjects it listed, and how many it left unlisted ("and N more"). */
export interface Page {
  readonly at: number;
  readonly kind: 'firing' | 'repeat' | 'resolved' | 'escalation';
  readonly rule: string;
  readonly subjects: readonly string[];
  readonly hidden: number;
}

const PAGE_KINDS: Record<string, Page['kind']> = { firing: 'firing', 'still firing': 'repeat', resolved: 'resolved', ESCALATED: 'escalation' };

/**
 * Reads a page's text (the SNS default message and the outbox's `message` render the same
 * plain text): the headline's kind, each listed alert's rule and subject, the unlisted count.
 */
export function parsePage(text: string, at: number): Page[] {
  const lines = text.split('\n');
  const kind = PAGE_KINDS[/^(?:CRITICAL|WARNING) alert (firing|still firing|resolved|ESCALATED):/.exec(lines[0] ?? '')?.[1] ?? ''];
  if (kind === undefined) return [];
  const byRule = new Map<string, string[]>();
  for (const line of lines) {
    const listed = /^- (\S+) on (\S+) since /.exec(line);
    if (listed) byRule.set(listed[1]!, [...(byRule.get(listed[1]!) ?? []), listed[2]!]);
  }
  const hidden = Number(/^and (\d+) more in the dashboard$/m.exec(text)?.[1] ?? 0);
  // A group is keyed by rule, so its unlisted alerts share the listed ones' rule.
  return [...byRule].map(([rule, subjects]) => ({ at, kind, rule, subjects, hidden }));
}

/** A crisis-signal alert as GET /v1/alerts shows it. */
export interface AlertRecord {
  readonly rule: string;
  readonly subject: string;
  readonly notifications: readonly { readonly kind: string; readonly channel: string; readonly status: string; readonly at: string }[];
}

export interface CrisisExpectation {
  readonly subject: string;
  /** Safety-monitoring consent: must page once; without it, never. */
  readonly watched: boolean;
  /** On the stream the emulator lost and not yet alerted when it died: a missing page is the emulator's loss. */
  readonly atRisk: boolean;
}

export type CrisisOutcome =
  | 'paged once'
  | 'paged once, unlisted in a group page'
  | 'paged once, while the tap was down'
  | 'lost with the emulator'
  | 'alert raised, never paged'
  | 'recorded as paged, never received'
  | 'missed'
  | 'undelivered'
  | 'paged twice'
  | 'paged without consent'
  | 'not paged (no consent)';

export const CRISIS_FAILURES: ReadonlySet<CrisisOutcome> = new Set(['alert raised, never paged', 'recorded as paged, never received', 'missed', 'undelivered', 'paged twice', 'paged without consent']);

const inside = (at: number, windows: readonly (readonly [number, number])[]) => windows.some(([from, to]) => at >= from && at <= to);

/**
 * Each crisis against the firing pages the pager received and the alert records' SNS
 * notifications. `tapDown`: windows when no page could reach the script (the emulator and the
 * tap's queue lost); a page the product recorded as delivered in one of them is its page.
 */
export function reconcileCrises(expected: readonly CrisisExpectation[], pages: readonly Page[], alerts: readonly AlertRecord[], tapDown: readonly (readonly [number, number])[], rule = 'crisis-signal'): Map<string, CrisisOutcome> {
  const firing = pages.filter((page) => page.kind === 'firing' && page.rule === rule);
  const listed = new Map<string, number>();
  for (const page of firing) for (const subject of page.subjects) listed.set(subject, (listed.get(subject) ?? 0) + 1);
  let unlisted = firing.reduce((sum, page) => sum + page.hidden, 0);
  const recorded = new Map<string, { delivered: number; undelivered: number; deliveredAt: number[] }>();
  for (const alert of alerts.filter((a) => a.rule === rule)) {
    const entry = recorded.get(alert.subject) ?? { delivered: 0, undelivered: 0, deliveredAt: [] };
    for (const n of alert.notifications.filter((n) => n.kind === 'firing' && n.channel === 'sns')) {
      if (n.status === 'delivered') {
        entry.delivered += 1;
        entry.deliveredAt.push(Date.parse(n.at));
      } else if (n.status === 'undelivered') entry.undelivered += 1;
    }
    recorded.set(alert.subject, entry);
  }
  const outcomes = new Map<string, CrisisOutcome>();
  for (const crisis of expected) {
    const received = listed.get(crisis.subject) ?? 0;
    const record = recorded.get(crisis.subject) ?? { delivered: 0, undelivered: 0, deliveredAt: [] };
    const pagedAtAll = received > 0 || record.delivered > 0;
    let outcome: CrisisOutcome;
    if (!crisis.watched) outcome = pagedAtAll || recorded.has(crisis.subject) ? 'paged without consent' : 'not paged (no consent)';
    else if (received > 1 || record.delivered > 1) outcome = 'paged twice';
    else if (received === 1) outcome = 'paged once';
    else if (record.delivered === 1 && inside(record.deliveredAt[0]!, tapDown)) outcome = 'paged once, while the tap was down';
    else if (record.delivered === 1 && unlisted > 0) {
      unlisted -= 1;
      outcome = 'paged once, unlisted in a group page';
    } else if (record.delivered === 1) outcome = 'recorded as paged, never received';
    else if (record.undelivered > 0) outcome = 'undelivered';
    // Raised, but its notification never got an outcome: a sender that died with it, not yet taken over.
    else if (recorded.has(crisis.subject)) outcome = 'alert raised, never paged';
    else outcome = crisis.atRisk ? 'lost with the emulator' : 'missed';
    outcomes.set(crisis.subject, outcome);
  }
  return outcomes;
}

/** From a fault to the product's recovery, in ms after the fault (undefined: not within the bound). */
export interface Recovery {
  readonly round: string;
  readonly fault: string;
  /** /health answered something other than 200 after the fault (it noticed). */
  readonly sawUnhealthy: boolean;
  readonly healthyAfterMs?: number;
  readonly probeCountedAfterMs?: number;
  readonly boundMs: number;
  readonly note?: string;
}

export interface Verdict {
  readonly round: string;
  readonly counts: CountReconciliation;
  readonly crises: ReadonlyMap<string, CrisisOutcome>;
  readonly recoveries: readonly Recovery[];
  /** The runtime process died without being told to (it was started again to go on). */
  readonly unexpectedExits: number;
}

/** Why the run failed; empty when every promise held. */
export function failures(verdict: Verdict): string[] {
  const found: string[] = [];
  const { round, counts } = verdict;
  if (counts.missing > 0) found.push(`${round}: ${counts.missing} accepted events never counted (lost by the product)`);
  if (counts.extra > 0) found.push(`${round}: ${counts.extra} events counted more than once`);
  const tally = tallyOutcomes(verdict.crises);
  for (const outcome of CRISIS_FAILURES) {
    const n = tally.get(outcome) ?? 0;
    if (n > 0) found.push(`${round}: ${n} crisis signals ${outcome}`);
  }
  for (const recovery of verdict.recoveries) {
    if (recovery.healthyAfterMs === undefined) found.push(`${round}: /health not 200 within ${recovery.boundMs / 1000} s of ${recovery.fault}`);
    if (recovery.probeCountedAfterMs === undefined) found.push(`${round}: a probe event sent after ${recovery.fault} not counted within ${recovery.boundMs / 1000} s`);
  }
  if (verdict.unexpectedExits > 0) found.push(`${round}: the runtime process exited by itself ${verdict.unexpectedExits} time(s)`);
  return found;
}

export function tallyOutcomes(outcomes: ReadonlyMap<string, CrisisOutcome>): Map<CrisisOutcome, number> {
  const tally = new Map<CrisisOutcome, number>();
  for (const outcome of outcomes.values()) tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
  return tally;
}

/** Columns padded to their widest cell, for a terminal and for RELIABILITY.md alike. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The three tables the script prints (and RELIABILITY.md quotes). */
export function renderReport(verdicts: readonly Verdict[]): string {
  const counts = table(
    ['round', 'accepted', 'on lost stream', 'lost with emulator', 'expected', 'counted', 'maybe stored', 'missing', 'extra'],
    verdicts.map(({ round, counts: c }) => [round, c.accepted, c.onLostStream, c.emulatorLoss, c.expected, c.counted, c.maybeStored, c.missing, c.extra].map(String)),
  );
  const crises = table(
    ['round', 'crisis outcome', 'signals'],
    verdicts.flatMap((v) => [...tallyOutcomes(v.crises)].map(([outcome, n]) => [v.round, outcome, String(n)])),
  );
  const recoveries = table(
    ['round', 'fault', '/health not 200 seen', '/health 200 after', 'probe counted after', 'note'],
    verdicts.flatMap((v) => v.recoveries.map((r) => [r.round, r.fault, r.sawUnhealthy ? 'yes' : 'no', formatMs(r.healthyAfterMs, r.boundMs), formatMs(r.probeCountedAfterMs, r.boundMs), r.note ?? ''])),
  );
  return `\nEvents (GET /v1/metrics/events, interval=day, against the client's ledger)\n${counts}\n\nCrisis signals (pages read back against GET /v1/alerts)\n${crises}\n\nRecovery per fault\n${recoveries}\n`;
}

export const formatMs = (ms: number | undefined, boundMs: number) => (ms === undefined ? `not within ${boundMs / 1000} s` : `${ms} ms`);
