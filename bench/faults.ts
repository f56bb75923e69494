/**
 * `npm run faults` (`--quick` for a short run): drives load through the local runtime while it
 * breaks what the runtime depends on, then reconciles what the client was told against what the
 * product counted and paged (RELIABILITY.md, "The fault script").
 *
 * Round "wired": the runtime (a child process) against a private Redis, a private moto and a
 * fresh PostgreSQL schema; faults: its PostgreSQL connections terminated (several times), Redis
 * restarted, moto restarted empty, the runtime killed with SIGKILL and started again on the same
 * data. Round "embedded": no services, so only the SIGKILL applies. Exits 1 when an accepted
 * event is lost or counted twice, a crisis is missed or paged twice, or a part does not recover.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePseudonymiser } from '../functions/domain/privacy/pseudonymise';
import { DEMO_CONSENT, putConsent } from '../functions/local/consent-client';
import { ANALYTICS_ONLY, EventClient, makeUsers, metricTotal, runLoad, sendProbe, type LoadPlan, type LoadUsers } from './fault-load';
import { SnsPager, criticalAlerts, outboxPages } from './fault-pager';
import { CRISIS_FAILURES, failures, formatMs, newLedger, reconcileCounts, reconcileCrises, renderReport, streamOf, type AlertRecord, type CrisisExpectation, type CrisisOutcome, type Ledger, type Page, type Recovery, type StreamLoss, type Verdict } from './fault-reconcile';
import { RuntimeChild, freePort, healthy, privateMoto, privateRedis, privateSchema, retrying, sampleHealth, sleep, until, type RestartableService } from './fault-services';
import { DATABASE_URL, dropSchema } from './support';

const QUICK = process.argv.includes('--quick');

type Fault = 'pg' | 'redis' | 'moto' | 'kill';
const FAULT_NAMES: Record<Fault, string> = {
  pg: 'PostgreSQL connections terminated',
  redis: 'Redis restarted (empty)',
  moto: 'moto restarted empty (stream lost)',
  kill: 'runtime kill -9, started again',
};

interface Settings {
  readonly load: LoadPlan;
  readonly users: { users: number; crises: number };
  readonly wiredFaults: readonly Fault[];
  readonly embeddedFaults: readonly Fault[];
  /** Load before the first fault and between recoveries. */
  readonly calmMs: number;
  /** How long a part may take to recover before the run calls it not recovered. */
  readonly recoveryBoundMs: number;
  /** How long the consumers may take to catch up once the load stops. */
  readonly settleBoundMs: number;
}

// Bounded: at most `maxEvents` events per round (in requests of `batchSize`, retries aside), whatever happens.
const SETTINGS: Settings = QUICK
  ? {
      load: { ratePerSecond: 80, batchSize: 20, workers: 2, crisisEvery: 50, maxEvents: 1_600, retryGraceMs: 5_000 },
      users: { users: 40, crises: 40 },
      wiredFaults: ['pg', 'redis', 'moto', 'kill'],
      // An embedded start takes 7-40 s on this busy machine: the quick run leaves the round out.
      embeddedFaults: [],
      calmMs: 1_500,
      recoveryBoundMs: 15_000,
      settleBoundMs: 10_000,
    }
  : {
      load: { ratePerSecond: 150, batchSize: 25, workers: 3, crisisEvery: 120, maxEvents: 30_000, retryGraceMs: 15_000 },
      users: { users: 200, crises: 150 },
      wiredFaults: ['pg', 'redis', 'pg', 'moto', 'pg', 'kill'],
      embeddedFaults: ['kill', 'kill'],
      calmMs: 5_000,
      recoveryBoundMs: 30_000,
      settleBoundMs: 30_000,
    };

interface RoundServices {
  readonly env: Record<string, string>;
  readonly pg?: { terminate(): Promise<number> };
  readonly redis?: RestartableService;
  readonly moto?: RestartableService;
  readonly pager?: SnsPager;
  readonly outbox?: string;
  /** Where the round's evidence goes: each crisis's outcome, the ledger's tallies. */
  readonly detailsFile: string;
}

