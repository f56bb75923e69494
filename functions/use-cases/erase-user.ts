import type { InterventionStore } from '../ports/interventions';
import type { Clock, LiveStore, StorageScrub, SubjectRecords } from '../ports';
import type { ConsentRegistry } from '../ports/consent';
import type { RecordKeyStore } from '../ports/record-keys';
import type { RollupStore } from '../ports/rollups';
import type { Pseudonymise } from '../domain/privacy/pseudonymise';
import { SEVERITIES, alertFeedKey, subjectKey } from '../domain/alerting/model';
import { activeUserSetKeys } from './aggregate';
import type { ConditionStore } from '../ports/alert-rules';
import type { AlertConsole } from './alert-manager';

/** What one erasure learns on its way, for the steps after: the id of the user's record key. */
export interface ErasureFindings {
  recordKeyId?: string;
}

/** One store an erasure cleans: what it holds of a user, and how to delete it. */
export interface ErasureTarget {
  readonly store: string;
  readonly what: string;
  /** Deletes what the store holds of the subject; answers how many items went. */
  erase(subject: string, erasedAt: Date, findings: ErasureFindings): Promise<number>;
}

/** What an erasure leaves in place, and why: part of the receipt. */
export interface Retained {
  readonly store: string;
  readonly what: string;
  readonly why: string;
}

export interface ErasureReceipt {
  readonly receiptId: string;
  readonly erasedAt: string;
  /** The pseudonym erased, so the requester can match the receipt to their own records. */
  readonly subject: string;
  readonly removed: readonly { readonly store: string; readonly what: string; readonly count: number }[];
  /** What was done so that the deleted data cannot be read back from the stores' files. */
  readonly scrubbed: readonly { readonly store: string; readonly what: string }[];
  readonly retained: readonly Retained[];
}

export interface EraseUserDeps {
  readonly pseudonymiseUser: Pseudonymise;
  /** In order: consent first, so no new event of the user is taken while the rest is cleaned. */
  readonly targets: readonly ErasureTarget[];
  /** After the targets: their files rewritten so no deleted byte stays readable (the local modes). */
  readonly scrubs?: readonly StorageScrub[];
  readonly retained: readonly Retained[];
  readonly clock: Clock;
  readonly newId: () => string;
}

/**
 * GDPR Art. 17: removes what every store holds of one user and answers a receipt of what went
 * where. Safe to repeat: a second erasure of the same user removes nothing more and says so.
 */
export function makeEraseUser(deps: EraseUserDeps) {
  return async function eraseUser(userId: string): Promise<ErasureReceipt> {
    const subject = deps.pseudonymiseUser(userId);
    const erasedAt = deps.clock.now();
    const removed: ErasureReceipt['removed'][number][] = [];
    const findings: ErasureFindings = {};
    for (const target of deps.targets) removed.push({ store: target.store, what: target.what, count: await target.erase(subject, erasedAt, findings) });
    const scrubbed: ErasureReceipt['scrubbed'][number][] = [];
    for (const scrub of deps.scrubs ?? []) {
      await scrub.scrub();
      scrubbed.push({ store: scrub.store, what: scrub.what });
    }
    return { receiptId: deps.newId(), erasedAt: erasedAt.toISOString(), subject, removed, scrubbed, retained: deps.retained };
  };
}

export type EraseUser = ReturnType<typeof makeEraseUser>;

export interface ErasableStores {
  readonly consent: Pick<ConsentRegistry, 'remove'>;
  /** The key the user's stream records are sealed under: deleting it erases them wherever they are. */
  readonly keys: Pick<RecordKeyStore, 'deleteKeyOf'>;
  readonly rollups: Pick<RollupStore, 'eraseSubject'>;
  readonly live: Pick<LiveStore, 'removeFromSet'>;
  /** Stores of raw records that can forget a subject's: the embedded stream and dead letters. */
  readonly records: readonly { readonly store: string; readonly what: string; readonly records: SubjectRecords }[];
  /** The alert lifecycle: alerts about the user, silences naming them. */
  readonly alerts: Pick<AlertConsole, 'eraseSubject'>;
  /** What the rules engine keeps per user (last values, the at-risk flag). */
  readonly conditions: Pick<ConditionStore, 'eraseSubject'>;
  /** The dashboard's alert feeds, whose entries name the users alerted about. */
  readonly alertFeed: Pick<LiveStore, 'range' | 'removeFromList'>;
  /** The records of interventions recommended to the user's app. */
  readonly interventions: Pick<InterventionStore, 'eraseSubject'>;
}

