import { useState, type FormEvent } from 'react';
import { api, queryString } from '../api';
import { useAction, useApiGet } from '../hooks';
import { useSession } from '../session';
import { Failure, Status } from '../components/Status';
import { TableRegion, Withheld, ColumnHeads } from '../components/format';

/*
 * Reports: ask for one, follow it until it is made, download its files through the links its page
 * carries (they expire), and the schedules that ask for them (an admin turns one on or off and
 * sends a test).
 */

const KINDS = ['outcomes', 'operations', 'research'] as const;
const FORMATS = ['pdf', 'xlsx', 'csv', 'html'] as const;
const PAGE = 20;
const DAY_MS = 86_400_000;

interface ReportPeriod {
  from: string;
  to: string;
  timeZone: string;
  label: string;
}

interface Report {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  period: ReportPeriod;
  formats: string[];
  createdAt: string;
  createdBy: string;
  scheduleId: string | null;
  test: boolean;
  summary: { sections?: string[]; released?: string[]; suppressed?: { metric: string; reason: string; message: string; figure?: string }[] };
  version: number | null;
  dataThrough: string | null;
  progress: { stage: string; done: number; total: number } | null;
  files: { format: string; bytes: number; contentType: string; url?: string; expiresAt?: string }[];
  deliveries: { kind: string; status: string; recipients: number; attempts: number; at: string; reason?: string }[];
  error?: { code: string; message: string };
}

interface Schedule {
  id: string;
  kind: string;
  cron: string;
  timeZone: string;
  period: string;
  formats: string[];
  recipients: string[];
  enabled: boolean;
  next: string[];
}

