import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import type { AlertView } from '../api';
import { useApiGet } from '../hooks';
import { useLive, type LiveCounters } from '../live';
import { useSession } from '../session';
import { Status } from '../components/Status';
import { Widget } from '../components/Widget';

const NEWEST_ALERTS = '/v1/alerts?status=firing&limit=10';

function Counters({ counters, connection }: { counters: LiveCounters | undefined; connection: string }) {
  return (
    <section aria-labelledby="live-heading">
      <h2 id="live-heading">
        Live <span className="hint">({connection})</span>
      </h2>
      <dl className="counters">
        <div>
          <dt>Events this minute</dt>
          <dd data-testid="events-per-min">{counters ? counters.events_per_min.toLocaleString('en') : '–'}</dd>
        </div>
        <div>
          <dt>Active people this minute</dt>
          <dd>{counters === undefined ? '–' : counters.active_users === undefined ? <span className="badge">suppressed</span> : counters.active_users.toLocaleString('en')}</dd>
        </div>
        <div>
          <dt>Mean ingest delay</dt>
          <dd>{counters ? `${counters.avg_ingest_ms.toLocaleString('en')} ms` : '–'}</dd>
        </div>
      </dl>
    </section>
  );
}

export const OVERVIEW_INTERACTIVE = 'overview-interactive';

/** The Performance API's record of when the overview first stood usable: its alerts listed (bench/web-speed.ts reads it). */
function useInteractiveMark(ready: boolean): void {
  useEffect(() => {
    if (ready && performance.getEntriesByName(OVERVIEW_INTERACTIVE).length === 0) performance.mark(OVERVIEW_INTERACTIVE);
  }, [ready]);
}

export function AlertList({ alerts, focus }: { alerts: AlertView[]; focus?: string }) {
  if (alerts.length === 0) return <p className="notice">No alerts.</p>;
  return (
    <ul className="alerts">
      {alerts.map((alert) => (
        <li key={alert.id} className={`alert ${alert.severity}${alert.id === focus ? ' focus' : ''}`} data-rule={alert.rule}>
          <span className="badge">{alert.severity}</span> <Link href={`/alerts/${alert.id}`}>{alert.summary}</Link>{' '}
          <span className="hint">
            {alert.rule}, since {new Date(alert.startsAt).toLocaleString('en-GB')}
            {alert.acknowledgedAt ? ', acknowledged' : ''}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** What a clinic opens first: live counters pushed by the server, the newest alerts as they fire, and the last day's events. */
export function Overview() {
  const { role } = useSession();
  const readsAlerts = role === 'admin' || role === 'clinician';
  const [alerts, reloadAlerts] = useApiGet<{ alerts: AlertView[] }>(readsAlerts ? NEWEST_ALERTS : null);
  const [counters, setCounters] = useState<LiveCounters>();
  const [connection, setConnection] = useState('connecting');
  useInteractiveMark(!readsAlerts || alerts.state !== 'loading');
  useLive((event) => {
    if (event.type === 'counters') setCounters(event.data);
    else if (event.type === 'alert') reloadAlerts();
    else setConnection(event.data === 'open' ? 'connected' : event.data === 'reconnecting' ? 'reconnecting' : 'not available here: reload for new figures');
  });
  return (
    <>
      <h1>Overview</h1>
      <Counters counters={counters} connection={connection} />
      {readsAlerts && (
        <section aria-labelledby="alerts-heading">
          <h2 id="alerts-heading">Newest alerts</h2>
          <Status loaded={alerts}>{(value) => <AlertList alerts={value.alerts} />}</Status>
        </section>
      )}
      {role !== 'clinician' && (
        <section aria-labelledby="events-heading">
          <h2 id="events-heading">Events, last 24 hours</h2>
          <Widget title="Events per hour, last 24 hours" chart="area" query={{ metric: 'events', interval: 'hour', range: 'P1D' }} />
        </section>
      )}
    </>
  );
}
