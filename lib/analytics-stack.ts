import { Aspects, Lazy, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { Alerting } from './alerting';
import { Api } from './api';
import { Cache } from './cache';
import { Database } from './database';
import { ExternalCache, ExternalDatabase } from './external-stores';
import { FunctionUrls } from './function-urls';
import { type FunctionBinding, type FunctionPlacement, type HouseFunction, HouseFunctionsOnly } from './house-function';
import { Ingestion } from './ingestion';
import { LiveStream } from './live-stream';
import { Migrations } from './migrations';
import { Monitoring } from './monitoring';
import { Network } from './network';
import { Observability, type ObservabilityProps } from './observability';
import { PrivacyService } from './privacy-service';
import { HistoryImport } from './history-import';
import { BehaviourModel } from './behaviour-model';
import { Processing } from './processing';
import { QueryService } from './query-service';
import { Reporting } from './reporting';
import type { Settings } from './settings';
import { Storage } from './storage';
import { WebHosting } from './web-hosting';

export interface AnalyticsStackProps extends StackProps {
  readonly settings: Settings;
  /**
   * The built web app (`web/dist`), which the AWS target serves from CloudFront; synthesis stops
   * when it holds no index.html. The LocalStack target has no CloudFront and does not read it.
   */
  readonly webBuildFolder?: string;
}

interface DataPlane {
  readonly database: FunctionBinding;
  readonly cache: FunctionBinding;
  /** The stores the stack builds, for the operators' dashboard; none when they are external. */
  readonly stores?: ObservabilityProps['stores'];
  readonly placement?: FunctionPlacement;
  readonly migrationDependencies: Construct[];
}

// Alert messages need some address: LocalStack hosts no web app.
const LOCALSTACK_DASHBOARD_URL = 'https://dashboard.example.org';

/**
 * The whole product in one stack. `target: 'localstack'` keeps the serverless parts and swaps
 * the VPC stores and the HTTP API (absent from LocalStack community) for URLs and function URLs,
 * and leaves out the web app's hosting (no CloudFront there).
 */
export class AnalyticsStack extends Stack {
  readonly settings: Settings;
  readonly storage: Storage;
  readonly ingestion: Ingestion;
  readonly processing: Processing;
  readonly queryService: QueryService;
  readonly privacyService: PrivacyService;
  readonly historyImport: HistoryImport;
  readonly behaviourModel: BehaviourModel;
  readonly migrations: Migrations;
  readonly alerting: Alerting;
  readonly reporting: Reporting;
  readonly monitoring: Monitoring;
  readonly observability: Observability;
  readonly api?: Api;
  readonly functionUrls?: FunctionUrls;
  readonly liveStream?: LiveStream;
  readonly webHosting?: WebHosting;

  constructor(scope: Construct, id: string, props: AnalyticsStackProps) {
    super(scope, id, props);
    const s = (this.settings = props.settings);
    const local = s.target === 'localstack';
    // Data outlives the stack in AWS; a LocalStack stack is disposable by definition.
    const removalPolicy = local ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = s.logRetentionDays;

    Aspects.of(this).add(new HouseFunctionsOnly());

    this.storage = new Storage(this, 'Storage', { reportRetentionDays: s.reportRetentionDays, removalPolicy });
    this.ingestion = new Ingestion(this, 'Ingestion', {
      storage: this.storage,
      shardCount: s.shardCount,
      logRetention,
      removalPolicy,
    });

    const data = local ? this.externalDataPlane(s) : this.awsDataPlane(s, logRetention);

    this.processing = new Processing(this, 'Processing', {
      stream: this.ingestion.stream,
      recordKeyTable: this.storage.recordKeyTable,
      retention: { idempotencyKeyDays: s.idempotencyKeyRetentionDays, minuteRollupDays: s.minuteRollupRetentionDays, hourRollupDays: s.hourRollupRetentionDays, auditDays: s.auditRetentionDays, reportDays: s.reportRetentionDays, alertDays: s.alertRetentionDays },
      kAnonymity: s.kAnonymity,
      database: data.database,
      cache: data.cache,
      placement: data.placement,
      logRetention,
      removalPolicy,
    });
    this.queryService = new QueryService(this, 'QueryService', {
      database: data.database,
      storage: this.storage,
      kAnonymity: s.kAnonymity,
      hourRollupRetentionDays: s.hourRollupRetentionDays,
      minuteRollupRetentionDays: s.minuteRollupRetentionDays,
      privacyBudget: { epsilon: s.privacyBudgetEpsilon, delta: s.privacyBudgetDelta },
      placement: data.placement,
      logRetention,
    });
    this.historyImport = new HistoryImport(this, 'HistoryImport', {
      storage: this.storage,
      database: data.database,
      minuteRollupDays: s.minuteRollupRetentionDays,
      placement: data.placement,
      logRetention,
      removalPolicy,
    });
    this.behaviourModel = new BehaviourModel(this, 'BehaviourModel', {
      storage: this.storage,
      database: data.database,
      kAnonymity: s.kAnonymity,
      placement: data.placement,
      logRetention,
      removalPolicy,
    });
    this.privacyService = new PrivacyService(this, 'PrivacyService', {
      database: data.database,
      cache: data.cache,
      storage: this.storage,
      placement: data.placement,
      logRetention,
    });
    this.migrations = new Migrations(this, 'Migrations', {
      database: data.database,
      dependsOn: data.migrationDependencies,
      placement: data.placement,
      logRetention,
    });
    // The roll-up reads the watermark the migrations add.
    this.processing.rollUpSchedule.node.addDependency(this.migrations);
    this.processing.purgeSchedule.node.addDependency(this.migrations);

    // Before monitoring, whose functions deliver to its topics and template.
    this.alerting = new Alerting(this, 'Alerting', {
      alertEmail: s.alertEmail,
      alertPhone: s.alertPhone,
      escalationEmail: s.escalationEmail,
      escalationPhone: s.escalationPhone,
      alertEmailFrom: s.alertEmailFrom,
      alertEmailTo: s.alertEmailTo,
      removalPolicy,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stream: this.ingestion.stream,
      recordKeyTable: this.storage.recordKeyTable,
      database: data.database,
      cache: data.cache,
      delivery: this.alerting,
      kAnonymity: s.kAnonymity,
      // The web app is hosted in front of the API, which needs monitoring's alerts function: its
      // address is read once it exists.
      dashboardUrl: s.dashboardUrl ?? (local ? LOCALSTACK_DASHBOARD_URL : Lazy.string({ produce: () => this.webHosting!.url })),
      placement: data.placement,
      logRetention,
      removalPolicy,
    });
    this.reporting = new Reporting(this, 'Reporting', {
      database: data.database,
      storage: this.storage,
      alerting: this.alerting,
      reportEmailFrom: s.reportEmailFrom,
      kAnonymity: s.kAnonymity,
      hourRollupRetentionDays: s.hourRollupRetentionDays,
      consumerDeadLetterQueues: { aggregate: this.processing.deadLetterQueue, detect: this.monitoring.deadLetterQueue },
      placement: data.placement,
      logRetention,
      removalPolicy,
    });
    // POST /v1/reports and PUT /v1/report-schedules hand their work to the report function.
    this.queryService.queryFunction.bind(this.reporting);
    this.monitoring.monitorSchedule.node.addDependency(this.migrations);
    this.behaviourModel.schedule.node.addDependency(this.migrations);
    for (const fn of this.scheduledFunctions()) {
      if (s.scheduledFunctionConcurrency !== undefined) (fn.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = s.scheduledFunctionConcurrency;
      else {
        fn.acknowledge(
          'HIPAA.Security-LambdaConcurrency',
          'Runs on a schedule (or once per deploy), so its concurrency is bounded by how often it is invoked, and its code keeps it single-flight (AnalyticsStack.scheduledFunctions); reserving concurrency takes it from the account pool and fails deployment in accounts with a small quota (set scheduledFunctionConcurrency to reserve it).',
        );
      }
    }

    const handlers = {
      ingest: this.ingestion.ingestFunction,
      query: this.queryService.queryFunction,
      privacy: this.privacyService.privacyFunction,
      alerts: this.monitoring.alertsFunction,
    };
    if (local) {
      this.functionUrls = new FunctionUrls(this, 'FunctionUrls', { handlers, jwtSecret: this.settings.functionUrlJwtSecret, encryptionKey: this.storage.key });
    } else {
      this.api = new Api(this, 'Api', {
        handlers,
        jwt:
          s.jwtIssuer !== undefined && s.jwtAudience !== undefined
            ? { issuer: s.jwtIssuer, audience: s.jwtAudience.split(',').map((a) => a.trim()) }
            : undefined,
        throttle: { rateLimit: s.throttleRateLimit, burstLimit: s.throttleBurstLimit },
        logRetention,
        removalPolicy,
      });
      // GET /v1/live, which the HTTP API cannot stream: served beside it through the same distribution.
      this.liveStream = new LiveStream(this, 'LiveStream', {
        cache: data.cache,
        placement: data.placement ?? {},
        tokens: { issuer: this.api.issuer, userPoolId: this.api.userPool?.userPoolId, audience: this.api.audienceList() },
        kAnonymity: s.kAnonymity,
        encryptionKey: this.storage.key,
        logRetention,
      });
      if (props.webBuildFolder === undefined) throw new Error('AnalyticsStack: the AWS target serves the web app, so webBuildFolder (web/dist) must be given');
      this.webHosting = new WebHosting(this, 'WebApp', {
        buildFolder: props.webBuildFolder,
        api: this.api,
        liveStream: this.liveStream.functionUrl,
        accessLogBucket: this.storage.accessLogBucket,
        customDomain: s.webDomainName !== undefined && s.webCertificateArn !== undefined ? { name: s.webDomainName, certificateArn: s.webCertificateArn } : undefined,
        signInDomainPrefix: s.signInDomainPrefix,
        logRetention,
        removalPolicy,
      });
    }

    this.observability = new Observability(this, 'Observability', {
      stream: this.ingestion.stream,
      aggregateFunction: this.processing.aggregateFunction,
      deadLetterQueue: this.processing.deadLetterQueue,
      functions: {
        Ingest: handlers.ingest,
        Aggregate: this.processing.aggregateFunction,
        RollUp: this.processing.rollUpFunction,
        Purge: this.processing.purgeFunction,
        Query: handlers.query,
        Privacy: handlers.privacy,
        Migrate: this.migrations.migrateFunction,
        Detect: this.monitoring.detectFunction,
        Monitor: this.monitoring.monitorFunction,
        Alerts: handlers.alerts,
        Import: this.historyImport.importFunction,
        Model: this.behaviourModel.modelFunction,
        Report: this.reporting.reportFunction,
        ...(this.liveStream && { Live: this.liveStream.liveFunction, JwksMirror: this.liveStream.jwksFunction }),
      },
      alarmTopic: this.alerting.warningTopic,
      safety: { detectFunction: this.monitoring.detectFunction, deadLetterQueue: this.monitoring.deadLetterQueue, alarmTopic: this.alerting.criticalTopic },
      reports: { deadLetterQueue: this.reporting.deadLetterQueue },
      stores: data.stores,
    });
  }

  /**
   * The functions that run on a schedule or once per deploy, and what keeps each single-flight
   * without reserved concurrency: the roll-up steps serialise on the rollup_writer row lock (two
   * runs queue, neither folds a minute twice: test/contract/rollup-store.contract.test.ts); the
   * purge's deletes are idempotent and the audit purge locks audit_head; the migrator takes an
   * advisory lock per migration set; the monitor saves a detector's state only from the minute it
   * loaded (anomaly-stores contract) and opens and notifies an alert once however many apply it
   * (test/integration/alert-manager.test.ts, eight at once); each model run writes versions of
   * its own, and readers take the newest, so two runs at once leave two whole versions.
   */
  scheduledFunctions(): HouseFunction[] {
    return [this.processing.rollUpFunction, this.processing.purgeFunction, this.migrations.migrateFunction, this.monitoring.monitorFunction, this.behaviourModel.modelFunction];
  }

  private awsDataPlane(s: Settings, logRetention: Settings['logRetentionDays']): DataPlane {
    const network = new Network(this, 'Network', { logRetention });
    const database = new Database(this, 'Database', {
      network,
      deletionProtection: s.deletionProtection,
      logRetention,
    });
    const cache = new Cache(this, 'Cache', { network });
    return {
      database,
      cache,
      placement: { vpc: network.vpc, securityGroups: [network.functionSecurityGroup] },
      stores: { cluster: database.cluster, proxy: database.proxy, cacheName: cache.serverlessCache.serverlessCacheName },
      migrationDependencies: [database.cluster, database.proxy],
    };
  }

  private externalDataPlane(s: Settings): DataPlane {
    return {
      // The storage key already guards the pepper secret; the variant has no Aurora key of its own.
      database: new ExternalDatabase(this, 'ExternalDatabase', { url: s.databaseUrl, encryptionKey: this.storage.key }),
      cache: new ExternalCache(s.redisUrl),
      placement: {
        outsideVpcReason:
          'LocalStack target only: LocalStack community has no VPC, RDS or ElastiCache, so the functions reach the compose PostgreSQL and Redis by URL. The AWS target places them in the isolated subnets.',
      },
      migrationDependencies: [],
    };
  }
}
