import type { Clock, ObjectStore } from '../ports';
import type { ReportIndex, ReportJobQueue, ReportRun, ReportScheduleStore, ReportTimers } from '../ports/reports';
import type { ReportKind } from '../domain/reports/document';
import { requestedPeriod, type ReportRequest } from '../domain/reports/request';
import { nextRuns, type ReportSchedule } from '../domain/reports/schedule';
import type { ResearchRelease } from './research-report';
import { scheduledRun } from './report-worker';

/*
 * The API side of reports (DESIGN.md "Reports"): a report asked for is queued for the report
 * function and answered at once; its page shows its state, and once made, links to its files
 * that expire. Schedules are kept in the database and set on the timers (EventBridge Scheduler
 * in AWS) in the same request.
 */

/** Seconds a link on a report's page lasts: read it now, ask again later. */
export const PAGE_LINK_SECONDS = 3_600;

export interface ReportsDeps {
  readonly index: ReportIndex;
  readonly schedules: ReportScheduleStore;
  readonly jobs: ReportJobQueue;
  readonly timers: ReportTimers;
  readonly objects: Pick<ObjectStore, 'link'>;
  readonly researchRelease: ResearchRelease;
  readonly clock: Clock;
  readonly newId: () => string;
}

export type Caller = { readonly actor: string; readonly role: string };

/** A run as GET /v1/reports/{id} shows it: its files with links when `links` are given. */
export function reportView(run: ReportRun, links?: readonly { url: string; expiresAt: string }[]) {
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    period: run.period,
    formats: run.formats,
    createdAt: run.createdAt,
    createdBy: run.createdBy,
    scheduleId: run.scheduleId,
    test: run.test,
    parameters: run.parameters,
    summary: run.summary,
    version: run.version,
    dataThrough: run.dataThrough,
    progress: run.progress,
    files: run.files.map((file, position) => ({ format: file.format, bytes: file.bytes, contentType: file.contentType, ...(links && links[position]) })),
    deliveries: run.deliveries,
    ...(run.error && { error: run.error }),
  };
}

export type ReportView = ReturnType<typeof reportView>;

/** A schedule as GET /v1/report-schedules shows it, with its next three runs in its own zone. */
const scheduleView = (schedule: ReportSchedule, now: Date) => ({ ...schedule, next: nextRuns(schedule, now) });

export function makeReports(deps: ReportsDeps) {
  async function queue(run: Parameters<ReportIndex['add']>[0], job: (id: string) => Parameters<ReportJobQueue['enqueue']>[0]): Promise<ReportRun> {
    await deps.index.add(run);
    try {
      await deps.jobs.enqueue(job(run.id));
    } catch (error) {
      // Shown on the report's page rather than left queued for a worker that will never hear of it.
      await deps.index.fail(run.id, { code: 'not_queued', message: 'the report could not be handed to the report function; ask for it again' }, deps.clock.now());
      throw error;
    }
    return (await deps.index.get(run.id))!;
  }

  return {
    /** POST /v1/reports: queued; a research report's release is drawn (and its ε spent) now. */
    async request(request: ReportRequest, caller: Caller): Promise<{ status: 'queued'; run: ReportRun } | { status: 'refused'; remaining: { epsilon: number; delta: number } }> {
      const id = deps.newId();
      const { kind, from: _from, to: _to, timeZone: _timeZone, format, ...parameters } = request;
      let release: unknown = null;
      let summary: Record<string, unknown> = {};
      if (request.kind === 'research') {
        const released = await deps.researchRelease(request, caller, id);
        if (released.status === 'refused') return released;
        release = released.lines;
        summary = released.summary;
      }
      const run = await queue(
        { id, kind, period: requestedPeriod(request), formats: [format], createdAt: deps.clock.now().toISOString(), createdBy: caller.actor, role: caller.role, scheduleId: null, test: false, parameters, release, summary },
        (reportId) => ({ type: 'run', reportId }),
      );
      return { status: 'queued', run };
    },

    /** GET /v1/reports/{id}: the run, with a link to each file that expires. */
    async view(id: string): Promise<ReportView | undefined> {
      const run = await deps.index.get(id);
      if (!run) return undefined;
      return reportView(run, await Promise.all(run.files.map((file) => deps.objects.link(file.objectKey, PAGE_LINK_SECONDS))));
    },

    /** GET /v1/reports: newest first, without links (a page of links would be minted unread). */
    async list(query: { kind?: ReportKind; limit: number; cursor?: string }) {
      const page = await deps.index.list(query);
      return { reports: page.runs.map((run) => reportView(run)), cursor: page.cursor };
    },

    async schedules() {
      const now = deps.clock.now();
      return { schedules: (await deps.schedules.list()).map((schedule) => scheduleView(schedule, now)) };
    },

    /** PUT /v1/report-schedules: stored, then set on the timers; the answer is what GET shows. */
    async replaceSchedules(schedules: readonly ReportSchedule[]) {
      await deps.schedules.replace(schedules);
      await deps.timers.sync(schedules);
      return this.schedules();
    },

    /** POST /v1/report-schedules/{id}/test: the schedule's latest period, made now and mailed as a test. */
    async testSchedule(scheduleId: string, caller: Caller): Promise<ReportRun | undefined> {
      const schedule = await deps.schedules.get(scheduleId);
      if (!schedule) return undefined;
      const run = { ...scheduledRun(schedule, deps.newId(), deps.clock.now(), true), createdBy: caller.actor, role: caller.role };
      return queue(run, (reportId) => ({ type: 'test', scheduleId, reportId }));
    },
  };
}

export type Reports = ReturnType<typeof makeReports>;