class Round {
  readonly ledger: Ledger = newLedger();
  readonly client: EventClient;
  readonly recoveries: Recovery[] = [];
  readonly tapDown: [number, number][] = [];
  loss: StreamLoss | undefined;
  probesAccepted = 0;
  private intentionalRestart = false;
  /** Resolved unless consent, lost with the emulator, is still being given again. */
  private consentRestored: Promise<void> = Promise.resolve();
  private readonly stopTimers: (() => void)[] = [];

  constructor(
    readonly name: string,
    readonly runtime: RuntimeChild,
    readonly token: string,
    readonly users: LoadUsers,
    readonly services: RoundServices,
    readonly startedAt: number,
  ) {
    this.client = new EventClient(() => runtime.url, token, this.ledger);
  }

  async giveConsent(): Promise<void> {
    const { watched, crisisWatched, unwatched, crisisUnwatched, probes } = this.users;
    await putConsent(this.runtime.url, this.token, [...watched, ...crisisWatched], DEMO_CONSENT);
    await putConsent(this.runtime.url, this.token, [...unwatched, ...crisisUnwatched, ...probes], ANALYTICS_ONLY);
  }

  /** A runtime that died by itself is started again (as a supervisor would), and the death counted against the product. */
  watch(): void {
    const watchdog = setInterval(() => {
      if (this.intentionalRestart || this.runtime.running) return;
      this.intentionalRestart = true;
      log(`${this.name}: the runtime exited by itself; starting it again`);
      // What is left of it goes first, as a supervisor would make sure: the data folder takes one runtime.
      this.runtime
        .kill9()
        .then(() => this.runtime.start())
        .finally(() => (this.intentionalRestart = false))
        .catch((error: unknown) => log(`${this.name}: restart failed: ${String(error)}`));
    }, 250);
    this.stopTimers.push(() => clearInterval(watchdog));
  }

  unwatch(): void {
    for (const stop of this.stopTimers) stop();
  }

  async inject(fault: Fault): Promise<Recovery> {
    const at = Date.now();
    const samples = sampleHealth(this.runtime.url);
    let note: string | undefined;
    if (fault === 'pg') note = `${await this.services.pg!.terminate()} connections terminated`;
    else if (fault === 'redis') await this.services.redis!.restart();
    else if (fault === 'moto') note = await this.loseEmulator();
    else {
      this.intentionalRestart = true;
      try {
        await this.runtime.kill9();
        note = `started again in ${await this.runtime.start()} ms`;
      } finally {
        this.intentionalRestart = false;
      }
    }
    const bound = at + SETTINGS.recoveryBoundMs;
    // A probe from users whose consent the emulator lost would be refused whatever the runtime's health.
    await Promise.race([this.consentRestored, sleep(bound - Date.now())]);
    const probeAccepted = await sendProbe(this.client, this.users.probes, bound);
    this.probesAccepted += probeAccepted;
    // A probe the runtime would not take is no sign of recovery, whatever the count says.
    const probeCountedAt =
      probeAccepted === this.users.probes.length
        ? await until(bound, async () => ((await metricTotal(this.runtime.url, this.token, 'interventions', this.startedAt)) ?? 0) >= this.probesAccepted)
        : undefined;
    if (probeAccepted < this.users.probes.length) note = `${note ? `${note}; ` : ''}probe: ${probeAccepted} of ${this.users.probes.length} events accepted`;
    // Health is judged over the same window: the last time it answered 200 after any other answer.
    await sleep(Math.max(0, Math.min(bound, (probeCountedAt ?? bound) + 500) - Date.now()));
    const health = await samples.stop();
    const recovery: Recovery = {
      round: this.name,
      fault: FAULT_NAMES[fault],
      sawUnhealthy: health.sawUnhealthy,
      ...(health.healthyAt !== undefined && { healthyAfterMs: Math.max(0, health.healthyAt - at) }),
      ...(probeCountedAt !== undefined && { probeCountedAfterMs: probeCountedAt - at }),
      boundMs: SETTINGS.recoveryBoundMs,
      ...(note !== undefined && { note }),
    };
    this.recoveries.push(recovery);
    log(`${this.name}: ${recovery.fault}: health ${fmtMs(recovery.healthyAfterMs)}, probe counted ${fmtMs(recovery.probeCountedAfterMs)}${note ? ` (${note})` : ''}`);
    return recovery;
  }