/** What every mode erases, consent first. */
export function erasureTargets(stores: ErasableStores): ErasureTarget[] {
  return [
    { store: 'consent registry', what: 'consent record', erase: async (subject) => ((await stores.consent.remove(subject)) ? 1 : 0) },
    {
      store: 'postgresql',
      what: "processed event ids, research values, behaviour features and the archetypes the pattern fits put the user in; the erasure is recorded so that the user's events still in the stream are dropped",
      erase: async (subject, erasedAt) => {
        const erased = await stores.rollups.eraseSubject(subject, erasedAt);
        return erased.eventIds + erased.researchValues + erased.featureRows + erased.patternAssignments;
      },
    },
    {
      store: 'live store',
      what: 'memberships of the per-minute active-user sets',
      erase: async (subject, erasedAt) => {
        let removed = 0;
        for (const key of activeUserSetKeys(erasedAt)) removed += await stores.live.removeFromSet(key, [subject]);
        return removed;
      },
    },
    alertsTarget(stores.alerts),
    {
      store: 'postgresql',
      what: 'rule conditions kept for the user (last values, the at-risk flag)',
      erase: (subject) => stores.conditions.eraseSubject({ kind: 'user', id: subject }),
    },
    {
      store: 'postgresql',
      what: "records of interventions recommended to the user's app (never its channel token)",
      erase: (subject) => stores.interventions.eraseSubject(subjectKey({ kind: 'user', id: subject })),
    },
    {
      store: 'live store',
      what: 'entries of the dashboard alert feeds that name the user',
      erase: async (subject) => {
        const named = subjectKey({ kind: 'user', id: subject });
        let removed = 0;
        for (const key of SEVERITIES.map(alertFeedKey)) {
          for (const entry of await stores.alertFeed.range(key, 0, -1)) {
            if (entry.includes(named)) removed += await stores.alertFeed.removeFromList(key, entry);
          }
        }
        return removed;
      },
    },
    {
      store: 'record keys',
      what: "the key the user's stream records and dead letters are sealed under: without it they cannot be read, wherever they are",
      erase: async (subject, _erasedAt, findings) => {
        findings.recordKeyId = await stores.keys.deleteKeyOf(subject);
        return findings.recordKeyId === undefined ? 0 : 1;
      },
    },
    // Records are keyed by their key's id; those an earlier version put, by the pseudonym.
    ...stores.records.map(({ store, what, records }): ErasureTarget => ({
      store,
      what,
      erase: async (subject, _erasedAt, findings) => (await records.eraseRecordsOf(subject)) + (findings.recordKeyId === undefined ? 0 : await records.eraseRecordsOf(findings.recordKeyId)),
    })),
  ];
}

function alertsTarget(alerts: Pick<AlertConsole, 'eraseSubject'>): ErasureTarget {
  return {
    store: 'postgresql',
    what: 'alerts about the user with their notification records, and silences naming the user',
    // Alerts carry the subject key, not the bare pseudonym.
    erase: (subject) => alerts.eraseSubject(subjectKey({ kind: 'user', id: subject })),
  };
}

/** Kept in every mode: released aggregates, and the audit trail, which never names a user. */
export const RETAINED_EVERYWHERE: readonly Retained[] = [
  {
    store: 'postgresql',
    what: 'rollups already written (counts, sums, sketches of distinct users as 64-bit hashes)',
    why: 'aggregates released under k-anonymity stay as released: rewriting them would change figures others already hold, and they identify no one',
  },
  { store: 'audit trail', what: 'entries of this erasure and of earlier calls', why: 'they name who acted, never the user, and the trail is append-only' },
  {
    store: 'interventions sent',
    what: "intervention.recommended messages already sent to the app (the embedded mode's outbox of them included)",
    why: "they went to the app, which holds them with its own session; they carry the app's channel token, never a user id or pseudonym",
  },
  {
    store: 'alert notifications',
    what: 'SMS and e-mail alerts already sent (the embedded mode removes the lines of its outbox file that stand in for them)',
    why: 'a message delivered to a clinician cannot be recalled; it names the pseudonym only, never the user id',
  },
];

/** Kept where the stream is Kinesis and the dead letters SQS, which cannot delete one user's records. */
export const RETAINED_IN_AWS: readonly Retained[] = [
  {
    store: 'kinesis stream',
    what: 'records of the last 24 hours, sealed under the deleted key',
    why: 'Kinesis cannot delete records: with the key gone they cannot be read or linked to the user (their partition key is the key\'s random id), consumers skip them, and they expire with the stream retention',
  },
  {
    store: 'dead-letter queue',
    what: 'failed batches holding the user, if any, sealed under the deleted key',
    why: 'SQS cannot delete one record of a message: the records cannot be read without the key, and messages expire after 14 days',
  },
];