const when = (instant: string) => new Date(instant).toLocaleString('en-GB');
const periodText = (period: ReportPeriod) => period.label.replace('--', ' to ');
const size = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${Math.round(bytes / 1024).toLocaleString('en')} KB`);
/** A date input's day as the instant its midnight starts on the browser's clock, `days` later. */
const localMidnight = (date: string, days = 0) => {
  const midnight = new Date(`${date}T00:00`);
  midnight.setDate(midnight.getDate() + days);
  return Number.isNaN(midnight.getTime()) ? date : midnight.toISOString();
};
const localDay = (epochMs: number) => new Date(epochMs - new Date(epochMs).getTimezoneOffset() * 60_000).toISOString().slice(0, 10);

/** A labelled choice among fixed options; underscores read as spaces. */
function Choice({ id, label, value, options, onChange }: { id: string; label: string; value: string; options: readonly string[]; onChange: (value: string) => void }) {
  return (
    <label htmlFor={id}>
      {label}
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        {options.map((option) => (
          <option key={option} value={option}>
            {option.replace(/_/g, ' ')}
          </option>
        ))}
      </select>
    </label>
  );
}

function RequestReport({ onQueued }: { onQueued: (id: string) => void }) {
  const { token } = useSession();
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const [form, setForm] = useState(() => ({ kind: 'outcomes', first: localDay(Date.now() - 30 * DAY_MS), last: localDay(Date.now() - DAY_MS), format: 'pdf', epsilon: '1' }));
  const { error, act } = useAction();
  const change = (patch: Partial<typeof form>) => setForm((current) => ({ ...current, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = {
      kind: form.kind,
      from: localMidnight(form.first),
      to: localMidnight(form.last, 1),
      timeZone,
      format: form.format,
      ...(form.kind === 'research' ? { epsilon: Number(form.epsilon) } : {}),
    };
    act(api<{ id: string }>(token, 'POST', '/v1/reports', body), (queued) => onQueued(queued.id));
  };
  return (
    <section aria-labelledby="request-heading">
      <h2 id="request-heading">Request a report</h2>
      <form className="query" onSubmit={submit} aria-describedby="request-help">
        <Choice id="report-kind" label="Kind" value={form.kind} options={KINDS} onChange={(kind) => change({ kind })} />
        <label htmlFor="report-first">
          First day
          <input id="report-first" type="date" value={form.first} onChange={(event) => change({ first: event.target.value })} required />
        </label>
        <label htmlFor="report-last">
          Last day
          <input id="report-last" type="date" value={form.last} onChange={(event) => change({ last: event.target.value })} required />
        </label>
        <Choice id="report-format" label="Format" value={form.format} options={FORMATS} onChange={(format) => change({ format })} />
        {form.kind === 'research' && (
          <label htmlFor="report-epsilon">
            Privacy budget to spend (ε)
            <input id="report-epsilon" type="number" min={0.01} max={10} step={0.01} value={form.epsilon} onChange={(event) => change({ epsilon: event.target.value })} required />
          </label>
        )}
        <button type="submit">Request report</button>
      </form>
      <p id="request-help" className="hint">
        Whole days in {timeZone}. A research report spends its ε from the research budget when it is asked for.
      </p>
      {error && <Failure error={error} />}
    </section>
  );
}

function Summary({ summary }: { summary: Report['summary'] }) {
  return (
    <>
      {summary.sections && <p>Sections: {summary.sections.join(', ')}</p>}
      {summary.released && <p>Released: {summary.released.join(', ') || 'none'}</p>}
      {summary.suppressed && summary.suppressed.length > 0 && (
        <ul data-testid="report-suppressed">
          {summary.suppressed.map((entry) => (
            <li key={`${entry.metric} ${entry.figure ?? ''}`}>
              <Withheld /> {entry.metric}
              {entry.figure ? ` (${entry.figure})` : ''}: {entry.message}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function ReportDetail({ id }: { id: string }) {
  const [report, reload] = useApiGet<Report>(`/v1/reports/${encodeURIComponent(id)}`);
  return (
    <section aria-labelledby="report-heading" className="detail">
      <h2 id="report-heading">Report</h2>
      <Status loaded={report}>
        {(value) => (
          <>
            <dl className="facts">
              <dt>Kind</dt>
              <dd>
                {value.kind}
                {value.test ? ' (test)' : ''}
              </dd>
              <dt>Period</dt>
              <dd>
                {periodText(value.period)} ({value.period.timeZone})
              </dd>
              <dt>Status</dt>
              <dd data-testid="report-status">
                {value.status}
                {value.progress ? `: ${value.progress.stage}, ${value.progress.done} of ${value.progress.total}` : ''}
              </dd>
              <dt>Version</dt>
              <dd>{value.version ?? '–'}</dd>
              <dt>Data through</dt>
              <dd>{value.dataThrough ? when(value.dataThrough) : '–'}</dd>
              <dt>Requested</dt>
              <dd>
                {when(value.createdAt)} by {value.createdBy}
                {value.scheduleId ? `, schedule ${value.scheduleId}` : ''}
              </dd>
            </dl>
            {value.error && (
              <p role="alert" className="error">
                {value.error.message} ({value.error.code})
              </p>
            )}
            {value.files.length > 0 && (
              <ul className="downloads">
                {value.files.map((file) => (
                  <li key={file.format}>
                    {file.url ? (
                      <a href={file.url} download>
                        Download {file.format.toUpperCase()} ({size(file.bytes)})
                      </a>
                    ) : (
                      `${file.format.toUpperCase()} (${size(file.bytes)})`
                    )}
                    {file.expiresAt && <span className="hint"> link valid until {when(file.expiresAt)}</span>}
                  </li>
                ))}
              </ul>
            )}
            <Summary summary={value.summary} />
            {value.deliveries.length > 0 && (
              <table>
                <caption>Deliveries</caption>
                <ColumnHeads names={['When', 'Kind', 'Status', 'Recipients', 'Attempts']} />
                <tbody>
                  {value.deliveries.map((delivery) => (
                    <tr key={`${delivery.kind} ${delivery.at}`}>
                      <th scope="row">{when(delivery.at)}</th>
                      <td>{delivery.kind}</td>
                      <td>
                        {delivery.status}
                        {delivery.reason ? `: ${delivery.reason}` : ''}
                      </td>
                      <td>{delivery.recipients}</td>
                      <td>{delivery.attempts}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Status>
      <button type="button" onClick={reload}>
        Check again
      </button>
    </section>
  );
}

function ReportList({ reports, onOpen }: { reports: Report[]; onOpen: (id: string) => void }) {
  if (reports.length === 0) return <p className="notice">No reports yet.</p>;
  return (
    <TableRegion label="Reports">
      <table data-testid="reports">
        <caption className="visually-hidden">Reports, newest first</caption>
        <ColumnHeads names={['Requested', 'Kind', 'Period', 'Status', 'Formats', 'Version', 'Page']} />
        <tbody>
          {reports.map((report) => (
            <tr key={report.id}>
              <th scope="row">{when(report.createdAt)}</th>
              <td>
                {report.kind}
                {report.test ? ' (test)' : ''}
              </td>
              <td>{periodText(report.period)}</td>
              <td>{report.status}</td>
              <td>{report.formats.join(', ')}</td>
              <td>{report.version ?? '–'}</td>
              <td>
                <button type="button" className="link" onClick={() => onOpen(report.id)}>
                  Open<span className="visually-hidden"> the {report.kind} report requested {when(report.createdAt)}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

function Schedules({ onQueued }: { onQueued: (id: string) => void }) {
  const { token, role } = useSession();
  const [schedules, reload] = useApiGet<{ schedules: Schedule[] }>('/v1/report-schedules');
  const { error, act } = useAction();
  // PUT takes the whole set; `next` is the answer's, not part of a schedule.
  const replaceAll = (all: Schedule[], added: Omit<Schedule, 'next'>[] = [], change: (schedule: Omit<Schedule, 'next'>) => Omit<Schedule, 'next'> = (same) => same) =>
    act(api(token, 'PUT', '/v1/report-schedules', { schedules: [...all.map(({ next: _next, ...schedule }) => change(schedule)), ...added] }), reload);
  const toggle = (all: Schedule[], id: string) => replaceAll(all, [], (schedule) => (schedule.id === id ? { ...schedule, enabled: !schedule.enabled } : schedule));
  const test = (id: string) => act(api<{ id: string }>(token, 'POST', `/v1/report-schedules/${encodeURIComponent(id)}/test`), (queued) => onQueued(queued.id));
  return (
    <section aria-labelledby="schedules-heading">
      <h2 id="schedules-heading">Schedules</h2>
      {error && <Failure error={error} />}
      <Status loaded={schedules}>
        {(value) =>
          value.schedules.length === 0 ? (
            <p className="notice">No schedules.</p>
          ) : (
            <TableRegion label="Schedules">
              <table data-testid="schedules">
                <caption className="visually-hidden">Report schedules with their next three runs, each in its own time zone</caption>
                <thead>
                  <tr>
                    <th scope="col">Schedule</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Cron</th>
                    <th scope="col">Period</th>
                    <th scope="col">Formats</th>
                    <th scope="col">Recipients</th>
                    <th scope="col">Enabled</th>
                    <th scope="col">Next runs</th>
                    {role === 'admin' && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {value.schedules.map((schedule) => (
                    <tr key={schedule.id}>
                      <th scope="row">{schedule.id}</th>
                      <td>{schedule.kind}</td>
                      <td>
                        <code>{schedule.cron}</code> {schedule.timeZone}
                      </td>
                      <td>{schedule.period.replace(/_/g, ' ')}</td>
                      <td>{schedule.formats.join(', ')}</td>
                      <td>{schedule.recipients.length}</td>
                      <td>{schedule.enabled ? 'yes' : 'no'}</td>
                      <td>{schedule.enabled ? schedule.next.map((next) => next.replace('T', ' ')).join('; ') : '–'}</td>
                      {role === 'admin' && (
                        <td>
                          <button type="button" onClick={() => toggle(value.schedules, schedule.id)}>
                            {schedule.enabled ? 'Disable' : 'Enable'}
                            <span className="visually-hidden"> {schedule.id}</span>
                          </button>{' '}
                          <button type="button" onClick={() => test(schedule.id)}>
                            Send test<span className="visually-hidden"> of {schedule.id}</span>
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>
          )
        }
      </Status>
      {role === 'admin' && schedules.state === 'ready' && (
        <NewSchedule onAdd={(schedule) => replaceAll(schedules.value.schedules, [schedule])} />
      )}
    </section>
  );
}

const SCHEDULED_KINDS = ['outcomes', 'operations'] as const;
const PERIODS = ['previous_day', 'previous_week', 'previous_month', 'month_to_date'] as const;

/** A new schedule, added to the set the PUT replaces; the API names a bad field (a cron, a zone, an address). */
function NewSchedule({ onAdd }: { onAdd: (schedule: Omit<Schedule, 'next'>) => void }) {
  const [draft, setDraft] = useState({ id: '', kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'Europe/London', period: 'previous_week', format: 'pdf', recipients: '' });
  const change = (patch: Partial<typeof draft>) => setDraft((current) => ({ ...current, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const recipients = draft.recipients.split(',').map((recipient) => recipient.trim()).filter(Boolean);
    onAdd({ id: draft.id, kind: draft.kind, cron: draft.cron, timeZone: draft.timeZone, period: draft.period, formats: [draft.format], recipients, enabled: true });
  };
  return (
    <form className="query" onSubmit={submit} aria-label="New schedule">
      <label htmlFor="schedule-id">
        Schedule id
        <input id="schedule-id" value={draft.id} onChange={(event) => change({ id: event.target.value })} required placeholder="weekly-outcomes" />
      </label>
      <Choice id="schedule-kind" label="Kind" value={draft.kind} options={SCHEDULED_KINDS} onChange={(kind) => change({ kind })} />
      <label htmlFor="schedule-cron">
        Cron
        <input id="schedule-cron" value={draft.cron} onChange={(event) => change({ cron: event.target.value })} required />
      </label>
      <label htmlFor="schedule-zone">
        Time zone
        <input id="schedule-zone" value={draft.timeZone} onChange={(event) => change({ timeZone: event.target.value })} required />
      </label>
      <Choice id="schedule-period" label="Period" value={draft.period} options={PERIODS} onChange={(period) => change({ period })} />
      <Choice id="schedule-format" label="Format" value={draft.format} options={FORMATS} onChange={(format) => change({ format })} />
      <label htmlFor="schedule-recipients">
        Recipients (comma-separated)
        <input id="schedule-recipients" value={draft.recipients} onChange={(event) => change({ recipients: event.target.value })} />
      </label>
      <button type="submit">Add schedule</button>
    </form>
  );
}

export function Reports() {
  // The cursors of the pages before this one: "Older" pushes, "Newer" pops.
  const [cursors, setCursors] = useState<string[]>([]);
  const [reports, reloadReports] = useApiGet<{ reports: Report[]; cursor: string | null }>(`/v1/reports${queryString({ limit: PAGE, cursor: cursors.at(-1) })}`);
  const [open, setOpen] = useState<string>();
  const queued = (id: string) => {
    setOpen(id);
    setCursors([]);
    reloadReports();
  };
  return (
    <>
      <h1>Reports</h1>
      <RequestReport onQueued={queued} />
      {open && <ReportDetail key={open} id={open} />}
      <section aria-labelledby="reports-heading">
        <h2 id="reports-heading">Reports made</h2>
        <Status loaded={reports}>
          {({ reports: page, cursor }) => (
            <>
              <ReportList reports={page} onOpen={setOpen} />
              <p className="pager">
                {cursors.length > 0 && (
                  <button type="button" onClick={() => setCursors((current) => current.slice(0, -1))}>
                    Newer reports
                  </button>
                )}{' '}
                {cursor !== null && (
                  <button type="button" onClick={() => setCursors((current) => [...current, cursor])}>
                    Older reports
                  </button>
                )}
              </p>
            </>
          )}
        </Status>
      </section>
      <Schedules onQueued={queued} />
    </>
  );
}