  /**
   * Kills moto, notes what the product had counted and alerted while nothing could be read, and
   * starts it again empty. Consent lived in the emulator's DynamoDB too: given again, as the app
   * would after its users' records vanished.
   */
  private async loseEmulator(): Promise<string> {
    const { moto, pager } = this.services;
    await pager!.drain();
    const killedAt = Date.now();
    await moto!.kill();
    // A batch in flight when moto died commits within a batching window or two.
    await sleep(2_000);
    const countedWhileDown = await retrying(() => metricTotal(this.runtime.url, this.token, 'events', this.startedAt), 10_000);
    const alertedWhileDown = new Set(((await retrying(() => criticalAlerts(this.runtime.url, this.token), 10_000)) ?? []).map((alert) => alert.subject));
    await moto!.start();
    const upAt = Date.now();
    await pager!.reopen();
    this.tapDown.push([killedAt, Date.now()]);
    this.loss = { killedAt, upAt, countedWhileDown: countedWhileDown ?? 0, alertedWhileDown };
    const consentAt = await until(upAt + SETTINGS.recoveryBoundMs, async () => {
      await this.giveConsent();
      return true;
    });
    if (consentAt !== undefined) return `consent given again ${consentAt - upAt} ms after moto was back`;
    this.keepGivingConsent(upAt);
    return `consent refused for ${SETTINGS.recoveryBoundMs / 1000} s after moto was back`;
  }

  /**
   * Goes on giving consent in the background until the runtime takes it (a restart may recreate
   * the table), so the rest of the round still has load; a probe waits for it.
   */
  private keepGivingConsent(since: number): void {
    let restored!: () => void;
    this.consentRestored = new Promise<void>((resolve) => (restored = resolve));
    let trying = false;
    const timer = setInterval(() => {
      if (trying) return;
      trying = true;
      this.giveConsent().then(
        () => {
          clearInterval(timer);
          restored();
          log(`${this.name}: consent given again ${Date.now() - since} ms after moto was back`);
        },
        () => (trying = false),
      );
    }, 1_000);
    this.stopTimers.push(() => clearInterval(timer));
  }

  /** Waits (bounded) until the count and the pages settle, then reconciles. */
  async verdict(subjectOf: (userId: string) => string): Promise<Verdict> {
    const deadline = Date.now() + SETTINGS.settleBoundMs;
    await until(deadline, () => healthy(this.runtime.url));
    let counted = 0;
    await until(deadline, async () => {
      counted = (await metricTotal(this.runtime.url, this.token, 'events', this.startedAt)) ?? 0;
      return reconcileCounts(this.ledger, counted, this.loss).missing === 0;
    });
    // A late redelivery would show now as a count above the accepted ones.
    await sleep(3_000);
    counted = (await retrying(() => metricTotal(this.runtime.url, this.token, 'events', this.startedAt), 10_000)) ?? counted;
    const expected = this.crisisExpectations(subjectOf);
    const pages = async (): Promise<Page[]> => (this.services.pager ? this.services.pager.pages : outboxPages(this.services.outbox!));
    let crises = reconcileCrises(expected, await pages(), [], this.tapDown);
    await until(deadline, async () => {
      crises = reconcileCrises(expected, await pages(), await criticalAlerts(this.runtime.url, this.token), this.tapDown);
      return [...crises.values()].every((outcome) => !CRISIS_FAILURES.has(outcome));
    });
    await this.services.pager?.drain();
    const alerts = (await retrying(() => criticalAlerts(this.runtime.url, this.token), 10_000)) ?? [];
    const received = await pages();
    crises = reconcileCrises(expected, received, alerts, this.tapDown);
    this.writeDetails(subjectOf, expected, crises, alerts, received);
    return { round: this.name, counts: reconcileCounts(this.ledger, counted, this.loss), crises, recoveries: this.recoveries, unexpectedExits: this.runtime.unexpectedExits.length };
  }

