import { useState, type FormEvent } from 'react';
import { queryString } from '../api';
import { useApiGet } from '../hooks';
import { Status } from '../components/Status';
import { decimal, TableRegion, ColumnHeads } from '../components/format';

/* What the detectors found in the watched series over a range, newest first. */

interface Anomaly {
  series: string;
  name: string;
  labels: Record<string, string>;
  detector: string;
  t: string;
  value: number;
  expected: number;
  score: number;
  direction: string;
}

const LIMIT = 500;
const DAY_MS = 86_400_000;

/** A datetime-local input's value (the browser's wall clock) for an instant. */
const localInput = (epochMs: number) => new Date(epochMs - new Date(epochMs).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
/** The instant a datetime-local value names, or the raw text for the API to refuse by name. */
const instantOf = (local: string) => (Number.isNaN(Date.parse(local)) ? local : new Date(local).toISOString());

function AnomalyTable({ anomalies, range }: { anomalies: Anomaly[]; range: string }) {
  if (anomalies.length === 0) return <p className="notice">No anomalies in this range.</p>;
  return (
    <>
      {anomalies.length === LIMIT && <p className="hint">The newest {LIMIT} are shown: narrow the range for older ones.</p>}
      <TableRegion label="Anomalies">
        <table data-testid="anomalies">
          <caption className="visually-hidden">Anomalies {range}, newest first</caption>
          <ColumnHeads names={['Minute', 'Series', 'Detector', 'Direction', 'Value', 'Expected', 'Score']} />
          <tbody>
            {anomalies.map((anomaly) => (
              <tr key={`${anomaly.series} ${anomaly.detector} ${anomaly.t}`}>
                <th scope="row">{new Date(anomaly.t).toLocaleString('en-GB')}</th>
                <td>
                  <code>{anomaly.series}</code>
                </td>
                <td>{anomaly.detector}</td>
                <td>{anomaly.direction}</td>
                <td>{decimal(anomaly.value)}</td>
                <td>{decimal(anomaly.expected)}</td>
                <td>{decimal(anomaly.score)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}

export function Anomalies() {
  const [form, setForm] = useState(() => ({ from: localInput(Date.now() - DAY_MS), to: localInput(Date.now() + 60_000) }));
  const [asked, setAsked] = useState(form);
  const [anomalies, reload] = useApiGet<{ anomalies: Anomaly[] }>(`/v1/anomalies${queryString({ from: instantOf(asked.from), to: instantOf(asked.to), limit: LIMIT })}`);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAsked(form);
    // The same range again reads again: new anomalies may have been found since.
    reload();
  };
  return (
    <>
      <h1>Anomalies</h1>
      <form className="query" onSubmit={submit}>
        <label htmlFor="anomalies-from">
          From
          <input id="anomalies-from" type="datetime-local" value={form.from} onChange={(event) => setForm({ ...form, from: event.target.value })} required />
        </label>
        <label htmlFor="anomalies-to">
          To
          <input id="anomalies-to" type="datetime-local" value={form.to} onChange={(event) => setForm({ ...form, to: event.target.value })} required />
        </label>
        <button type="submit">Show anomalies</button>
      </form>
      <p className="hint">Minutes of a series drawn from events with fewer than k people active are left out (k-anonymity).</p>
      <Status loaded={anomalies}>{(value) => <AnomalyTable anomalies={value.anomalies} range={`from ${asked.from.replace('T', ' ')} to ${asked.to.replace('T', ' ')}`} />}</Status>
    </>
  );
}
