import { useEffect, useState, type FormEvent } from 'react';
import type { CatalogueEntry } from '../api';
import { INTERVALS, parseFilter, readCatalogue, type WidgetQuery } from '../metrics';
import { useSession } from '../session';
import { Failure } from '../components/Status';
import { Widget } from '../components/Widget';
import { CHARTS, type ChartKind } from '../components/chart-kinds';

const days = (count: number) => new Date(Date.now() - count * 86_400_000).toISOString().slice(0, 10);

interface Form {
  metric: string;
  interval: WidgetQuery['interval'];
  groupBy: string[];
  filter: string;
  timeZone: string;
  from: string;
  to: string;
  chart: ChartKind;
}

/** Any metric of the catalogue, grouped, filtered, in a time zone, over a range of dates. */
export function Explorer() {
  const { token } = useSession();
  const [catalogue, setCatalogue] = useState<CatalogueEntry[] | Error>();
  const [form, setForm] = useState<Form>({ metric: 'events', interval: 'day', groupBy: [], filter: '', timeZone: 'UTC', from: days(30), to: days(-1), chart: 'line' });
  const [asked, setAsked] = useState<Form>();
  useEffect(() => {
    readCatalogue(token).then(setCatalogue, (error: Error) => setCatalogue(error));
  }, [token]);
  if (catalogue === undefined) return <p className="notice">Loading…</p>;
  if (catalogue instanceof Error) return <Failure error={catalogue} />;
  const metric = catalogue.find((entry) => entry.name === form.metric);
  const change = (patch: Partial<Form>) => setForm((current) => ({ ...current, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAsked(form);
  };
  return (
    <>
      <h1>Metric explorer</h1>
      <form className="query" onSubmit={submit}>
        <label>
          Metric
          <select value={form.metric} onChange={(event) => change({ metric: event.target.value, groupBy: [], filter: '' })}>
            {catalogue.map((entry) => (
              <option key={entry.name} value={entry.name}>
                {entry.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Interval
          <select value={form.interval} onChange={(event) => change({ interval: event.target.value as Form['interval'] })}>
            {INTERVALS.map((interval) => (
              <option key={interval}>{interval}</option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Group by</legend>
          {metric?.dimensions.map((dimension) => (
            <label key={dimension} className="inline">
              <input
                type="checkbox"
                checked={form.groupBy.includes(dimension)}
                onChange={(event) => change({ groupBy: event.target.checked ? [...form.groupBy, dimension] : form.groupBy.filter((name) => name !== dimension) })}
              />
              {dimension}
            </label>
          ))}
        </fieldset>
        <label>
          Filter
          <input value={form.filter} placeholder="platform:ios" onChange={(event) => change({ filter: event.target.value })} />
        </label>
        <label>
          Time zone
          <input value={form.timeZone} onChange={(event) => change({ timeZone: event.target.value })} />
        </label>
        <label>
          From
          <input type="date" value={form.from} onChange={(event) => change({ from: event.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={form.to} onChange={(event) => change({ to: event.target.value })} />
        </label>
        <label>
          Chart
          <select value={form.chart} onChange={(event) => change({ chart: event.target.value as ChartKind })}>
            {CHARTS.map((chart) => (
              <option key={chart}>{chart}</option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      {metric && <p className="hint">{metric.description}</p>}
      {asked && (
        <section aria-label="Answer">
          <Widget
            title={`${asked.metric} by ${asked.interval}`}
            chart={asked.chart}
            query={{ metric: asked.metric, interval: asked.interval, groupBy: asked.groupBy, filter: parseFilter(asked.filter), timeZone: asked.timeZone, range: '' }}
            range={{ from: `${asked.from}T00:00:00Z`, to: `${asked.to}T00:00:00Z` }}
          />
        </section>
      )}
    </>
  );
}