  private writeDetails(subjectOf: (userId: string) => string, expected: readonly CrisisExpectation[], crises: ReadonlyMap<string, CrisisOutcome>, alerts: readonly AlertRecord[], pages: readonly Page[]): void {
    const refused = new Map<string, number>();
    for (const code of this.ledger.refused.values()) refused.set(code, (refused.get(code) ?? 0) + 1);
    const acceptedBySubject = new Map<string, { sentAt: number; answeredAt: number }>();
    for (const [eventId, accepted] of this.ledger.accepted) acceptedBySubject.set(subjectOf(this.ledger.sent.get(eventId)!.userId), accepted);
    const details = {
      requests: { ...this.ledger.requests, byStatus: Object.fromEntries(this.ledger.requests.byStatus) },
      refused: Object.fromEntries(refused),
      abandoned: this.ledger.abandoned.size,
      loss: this.loss && { ...this.loss, alertedWhileDown: this.loss.alertedWhileDown.size },
      tapDown: this.tapDown,
      crises: expected.map((crisis) => ({
        ...crisis,
        outcome: crises.get(crisis.subject),
        accepted: acceptedBySubject.get(crisis.subject),
        alert: alerts.find((alert) => alert.subject === crisis.subject),
        // When SNS accepted each Publish that listed it: two equal times would be one message read twice, not two pages.
        pages: pages.filter((page) => page.subjects.includes(crisis.subject)).map((page) => ({ kind: page.kind, at: new Date(page.at).toISOString() })),
      })),
    };
    writeFileSync(this.services.detailsFile, JSON.stringify(details, null, 2));
  }

  private crisisExpectations(subjectOf: (userId: string) => string): CrisisExpectation[] {
    const expected: CrisisExpectation[] = [];
    for (const [eventId, accepted] of this.ledger.accepted) {
      const sent = this.ledger.sent.get(eventId)!;
      if (sent.kind !== 'crisis-watched' && sent.kind !== 'crisis-unwatched') continue;
      const subject = subjectOf(sent.userId);
      const atRisk = this.loss !== undefined && streamOf(accepted, this.loss) !== 'new' && !this.loss.alertedWhileDown.has(subject);
      expected.push({ subject, watched: sent.kind === 'crisis-watched', atRisk });
    }
    return expected;
  }
}

async function runRound(name: string, faults: readonly Fault[], services: RoundServices, runtime: RuntimeChild, token: string, users: LoadUsers, subjectOf: (userId: string) => string): Promise<Verdict> {
  const round = new Round(name, runtime, token, users, services, Date.now());
  log(`${name}: runtime up in ${await runtime.start()} ms`);
  await round.giveConsent();
  round.watch();
  try {
    let stopLoad!: () => void;
    const load = runLoad(round.client, users, SETTINGS.load, new Promise<void>((resolve) => (stopLoad = resolve)));
    try {
      for (const fault of faults) {
        await sleep(SETTINGS.calmMs);
        await round.inject(fault);
      }
      await sleep(SETTINGS.calmMs);
    } finally {
      stopLoad();
      await load;
    }
    log(`${name}: load stopped; waiting for the count and the pages to settle`);
    return await round.verdict(subjectOf);
  } finally {
    round.unwatch();
  }
}

