import { createHash } from 'node:crypto';
import type { Logger } from '../adapters/log';
import type { Clock, Metrics, ObjectStore, Sleep } from '../ports';
import { REPORT_METRIC_NAMES } from '../ports/anomalies';
import type { NewReportRun, OwnerAlerts, ReportFile, ReportIndex, ReportJob, ReportMailer, ReportRenderer, ReportRun, ReportScheduleStore, ReportSource } from '../ports/reports';
import type { ReportDocument, ReportFormat, ReportKind } from '../domain/reports/document';
import { periodOf, type ReportSchedule } from '../domain/reports/schedule';
import { reportFailedMail, reportLinkMail, type MailText } from '../domain/reports/mail';

/*
 * The report function's work (issue 17): make a queued run (gather its document, render each
 * format, store each file as a new version), then mail a schedule's recipients once per period.
 * Guardrails: a run that failed or came out empty is never mailed as a report (recipients get a
 * short notice, owners an alert with the reason); a mailing is claimed per (schedule, period)
 * before it is sent, so retries and repeated firings mail it once.
 */

/** Seconds an e-mailed link lasts: S3's presigned links may last a week at most. */
export const MAIL_LINK_SECONDS = 7 * 86_400;
/** A running run that has not moved for this long lost its worker (a timed-out function): another may take it. */
export const STALE_RUN_MS = 120_000;
const MAIL_ATTEMPTS = 3;
const MAIL_BACKOFF_MS = 2_000;

export interface ReportWorkerDeps {
  readonly index: ReportIndex;
  readonly schedules: ReportScheduleStore;
  readonly sources: Readonly<Record<ReportKind, ReportSource>>;
  /** The renderers of a run: the same for every kind but research, whose CSV keeps its own layout. */
  readonly renderersOf: (run: ReportRun) => Readonly<Record<ReportFormat, ReportRenderer>>;
  readonly objects: ObjectStore;
  readonly mailer: ReportMailer;
  readonly owners: OwnerAlerts;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'count' | 'observe'>;
}

