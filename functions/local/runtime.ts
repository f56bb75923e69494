import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { LocalConfig } from '../config/local';
import { jsonLogger, type Logger } from '../adapters/log';
import { postgresDatabase, type SqlDatabase } from '../adapters/pg/database';
import { embeddedDatabase, embeddedDatabaseClient } from '../adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../adapters/pg/migrator';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { SqlAuditLog } from '../adapters/pg/sql-audit-log';
import { SqlPrivacyLedger } from '../adapters/pg/sql-privacy-ledger';
import { SqlResearchValues } from '../adapters/pg/sql-research-values';
import { cryptoRandomBits } from '../adapters/crypto-random';
import { makeResearchExport } from '../use-cases/research-export';
import { makeResearchRelease } from '../use-cases/research-report';
import { SqlReportIndex } from '../adapters/pg/sql-report-index';
import { SqlReportScheduleStore } from '../adapters/pg/sql-report-schedules';
import { LOCAL_FILES_PATH, LocalLinks } from '../adapters/local/local-links';
import { makeReports } from '../use-cases/reports';
import { makeReportWorker } from '../use-cases/report-worker';
import { reportSources } from '../config/report-sources';
import { LocalReportRuns } from './report-runs';
import { RenderThread } from './render-thread';
import { reportDownloads } from './report-downloads';
import type { DeadLetterQueue, EventStreamWriter, StorageScrub } from '../ports';
import { makeIngest } from '../use-cases/ingest';
import { makeImportHistory } from '../use-cases/import-history';
import { importUpload } from './history-import';
import { makeIngestHandler, pseudonymisers } from '../handlers/ingest';
import { makeQueryHandler } from '../handlers/query';
import { makeCohorts } from '../use-cases/cohorts';
import { SqlCohortPopulation, SqlCohortStore } from '../adapters/pg/sql-cohorts';
import { makeDashboards } from '../use-cases/dashboards';
import { SqlDashboardStore } from '../adapters/pg/sql-dashboards';
import { SqlOutcomePredictionStore } from '../adapters/pg/sql-outcome-predictions';
import { makePrivacyHandler } from '../handlers/privacy';
import { makeAssignCaseload } from '../use-cases/caseloads';
import { SqlInterventionStore } from '../adapters/pg/sql-intervention-store';
import { SqlCaseloadStore } from '../adapters/pg/sql-caseload-store';
import { CachedConsentRegistry } from '../adapters/cached-consent-registry';
import { makeRecordConsent } from '../use-cases/consent';
import { RETAINED_EVERYWHERE, RETAINED_IN_AWS, erasureTargets, makeEraseUser } from '../use-cases/erase-user';
import { TRIM_EVERY_MS, compactStreamLog, liveStoreLabel, openConsentRegistry, openObjectStore, openRecordKeys, openReportDelivery, outboxPath, openStream, sleep, systemClock } from './adapters';
import { CachedRecordKeys } from '../adapters/cached-record-keys';
import { ERASED_ANALYTICS_TABLES, ERASED_STREAM_TABLES, SqlScrub } from '../adapters/pg/sql-scrub';
import { eraseOutboxLines } from '../adapters/local/outbox-channel';
import { subjectKey } from '../domain/alerting/model';
import type { ErasureTarget } from '../use-cases/erase-user';
import { PrometheusMetrics } from './prometheus-metrics';
import { MinuteMetrics } from '../adapters/local/minute-metrics';
import { startMonitoring } from './monitoring';
import { makeAlertsHandler } from '../handlers/alerts';
import { alertRulesAdmin } from '../handlers/monitoring-parts';
import { SqlAnomalyStore } from '../adapters/pg/sql-anomaly-stores';
import { SqlPatternStore } from '../adapters/pg/sql-behavior-patterns';
import { AggregatorThread, type ConnectDatabases } from './aggregator-thread';
import { makeHealthCheck } from './health';
import { apiReferencePages } from './api-reference';
import { httpStatusOf } from '../domain/operations/health';
import { makeConsumerLag } from '../use-cases/consumer-lag';
import { SqlCheckpointStore } from '../adapters/pg/sql-checkpoint-store';
import { RepeatingJob } from './repeating-job';
import { localModelRuns } from './model-runs';
import { behaviourModelSteps } from '../config/behaviour-models';
import { makeRunModels, type ModelRunReport } from '../use-cases/run-models';
import { startHttpServer } from './http-server';
import { webApp } from './web-app';
import { liveEvents } from './live-events';
import { LIVE_ROLES } from '../handlers/http/roles';
import { admitted, makeAdmission } from './admission';
import { localTokenAuthority, type TokenAuthority } from './tokens';
import { dataDirSecret, localPepper } from './pepper';
import { lockDataDir } from './data-dir-lock';

