import type { ReportDocument, ReportFormat, ReportKind } from '../domain/reports/document';
import type { ReportPeriodBounds, ReportSchedule } from '../domain/reports/schedule';

export type ReportStatus = 'queued' | 'running' | 'done' | 'failed';

/** One rendered file of a report run, kept at `reports/{kind}/{period label}/v{version}.{format}`. */
export interface ReportFile {
  readonly format: ReportFormat;
  readonly objectKey: string;
  readonly bytes: number;
  readonly contentType: string;
}

/**
 * One attempt at mailing a run's recipients: the link, or the short notice that the report could
 * not be made. Holds how many were mailed, never who (their addresses live in the schedule only).
 */
export interface ReportDelivery {
  readonly kind: 'link' | 'notice' | 'test';
  readonly status: 'sent' | 'failed' | 'skipped';
  readonly recipients: number;
  readonly attempts: number;
  readonly at: string;
  /** Why it failed or was skipped ("already mailed for this period", "SES refused: ..."). */
  readonly reason?: string;
}

export interface ReportProgress {
  readonly stage: string;
  readonly done: number;
  readonly total: number;
}

/** A report run as the index keeps it: asked for (POST or a schedule), made by the report function. */
export interface ReportRun {
  readonly id: string;
  readonly kind: ReportKind;
  readonly status: ReportStatus;
  readonly period: ReportPeriodBounds;
  readonly formats: readonly ReportFormat[];
  readonly createdAt: string;
  readonly createdBy: string;
  readonly role: string;
  /** The schedule that made it, or null when asked for through the API. */
  readonly scheduleId: string | null;
  /** A schedule's test send: mailed marked as a test, and never counted as the period's delivery. */
  readonly test: boolean;
  /** The request's other parameters (a research report's ε, mechanism, ...). */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** A research report's release, drawn when it was asked for (the ledger spent then); null for other kinds. */
  readonly release: unknown;
  readonly summary: Readonly<Record<string, unknown>>;
  /** The nth run of this kind and period; set when the files are written. */
  readonly version: number | null;
  /** The newest data the report covers; set when it is made. */
  readonly dataThrough: string | null;
  readonly files: readonly ReportFile[];
  readonly deliveries: readonly ReportDelivery[];
  readonly progress: ReportProgress | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly updatedAt: string;
}

export type NewReportRun = Pick<ReportRun, 'id' | 'kind' | 'period' | 'formats' | 'createdAt' | 'createdBy' | 'role' | 'scheduleId' | 'test' | 'parameters' | 'release' | 'summary'>;

export interface ReportListQuery {
  readonly kind?: ReportKind;
  readonly limit: number;
  /** The opaque cursor of the previous page. */
  readonly cursor?: string;
}

/** The report index (PostgreSQL): every run, its state, its files and its deliveries. */
export interface ReportIndex {
  /** Adds a queued run; a run of that id already there is kept as it is (a job delivered twice). */
  add(run: NewReportRun): Promise<void>;
  get(id: string): Promise<ReportRun | undefined>;
  /** Newest first. */
  list(query: ReportListQuery): Promise<{ readonly runs: readonly ReportRun[]; readonly cursor: string | null }>;
  /**
   * Takes a queued run, or a running one whose worker went quiet for `staleAfterMs` (a Lambda
   * that timed out), for this worker: the run as taken, or undefined when it is not to be taken.
   */
  start(id: string, now: Date, staleAfterMs: number): Promise<ReportRun | undefined>;
  progress(id: string, progress: ReportProgress, now: Date): Promise<void>;
  /**
   * The next version of a kind and period: each call answers a new one, so two runs of one
   * period never write the same keys.
   */
  nextVersion(kind: ReportKind, periodLabel: string): Promise<number>;
  finish(id: string, made: { readonly version: number; readonly dataThrough: string | null; readonly files: readonly ReportFile[]; readonly summary: Readonly<Record<string, unknown>> }, now: Date): Promise<void>;
  fail(id: string, error: { readonly code: string; readonly message: string }, now: Date): Promise<void>;
  addDelivery(id: string, delivery: ReportDelivery): Promise<void>;
  /** Retention: removes the runs created before `cutoff`, answering their files' object keys. */
  purgeBefore(cutoff: Date): Promise<string[]>;
}

/** The report schedules (PostgreSQL), and the record that mails each (schedule, period) once. */
export interface ReportScheduleStore {
  list(): Promise<ReportSchedule[]>;
  get(id: string): Promise<ReportSchedule | undefined>;
  /** PUT /v1/report-schedules: the whole set, replaced in one transaction. */
  replace(schedules: readonly ReportSchedule[]): Promise<void>;
  /**
   * Claims the mailing of a schedule's period for a run: true for the first claim, and for a
   * claim whose earlier mailing failed; false when the period was mailed (or is being mailed).
   */
  claimMailing(scheduleId: string, periodLabel: string, runId: string): Promise<boolean>;
  /** The claimed mailing's end: sent keeps the claim for good, failed lets a retry claim it again. */
  settleMailing(scheduleId: string, periodLabel: string, outcome: 'sent' | 'failed'): Promise<void>;
}

/** The report function's work. */
export type ReportJob =
  /** A run asked for through POST /v1/reports (or made by a schedule's job), by id. */
  | { readonly type: 'run'; readonly reportId: string }
  /** A schedule fired: its time is the one it was due, which picks the period. */
  | { readonly type: 'schedule'; readonly scheduleId: string; readonly firedAt: string }
  /** POST /v1/report-schedules/{id}/test: the schedule's latest period now, mailed as a test. */
  | { readonly type: 'test'; readonly scheduleId: string; readonly reportId: string };

/** Hands work to the report function: an SQS queue in AWS, the local runtime's worker locally. */
export interface ReportJobQueue {
  enqueue(job: ReportJob): Promise<void>;
}

/**
 * Keeps each enabled schedule firing in its time zone: EventBridge Scheduler schedules in AWS
 * (their target the job queue), timers in the local runtime.
 */
export interface ReportTimers {
  sync(schedules: readonly ReportSchedule[]): Promise<void>;
}

/** A message to a schedule's recipients: a link to a made report, or the notice that one failed. */
export interface ReportMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Sends report mail (SES in AWS, the outbox locally); throws when it was not accepted. */
export interface ReportMailer {
  send(recipients: readonly string[], mail: ReportMail): Promise<void>;
}

/** Tells the product's owners that a report failed (the operations topic in AWS, the outbox locally). */
export interface OwnerAlerts {
  reportFailed(run: Pick<ReportRun, 'id' | 'kind' | 'period' | 'scheduleId'>, reason: string): Promise<void>;
}

/** One format's renderer (functions/adapters/report-formats): any report document to a file's bytes. */
export interface ReportRenderer {
  readonly format: ReportFormat;
  readonly contentType: string;
  render(document: ReportDocument): Promise<Buffer>;
}

/** Calls back as a report's sections are gathered, for the run's progress. */
export type OnReportProgress = (progress: ReportProgress) => void;

/**
 * A report definition: gathers its figures from the stores into a document for the period.
 * `dataThrough` is the newest data the stores held when it was made.
 */
export type ReportSource = (run: Pick<ReportRun, 'period' | 'parameters' | 'release'>, onProgress: OnReportProgress) => Promise<ReportDocument>;