async function wiredRound(work: string, runId: string, users: LoadUsers, base: Record<string, string>, subjectOf: (userId: string) => string): Promise<Verdict> {
  const redis = await privateRedis(join(work, 'redis.log'));
  const moto = await privateMoto(join(work, 'moto.log'));
  const schema = `faults_${runId}`;
  const pg = await privateSchema(schema, `faults-${runId}`);
  const stream = `faults-${runId}`;
  const pager = await SnsPager.open(moto.url, stream);
  const env = { ...base, DATABASE_URL: pg.url, REDIS_URL: redis.url, AWS_ENDPOINT_URL: moto.url, STREAM_NAME: stream, DATA_DIR: join(work, 'wired-data') };
  const runtime = new RuntimeChild(`http://127.0.0.1:${base['PORT']}`, env, join(work, 'wired-runtime.log'));
  try {
    return await runRound('wired', SETTINGS.wiredFaults, { env, pg, redis, moto, pager, detailsFile: join(work, 'wired-details.json') }, runtime, base.DEV_TOKEN!, users, subjectOf);
  } finally {
    await runtime.stop();
    await pager.close().catch(() => undefined);
    await redis.stop();
    await moto.stop();
    await dropSchema(schema);
  }
}

async function embeddedRound(work: string, users: LoadUsers, base: Record<string, string>, subjectOf: (userId: string) => string): Promise<Verdict> {
  const dataDir = join(work, 'embedded-data');
  // Blank, not absent: the runtime inherits this shell's environment, which may name shared services.
  const env = { ...base, PORT: String(await freePort()), DATA_DIR: dataDir, STREAM_NAME: 'faults', DATABASE_URL: '', REDIS_URL: '', AWS_ENDPOINT_URL: '' };
  const runtime = new RuntimeChild(`http://127.0.0.1:${env.PORT}`, env, join(work, 'embedded-runtime.log'));
  try {
    return await runRound('embedded', SETTINGS.embeddedFaults, { env, outbox: join(dataDir, 'alerts', 'outbox.jsonl'), detailsFile: join(work, 'embedded-details.json') }, runtime, base.DEV_TOKEN!, users, subjectOf);
  } finally {
    await runtime.stop();
  }
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= 'us-east-1';
  // Node 20 is this project's engine; the SDK's notice about Node 22 would fill every log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Only loopback: the script breaks connections and restarts servers, never anyone else's.
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(DATABASE_URL).hostname)) throw new Error(`DATABASE_URL must point at a loopback address, not ${new URL(DATABASE_URL).hostname}`);
  const started = Date.now();
  const runId = randomBytes(4).toString('hex');
  const work = mkdtempSync(join(tmpdir(), 'faults-'));
  log(`run ${runId}${QUICK ? ' (quick)' : ''}; logs and data in ${work}`);
  const pepper = randomBytes(32);
  const subject = makePseudonymiser(pepper, 'user');
  const subjectOf = (userId: string) => `user:${subject(userId)}`;
  // Set, not generated by the runtime, so they hold across its restarts and the script can compute pseudonyms.
  // K_ANONYMITY as many probe users: the probes' total is then released, whatever the shell sets.
  const probes = 10;
  const base = { DEV_TOKEN: randomBytes(24).toString('hex'), PSEUDONYM_PEPPER: pepper.toString('hex'), LOG_LEVEL: 'warn', HOST: '127.0.0.1', K_ANONYMITY: String(probes) };
  const sizes = { ...SETTINGS.users, probes };
  const verdicts: Verdict[] = [];
  verdicts.push(await wiredRound(work, runId, makeUsers(`${runId}w`, sizes), { ...base, PORT: String(await freePort()) }, subjectOf));
  if (SETTINGS.embeddedFaults.length > 0) verdicts.push(await embeddedRound(work, makeUsers(`${runId}e`, sizes), base, subjectOf));
  process.stdout.write(`${renderReport(verdicts)}\nrun took ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  const found = verdicts.flatMap(failures);
  if (found.length > 0) {
    process.stdout.write(`\nFAILED (${found.length}):\n${found.map((line) => `  - ${line}`).join('\n')}\nruntime logs: ${work}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write('\nEvery accepted event counted once, every crisis paged once, every part recovered.\n');
    rmSync(work, { recursive: true, force: true });
  }
}

const fmtMs = (ms: number | undefined) => formatMs(ms, SETTINGS.recoveryBoundMs);
const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);

main().then(
  // Exits now: a bounded wait that lost its race (a probe's, a stop's) would hold the process for its full length.
  () => process.exit(),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