export interface Runtime {
  readonly url: string;
  readonly tokens: TokenAuthority;
  readonly mode: { readonly database: string; readonly stream: string; readonly streamName: string; readonly live: string; readonly consent: string };
  /** Processes every record on the stream now; tests and benchmarks call it instead of waiting for the poll. */
  drain(): Promise<void>;
  /** Every record on the stream now through the safety rules (the detect consumer). */
  detect(): Promise<void>;
  /** One monitor run now: series anomalies, absences, repeats and escalations. */
  monitor(): Promise<void>;
  /** Folds the closed minutes into hour and day rollups now, as the schedule does every minute. */
  rollUp(): Promise<void>;
  /** Resolves when every report job queued so far is done. */
  reportsIdle(): Promise<void>;
  /** One model run now (the nightly one, and `npm run model`'s), after any in flight. */
  runModels(): Promise<ModelRunReport>;
  readonly deadLetters: DeadLetterQueue;
  stop(): Promise<void>;
}

interface Databases {
  /** Rollups and everything else the product stores (Aurora's part in AWS). */
  readonly analytics: SqlDatabase;
  /** The embedded stream, the poller's checkpoints and the dead letters (Kinesis's and SQS's part). */
  readonly streaming: SqlDatabase;
  /** The safety rules' and alerts' way to the analytics database: never queued behind bulk work. */
  readonly safety: SqlDatabase;
  readonly label: string;
  /** Embedded: connections to both databases for the aggregator thread. */
  readonly connect?: ConnectDatabases;
}

/**
 * With DATABASE_URL, one PostgreSQL serves both parts. Embedded, each part gets a PGlite of its
 * own in a worker thread: PGlite has one connection, so in one instance an ingest request would
 * wait behind the aggregator's transaction, as it never does in AWS.
 */
async function openDatabases(config: LocalConfig, closers: (() => Promise<void>)[], logger: Logger): Promise<Databases> {
  if (config.DATABASE_URL) {
    const db = postgresDatabase(config.DATABASE_URL, { max: 8, applicationName: config.DATABASE_APPLICATION_NAME, logger });
    closers.push(() => db.close());
    // PostgreSQL runs the pool's connections side by side: a rule's read waits for no batch.
    return { analytics: db, streaming: db, safety: db, label: 'postgresql' };
  }
  const dataDir = resolve(config.DATA_DIR);
  // The analytics database's buffers hold the rollup pages a dashboard reads again and again;
  // the stream's database holds only checkpoints, record keys and dead letters.
  const analytics = await embeddedDatabase(join(dataDir, 'pg'), { niceness: 10, sharedBuffersMb: 64 });
  closers.push(() => analytics.close());
  const streaming = await embeddedDatabase(join(dataDir, 'stream'));
  closers.push(() => streaming.close());
  const safety = embeddedDatabaseClient(analytics.connect({ urgent: true }));
  closers.push(() => safety.close());
  return {
    analytics,
    streaming,
    safety,
    label: `pglite (${join(config.DATA_DIR, 'pg')}, ${join(config.DATA_DIR, 'stream')})`,
    connect: () => ({ analytics: analytics.connect(), safety: analytics.connect({ urgent: true }), streaming: streaming.connect() }),
  };
}