/** A run that could not be made, for its error: `code` for machines, `message` for the report's page. */
class RunFailure extends Error {
  constructor(
    readonly code: 'empty' | 'source_failed' | 'render_failed',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A scheduled firing's run id, the same on every delivery of that firing (EventBridge Scheduler
 * and SQS deliver at least once): a second delivery finds the run instead of making another.
 */
export function scheduledRunId(scheduleId: string, firedAt: string): string {
  const hex = createHash('sha256').update(`${scheduleId}\n${new Date(firedAt).toISOString()}`).digest('hex');
  // A version 8 (name-based, custom) UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A run of a schedule for the period it covers when fired (or tested) at `at`. */
export function scheduledRun(schedule: ReportSchedule, id: string, at: Date, test: boolean): NewReportRun {
  return {
    id,
    kind: schedule.kind,
    period: periodOf(schedule.period, at, schedule.timeZone),
    formats: schedule.formats,
    createdAt: at.toISOString(),
    createdBy: `schedule:${schedule.id}`,
    role: 'system',
    scheduleId: schedule.id,
    test,
    parameters: {},
    release: null,
    summary: {},
  };
}

/**
 * True when a report has nothing to say: no data reached its period (the newest data it covers is
 * before the period began, or there is none), or it has no row in any table and no value in any
 * chart. A period of quiet is still a report where data came after it: zeros are figures.
 */
export function isEmptyDocument(document: ReportDocument): boolean {
  if (document.dataThrough === null || Date.parse(document.dataThrough) < Date.parse(document.period.from)) return true;
  return document.sections.every((section) =>
    section.blocks.every((block) => (block.kind === 'table' ? block.rows.length === 0 : block.kind === 'chart' ? block.series.every((series) => series.points.every((point) => point.value === null)) : true)),
  );
}

const EXTENSIONS: Record<ReportFormat, string> = { pdf: 'pdf', xlsx: 'xlsx', csv: 'csv', html: 'html' };

export const reportObjectKey = (run: Pick<ReportRun, 'kind' | 'period'>, version: number, format: ReportFormat) => `reports/${run.kind}/${run.period.label}/v${version}.${EXTENSIONS[format]}`;

export function makeReportWorker(deps: ReportWorkerDeps) {
  const now = () => deps.clock.now();

  async function gather(run: ReportRun): Promise<ReportDocument> {
    try {
      return await deps.sources[run.kind](run, (progress) => void deps.index.progress(run.id, progress, now()).catch(() => undefined));
    } catch (error) {
      throw new RunFailure('source_failed', `gathering the figures failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }

  async function render(run: ReportRun, document: ReportDocument): Promise<{ version: number; files: ReportFile[] }> {
    const renderers = deps.renderersOf(run);
    const rendered: { format: ReportFormat; body: Buffer; contentType: string }[] = [];
    for (const [position, format] of run.formats.entries()) {
      await deps.index.progress(run.id, { stage: `rendering ${format}`, done: position, total: run.formats.length }, now());
      const renderer = renderers[format];
      let body: Buffer;
      try {
        body = await renderer.render(document);
      } catch (error) {
        throw new RunFailure('render_failed', `rendering the ${format} failed: ${error instanceof Error ? error.message : 'unknown error'}`);
      }
      if (body.length === 0) throw new RunFailure('empty', `the ${format} came out empty`);
      rendered.push({ format, body, contentType: renderer.contentType });
    }
    // Numbered only once every format rendered: a failed run leaves no version behind.
    const version = await deps.index.nextVersion(run.kind, run.period.label);
    const files: ReportFile[] = [];
    for (const file of rendered) {
      const objectKey = reportObjectKey(run, version, file.format);
      await deps.objects.putNew(objectKey, file.body, file.contentType);
      files.push({ format: file.format, objectKey, bytes: file.body.length, contentType: file.contentType });
    }
    return { version, files };
  }

  async function mail(run: ReportRun, recipients: readonly string[], text: MailText, kind: 'link' | 'notice'): Promise<void> {
    let attempts = 0;
    let reason: string | undefined;
    while (attempts < MAIL_ATTEMPTS) {
      attempts += 1;
      try {
        await deps.mailer.send(recipients, text);
        await deps.index.addDelivery(run.id, { kind: run.test ? 'test' : kind, status: 'sent', recipients: recipients.length, attempts, at: now().toISOString() });
        return;
      } catch (error) {
        reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
        if (attempts < MAIL_ATTEMPTS) await deps.sleep(MAIL_BACKOFF_MS * 2 ** (attempts - 1));
      }
    }
    await deps.index.addDelivery(run.id, { kind: run.test ? 'test' : kind, status: 'failed', recipients: recipients.length, attempts, at: now().toISOString(), reason });
    await deps.owners.reportFailed(run, `the e-mail to the schedule's ${recipients.length} recipients failed ${attempts} times: ${reason}`);
    throw new Error(`mailing report ${run.id} failed`);
  }

  /**
   * Mails the schedule's recipients, once per (schedule, period): a test send is never claimed
   * (it is not the period's report), any other send is claimed first and settled after.
   */
  async function mailOnce(run: ReportRun, text: MailText, kind: 'link' | 'notice'): Promise<void> {
    const schedule = run.scheduleId === null ? undefined : await deps.schedules.get(run.scheduleId);
    if (!schedule || schedule.recipients.length === 0) return;
    if (run.test) return mail(run, schedule.recipients, text, kind);
    if (!(await deps.schedules.claimMailing(schedule.id, run.period.label, run.id))) {
      await deps.index.addDelivery(run.id, { kind, status: 'skipped', recipients: schedule.recipients.length, attempts: 0, at: now().toISOString(), reason: 'this period was mailed already' });
      return;
    }
    try {
      await mail(run, schedule.recipients, text, kind);
      await deps.schedules.settleMailing(schedule.id, run.period.label, 'sent');
    } catch {
      await deps.schedules.settleMailing(schedule.id, run.period.label, 'failed');
    }
  }

  async function make(run: ReportRun): Promise<void> {
    const started = now().getTime();
    let outcome: 'ready' | 'failed' = 'failed';
    try {
      const document = await gather(run);
      if (isEmptyDocument(document)) throw new RunFailure('empty', 'the report has no figure: no data for the period');
      const { version, files } = await render(run, document);
      await deps.index.finish(run.id, { version, dataThrough: document.dataThrough, files, summary: { ...run.summary, sections: document.sections.map((section) => section.id) } }, now());
      outcome = 'ready';
      deps.logger.info('report made', { report: run.id, kind: run.kind, period: run.period.label, version, files: files.length });
      const links = await Promise.all(files.map(async (file) => ({ format: file.format, ...(await deps.objects.link(file.objectKey, MAIL_LINK_SECONDS)) })));
      await mailOnce(run, reportLinkMail({ kind: run.kind, period: run.period, dataThrough: document.dataThrough, links, test: run.test }), 'link');
    } catch (error) {
      if (!(error instanceof RunFailure)) throw error;
      deps.logger.warn('report failed', { report: run.id, kind: run.kind, period: run.period.label, code: error.code });
      await deps.index.fail(run.id, { code: error.code, message: error.message }, now());
      await deps.owners.reportFailed(run, error.message);
      await mailOnce(run, reportFailedMail({ kind: run.kind, period: run.period, test: run.test }), 'notice');
    } finally {
      deps.metrics.count(REPORT_METRIC_NAMES.runs, 1, { kind: run.kind, outcome });
      deps.metrics.observe(REPORT_METRIC_NAMES.duration, now().getTime() - started, { kind: run.kind });
    }
  }

  /** Takes the run and makes it; a run another worker is making now is retried later (the job throws). */
  async function takeAndMake(id: string): Promise<void> {
    const run = await deps.index.start(id, now(), STALE_RUN_MS);
    if (run) return make(run);
    const current = await deps.index.get(id);
    if (current?.status === 'running') throw new Error(`report ${id} is being made by another worker`);
  }

  return async function work(job: ReportJob): Promise<void> {
    switch (job.type) {
      case 'run':
      case 'test':
        return takeAndMake(job.reportId);
      case 'schedule': {
        const schedule = await deps.schedules.get(job.scheduleId);
        // Removed or paused since the timer was set: the timer is on its way out too.
        if (!schedule?.enabled) return deps.logger.info('schedule fired but is gone or disabled', { schedule: job.scheduleId });
        const id = scheduledRunId(schedule.id, job.firedAt);
        await deps.index.add(scheduledRun(schedule, id, new Date(job.firedAt), false));
        return takeAndMake(id);
      }
    }
  };
}

export type ReportWorker = ReturnType<typeof makeReportWorker>;
