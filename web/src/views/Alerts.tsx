import { useEffect, useState, type FormEvent } from 'react';
import { api, type AlertView } from '../api';
import { useAction, useApiGet } from '../hooks';
import { useLive } from '../live';
import { useSession } from '../session';
import { Failure, Status } from '../components/Status';
import { AlertList } from './Overview';

interface SilenceView {
  id: string;
  matchers: { name: string; value: string }[];
  endsAt: string;
  comment: string;
  createdBy: string;
}

const HOURS = [1, 4, 24, 72];

function AlertDetail({ alert, onChanged }: { alert: AlertView; onChanged: () => void }) {
  const { token, role } = useSession();
  const { error, act } = useAction();
  const [hours, setHours] = useState(4);
  const [comment, setComment] = useState('');
  const silence = (event: FormEvent) => {
    event.preventDefault();
    act(api(token, 'POST', '/v1/silences', { matchers: [{ name: 'rule', value: alert.rule }], endsAt: new Date(Date.now() + hours * 3_600_000).toISOString(), comment }), onChanged);
  };
  return (
    <section aria-labelledby="alert-heading" className="detail">
      <h2 id="alert-heading">{alert.summary}</h2>
      <dl>
        <dt>Rule</dt>
        <dd>{alert.rule}</dd>
        <dt>Severity</dt>
        <dd>{alert.severity}</dd>
        <dt>Status</dt>
        <dd data-testid="alert-status">{alert.status}</dd>
        <dt>Since</dt>
        <dd>{new Date(alert.startsAt).toLocaleString('en-GB')}</dd>
        <dt>Subject</dt>
        <dd>
          <code>{alert.subject}</code>
        </dd>
      </dl>
      {alert.status === 'firing' && (
        <button type="button" onClick={() => act(api(token, 'POST', `/v1/alerts/${alert.id}/ack`), onChanged)}>
          Acknowledge
        </button>
      )}
      {role === 'admin' && (
        <form onSubmit={silence} className="silence">
          <h3>Silence this rule</h3>
          <label>
            For
            <select value={hours} onChange={(event) => setHours(Number(event.target.value))}>
              {HOURS.map((value) => (
                <option key={value} value={value}>
                  {value} h
                </option>
              ))}
            </select>
          </label>
          <label>
            Why
            <input value={comment} onChange={(event) => setComment(event.target.value)} required maxLength={500} />
          </label>
          <button type="submit">Silence</button>
        </form>
      )}
      {error && <Failure error={error} />}
    </section>
  );
}

function Silences({ generation }: { generation: number }) {
  const { token, role } = useSession();
  const [silences, reload] = useApiGet<{ silences: SilenceView[] }>('/v1/silences');
  useEffect(reload, [generation, reload]);
  return (
    <section aria-labelledby="silences-heading">
      <h2 id="silences-heading">Silences in force</h2>
      <Status loaded={silences}>
        {(value) =>
          value.silences.length === 0 ? (
            <p className="notice">None.</p>
          ) : (
            <ul>
              {value.silences.map((silence) => (
                <li key={silence.id}>
                  {silence.matchers.map((matcher) => `${matcher.name}=${matcher.value}`).join(', ')} until {new Date(silence.endsAt).toLocaleString('en-GB')}: {silence.comment}{' '}
                  {role === 'admin' && (
                    <button type="button" onClick={() => void api(token, 'DELETE', `/v1/silences/${silence.id}`).then(reload)}>
                      End
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Status>
    </section>
  );
}

/** Alerts a clinician may see, newest first; `/alerts/{id}`, where alert messages link, opens one. */
export function Alerts({ focus }: { focus?: string }) {
  const [status, setStatus] = useState(focus ? 'any' : 'firing');
  const [alerts, reload] = useApiGet<{ alerts: AlertView[] }>(`/v1/alerts?limit=100${status === 'any' ? '' : `&status=${status}`}`);
  const [generation, setGeneration] = useState(0);
  useLive((event) => event.type === 'alert' && reload());
  const changed = () => {
    reload();
    setGeneration((value) => value + 1);
  };
  return (
    <>
      <h1>Alerts</h1>
      <label>
        Show
        <select value={status} onChange={(event) => setStatus(event.target.value)}>
          <option value="firing">firing</option>
          <option value="acknowledged">acknowledged</option>
          <option value="resolved">resolved</option>
          <option value="any">all</option>
        </select>
      </label>
      <Status loaded={alerts}>
        {(value) => {
          const focused = value.alerts.find((alert) => alert.id === focus);
          return (
            <>
              {focus && !focused && <p className="notice">That alert is not among these: it may be resolved, or not one of yours.</p>}
              {focused && <AlertDetail alert={focused} onChanged={changed} />}
              <AlertList alerts={value.alerts} focus={focus} />
            </>
          );
        }}
      </Status>
      <Silences generation={generation} />
    </>
  );
}