/** The embedded mode's outbox, the stand-in for SMS and e-mail, is a file of the data folder the erasure reaches. */
function outboxTarget(path: string | undefined): ErasureTarget[] {
  if (path === undefined) return [];
  return [{ store: 'alert outbox', what: 'lines of the outbox file (the stand-in for SMS and e-mail) that name the user', erase: (subject) => eraseOutboxLines(path, subjectKey({ kind: 'user', id: subject })) }];
}

/**
 * What makes an erasure hold against a hex editor: the tables it deleted from are rewritten, and
 * where the data folder holds the database (embedded) its write-ahead log is retired too; the
 * consent registry's file is written anew. Run in the request: about a second at most on a small
 * data folder (PRIVACY.md, "Erasure against a hex editor"; bench/erasure-scrub.ts).
 */
function erasureScrubs(config: LocalConfig, stores: { analytics: SqlDatabase; streaming: SqlDatabase; consent: StorageScrub | undefined }): StorageScrub[] {
  const embedded = config.DATABASE_URL === undefined;
  return [
    ...(stores.consent ? [stores.consent] : []),
    new SqlScrub('postgresql', stores.analytics, ERASED_ANALYTICS_TABLES, { retireWal: embedded }),
    new SqlScrub('stream database', stores.streaming, ERASED_STREAM_TABLES, { retireWal: embedded }),
  ];
}

/**
 * The whole system on one machine: the same handlers as in AWS, behind a local HTTP server, with
 * a poller in the place of the event source mapping. Adapters follow the configuration.
 */
export async function startRuntime(config: LocalConfig, logger: Logger = jsonLogger('local', config.LOG_LEVEL)): Promise<Runtime> {
  // Closed in reverse on stop, and on a failed start so nothing is left holding the data folder.
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    return await assemble(config, logger, closers, closeAll);
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function assemble(config: LocalConfig, logger: Logger, closers: (() => Promise<void>)[], closeAll: () => Promise<void>): Promise<Runtime> {
  // First taken, last given back: nothing else opens the data folder while this runtime has it.
  const unlock = lockDataDir(resolve(config.DATA_DIR));
  closers.push(async () => unlock());
  const tokens = localTokenAuthority(config.DATA_DIR, config.DEV_TOKEN);
  const { analytics, streaming, safety, label: databaseLabel, connect } = await openDatabases(config, closers, logger);
  await migrate(analytics, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  // Checkpoints (and, embedded, the stream and the DLQ) live in a database in every local mode.
  await migrate(streaming, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  if (await compactStreamLog(config)) logger.info('stream log compacted');
  const { stream, deadLetters, label: streamLabel, trim, erasable } = await openStream(config, streaming, closers);

  const audit = new SqlAuditLog(analytics);
  const { registry, label: consentLabel, scrub: consentScrub } = await openConsentRegistry(config, closers);
  // One cache for ingest and erasure, as for consent: an erasure drops the key ingest holds. Not
  // on an emulator, which can restart empty: a cached key it forgot would seal new records the
  // consumers can no longer open, and they would be skipped as erased. Uncached, ingest finds the
  // table gone, it is recreated, and new keys seal what comes next.
  const recordKeys = await openRecordKeys(config, streaming);
  const keys = config.AWS_ENDPOINT_URL ? recordKeys : new CachedRecordKeys(recordKeys, systemClock);
  // One cache for both handlers, as if they were one instance: a withdrawal is seen by the next request.
  const consent = new CachedConsentRegistry(registry, systemClock);
  const pseudonymise = pseudonymisers(localPepper(config.DATA_DIR, config.PSEUDONYM_PEPPER));
  const prometheus = new PrometheusMetrics(logger);
  // Also the monitor's record of ingest errors and latency per minute (CloudWatch's part in AWS).
  const metrics = new MinuteMetrics(prometheus, systemClock);
  // Started before the HTTP server, stopped after it: no accepted event waits for a poller.
  const aggregator = await AggregatorThread.start(config, connect, logger, metrics);
  closers.push(() => aggregator.stop());
  const lag = makeConsumerLag({ reader: stream, checkpoints: new SqlCheckpointStore(streaming), clock: systemClock });
  const monitoring = await startMonitoring({ config, analytics, safety, feed: aggregator, operational: metrics, metrics, lag, closers, logger });
  const health = makeHealthCheck({ config, analytics, streaming, stream, thread: aggregator, lag, logger, closers });
  // Each put wakes the detect consumer, after this turn, so the answer goes out first.
  const ingestStream: EventStreamWriter = {
    async putRecords(records) {
      const results = await stream.putRecords(records);
      setImmediate(() => aggregator.nudgeDetect());
      return results;
    },
  };
  // Ingest refused while a consumer is too far behind: a backlog delays safety alerts and sits in memory.
  const ingestHandler = admitted(
    makeIngestHandler({ ingest: makeIngest({ stream: ingestStream, consent, keys, pseudonymise, clock: systemClock, sleep }), logger, metrics }),
    makeAdmission({ lag, clock: systemClock, logger }),
    metrics,
  );
  const privacyHandler = makePrivacyHandler({
    recordConsent: makeRecordConsent({ registry: consent, pseudonymiseUser: pseudonymise.user, clock: systemClock }),
    assignCaseload: makeAssignCaseload({ caseloads: new SqlCaseloadStore(analytics), pseudonymiseUser: pseudonymise.user, clock: systemClock }),
    eraseUser: makeEraseUser({
      pseudonymiseUser: pseudonymise.user,
      targets: [
        ...erasureTargets({
          consent,
          keys,
          rollups: new SqlRollupStore(analytics),
          live: aggregator,
          records: erasable,
          alerts: monitoring.console,
          conditions: monitoring.erasable.conditions,
          alertFeed: aggregator,
          interventions: new SqlInterventionStore(analytics),
        }),
        ...outboxTarget(outboxPath(config)),
      ],
      scrubs: erasureScrubs(config, { analytics, streaming, consent: consentScrub }),
      // Kinesis and SQS (the emulated mode) cannot forget one user's records.
      retained: [...RETAINED_EVERYWHERE, ...(erasable.length === 0 ? RETAINED_IN_AWS : [])],
      clock: systemClock,
      newId: randomUUID,
    }),
    audit,
    clock: systemClock,
    logger,
  });
  const ledger = new SqlPrivacyLedger(analytics);
  const privacyBudget = { epsilon: config.PRIVACY_BUDGET_EPSILON, delta: config.PRIVACY_BUDGET_DELTA };
  const release = { values: new SqlResearchValues(analytics), ledger, budget: privacyBudget, k: config.K_ANONYMITY, random: cryptoRandomBits(), clock: systemClock };
  // The server's URL is known once it listens; links are only made after that.
  let serverUrl = '';
  const links = new LocalLinks(dataDirSecret(config.DATA_DIR, 'link-secret'), () => serverUrl, () => systemClock.now());
  const objects = await openObjectStore(config, links);
  const reportIndex = new SqlReportIndex(analytics);
  const reportSchedules = new SqlReportScheduleStore(analytics);
  const { mailer, owners } = await openReportDelivery(config);
  const renderThread = new RenderThread();
  closers.push(() => renderThread.stop());
  const reportRuns = new LocalReportRuns(
    makeReportWorker({
      index: reportIndex,
      schedules: reportSchedules,
      sources: reportSources({ db: analytics, deadLetters, operational: metrics, k: config.K_ANONYMITY, clock: systemClock, hourRollupDays: config.RETENTION_HOUR_ROLLUP_DAYS }),
      renderersOf: (run) => renderThread.renderersOf(run),
      objects,
      mailer,
      owners,
      clock: systemClock,
      sleep,
      logger,
      metrics,
    }),
    logger,
  );
  closers.push(() => reportRuns.stop());
  await reportRuns.sync(await reportSchedules.list());
  const patterns = new SqlPatternStore(analytics);
  const queryHandler = makeQueryHandler({
    rollups: new SqlRollupStore(analytics),
    researchExport: makeResearchExport(release),
    reports: makeReports({
      index: reportIndex,
      schedules: reportSchedules,
      jobs: reportRuns,
      timers: reportRuns,
      objects,
      researchRelease: makeResearchRelease({ ...release, metrics }),
      clock: systemClock,
      newId: randomUUID,
    }),
    budget: { ledger, total: privacyBudget },
    cohorts: makeCohorts({ store: new SqlCohortStore(analytics), population: new SqlCohortPopulation(analytics), patterns, clock: systemClock, k: config.K_ANONYMITY, newId: randomUUID }),
    dashboards: makeDashboards({
      store: new SqlDashboardStore(analytics),
      clock: systemClock,
      newId: randomUUID,
      retention: { minuteRollupDays: config.RETENTION_MINUTE_ROLLUP_DAYS, hourRollupDays: config.RETENTION_HOUR_ROLLUP_DAYS },
    }),
    patterns,
    audit,
    predictions: new SqlOutcomePredictionStore(analytics),
    interventions: new SqlInterventionStore(analytics),
    k: config.K_ANONYMITY,
    hourRollupDays: config.RETENTION_HOUR_ROLLUP_DAYS,
    clock: systemClock,
    logger,
  });
  const models = localModelRuns(makeRunModels({ steps: behaviourModelSteps({ db: analytics, clock: systemClock, k: config.K_ANONYMITY }), artefacts: objects, clock: systemClock, logger }), logger);
  let ready = false;
  let stopping: Promise<void> | undefined;
  const http = await startHttpServer({
    port: config.PORT,
    host: config.HOST,
    tokens,
    logger,
    handlers: {
      ingest: ingestHandler,
      query: queryHandler,
      privacy: privacyHandler,
      alerts: makeAlertsHandler({
        alerts: monitoring.console,
        rules: alertRulesAdmin(analytics),
        anomalies: new SqlAnomalyStore(analytics),
        k: config.K_ANONYMITY,
        audit,
        clock: systemClock,
        logger,
      }),
    },
    operations: {
      '/health': async () => {
        if (!ready) return { status: 503, contentType: 'application/json', body: JSON.stringify({ status: 'starting' }) };
        const report = await health();
        return { status: httpStatusOf(report), contentType: 'application/json', body: JSON.stringify(report) };
      },
      '/metrics': async () => ({ status: 200, contentType: prometheus.contentType, body: await prometheus.render() }),
      ...apiReferencePages(),
    },
    uploads: {
      '/imports': importUpload(
        // History goes straight into the rollups (use-cases/import-history.ts says why), folded in
        // the aggregator's thread beside its writes (AggregatorThread.applyHistory says why).
        makeImportHistory({ consent, pseudonymise, clock: systemClock, rollups: { applyEvents: (events) => aggregator.applyHistory(events) } }),
        logger,
      ),
      '/model-runs': models.upload,
    },
    downloads: { prefix: LOCAL_FILES_PATH, answer: reportDownloads(links, objects) },
    site: webApp(),
    streams: { '/v1/live': { roles: LIVE_ROLES, open: liveEvents(aggregator, { k: config.K_ANONYMITY, logger }) } },
  });
  serverUrl = http.url;
  models.start(systemClock.now());
  closers.push(() => models.stop());
  closers.push(() => http.close());
  if (trim) {
    const trimmer = new RepeatingJob('stream trim', TRIM_EVERY_MS, trim, logger).start();
    closers.push(() => trimmer.stop());
  }
  ready = true;

  return {
    url: http.url,
    tokens,
    mode: { database: databaseLabel, stream: streamLabel, streamName: config.STREAM_NAME, live: liveStoreLabel(config), consent: consentLabel },
    deadLetters,
    drain: () => aggregator.drain(),
    detect: () => aggregator.detect(),
    monitor: () => monitoring.monitor(),
    rollUp: () => aggregator.rollUp(),
    runModels: () => models.run(),
    reportsIdle: () => reportRuns.idle(),
    // Once: a second stop (a test's cleanup after its own) must not close closed databases.
    stop() {
      ready = false;
      stopping ??= closeAll();
      return stopping;
    },
  };
}
