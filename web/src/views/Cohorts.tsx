import { useState, type FormEvent } from 'react';
import { TableRegion, Withheld, decimal, percent, shade, ColumnHeads } from '../components/format';
import { api, queryString } from '../api';
import { useAction, useApiGet } from '../hooks';
import { useSession } from '../session';
import { Failure, Status, Suppressed } from '../components/Status';
import type { PatternAnswer } from './Patterns';

/*
 * Cohorts: the stored definitions with their sizes, a form for a new one, week-N retention as a
 * shaded table and two cohorts compared.
 */

const pValue = (p: number): string => (p < 0.001 ? '< 0.001' : p.toFixed(3));
const interval = ([low, high]: readonly [number, number]): string => `${decimal(low)} to ${decimal(high)}`;

export type CohortDefinition = { firstSeen: { from: string; to: string } } | { attribute: { platform: string } } | { pattern: string } | { all: CohortDefinition[] };

export interface Cohort {
  id: string;
  name: string;
  definition: CohortDefinition;
  createdAt: string;
  /** Null where the cohort is withheld. */
  users: number | null;
}

export interface CohortList {
  cohorts: Cohort[];
  suppressed: { reason: string }[];
}

interface Retention {
  cohort: string;
  period: 'week';
  rows: { start: string; users: number; retained: (number | null)[] }[];
  suppressed: { reason: string }[];
}

interface Side {
  users: number;
  mean: number;
  ci95: [number, number];
}

interface Comparison {
  a: { id: string; name?: string };
  b: { id: string; name?: string };
  metrics: { metric: string; a: Side; b: Side; difference: { estimate: number; ci95: [number, number]; pValue: number; pAdjusted: number; effectSize: number } }[];
  suppressed: { metric?: string; reason: string }[];
}

const PLATFORMS = ['ios', 'android', 'web', 'desktop'];
/** The per-user figures GET /v1/cohorts/compare takes (COMPARABLE_METRICS of the API). */
const COMPARABLE = ['sessionsPerWeek', 'completionRate', 'sessionDurationSec', 'choiceResponseMs', 'interventionCompletionRate', 'moodValence', 'moodSlope', 'daysActive', 'phq9Change', 'gad7Change'];
const MAX_PERIODS = 52;

type ArchetypeNames = ReadonlyMap<string, string>;

const day = (instant: string) => instant.replace(/T00:00(:00(\.0+)?)?Z$/, '');

function describe(definition: CohortDefinition, archetypes: ArchetypeNames): string {
  if ('firstSeen' in definition) return `first seen from ${day(definition.firstSeen.from)} to before ${day(definition.firstSeen.to)}`;
  if ('attribute' in definition) return `platform ${definition.attribute.platform}`;
  if ('pattern' in definition) return `archetype ${archetypes.get(definition.pattern) ?? definition.pattern}`;
  return definition.all.map((part) => describe(part, archetypes)).join(' and ');
}

function CohortTable({ list, archetypes }: { list: CohortList; archetypes: ArchetypeNames }) {
  if (list.cohorts.length === 0) return <p className="notice">No cohorts yet: define one below.</p>;
  return (
    <TableRegion label="Stored cohorts">
      <table>
        <caption className="visually-hidden">Stored cohorts, oldest first, with their members now</caption>
        <ColumnHeads names={['Name', 'Definition', 'Users', 'Created']} />
        <tbody>
          {list.cohorts.map((cohort) => (
            <tr key={cohort.id}>
              <th scope="row">{cohort.name}</th>
              <td>{describe(cohort.definition, archetypes)}</td>
              <td>{cohort.users === null ? <Withheld /> : cohort.users.toLocaleString('en')}</td>
              <td>{new Date(cohort.createdAt).toLocaleString('en-GB')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

/** A UTC day of a date input as the instant it starts. */
const utcDay = (date: string) => `${date}T00:00:00Z`;

function NewCohort({ archetypes, onCreated }: { archetypes: ArchetypeNames; onCreated: () => void }) {
  const { token } = useSession();
  const [name, setName] = useState('');
  const [platform, setPlatform] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [pattern, setPattern] = useState('');
  const { error, setError, act } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parts: CohortDefinition[] = [
      ...(platform ? [{ attribute: { platform } }] : []),
      ...(from || to ? [{ firstSeen: { from: utcDay(from), to: utcDay(to) } }] : []),
      ...(pattern ? [{ pattern }] : []),
    ];
    if (parts.length === 0) {
      setError(new Error('Choose at least one of platform, first seen or archetype.'));
      return;
    }
    act(api(token, 'POST', '/v1/cohorts', { name, definition: parts.length === 1 ? parts[0] : { all: parts } }), () => {
      setName('');
      onCreated();
    });
  };
  return (
    <section aria-labelledby="new-cohort-heading">
      <h2 id="new-cohort-heading">New cohort</h2>
      <p id="new-cohort-help" className="hint">
        Members are the users who match every part chosen, found anew on each read.
      </p>
      <form className="query" onSubmit={submit} aria-describedby="new-cohort-help">
        <label htmlFor="cohort-name">
          Name
          <input id="cohort-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={120} />
        </label>
        <label htmlFor="cohort-platform">
          Platform
          <select id="cohort-platform" value={platform} onChange={(event) => setPlatform(event.target.value)}>
            <option value="">any</option>
            {PLATFORMS.map((each) => (
              <option key={each}>{each}</option>
            ))}
          </select>
        </label>
        <label htmlFor="cohort-from">
          First seen on or after (UTC day)
          <input id="cohort-from" type="date" value={from} onChange={(event) => setFrom(event.target.value)} required={Boolean(to)} />
        </label>
        <label htmlFor="cohort-to">
          First seen before (UTC day)
          <input id="cohort-to" type="date" value={to} onChange={(event) => setTo(event.target.value)} required={Boolean(from)} />
        </label>
        {archetypes.size > 0 && (
          <label htmlFor="cohort-pattern">
            Archetype
            <select id="cohort-pattern" value={pattern} onChange={(event) => setPattern(event.target.value)}>
              <option value="">any</option>
              {[...archetypes].map(([id, label]) => (
                <option key={id} value={id}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit">Create cohort</button>
      </form>
      {error && <Failure error={error} />}
    </section>
  );
}

function RetentionTable({ retention, name }: { retention: Retention; name: string }) {
  if (retention.rows.length === 0) {
    return retention.suppressed.length > 0 ? (
      <p className="notice">
        <Withheld /> This cohort is withheld: it has fewer than k people, or is within k people of another cohort.
      </p>
    ) : (
      <p className="notice">No users of this cohort have been seen yet.</p>
    );
  }
  const weeks = Math.max(...retention.rows.map((row) => row.retained.length));
  const withheld = retention.suppressed.length > 0 || retention.rows.some((row) => row.retained.includes(null));
  return (
    <>
      <TableRegion label={`Retention of ${name}`}>
        <table className="heatmap" data-testid="retention">
          <caption className="visually-hidden">Retention of {name}: per week first seen, the share of its users active each week since</caption>
          <thead>
            <tr>
              <th scope="col">First seen, week of</th>
              <th scope="col">Users</th>
              {Array.from({ length: weeks }, (_, week) => (
                <th key={week} scope="col">
                  Week {week}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {retention.rows.map((row) => (
              <tr key={row.start}>
                <th scope="row">{row.start}</th>
                <td>{row.users.toLocaleString('en')}</td>
                {Array.from({ length: weeks }, (_, week) => {
                  const share = row.retained[week];
                  if (share === undefined) return <td key={week} />;
                  if (share === null)
                    return (
                      <td key={week} className="withheld">
                        <Withheld />
                      </td>
                    );
                  return (
                    <td key={week} style={shade(share)}>
                      {percent(share)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
      <p className="hint">Blank cells are weeks that have not ended yet.</p>
      <Suppressed withheld={withheld} />
    </>
  );
}

function RetentionSection({ cohorts }: { cohorts: Cohort[] }) {
  const [cohort, setCohort] = useState(cohorts[0]!.id);
  const [periods, setPeriods] = useState('12');
  const chosen = cohorts.find((each) => each.id === cohort) ?? cohorts[0]!;
  const [retention] = useApiGet<Retention>(`/v1/cohorts/${encodeURIComponent(chosen.id)}/retention${queryString({ period: 'week', periods })}`);
  return (
    <section aria-labelledby="retention-heading">
      <h2 id="retention-heading">Retention</h2>
      <form className="query" onSubmit={(event) => event.preventDefault()}>
        <CohortChoice id="retention-cohort" label="Cohort" cohorts={cohorts} value={chosen.id} onChange={setCohort} />
        <label htmlFor="retention-period">
          Period
          <select id="retention-period" defaultValue="week">
            <option value="week">week</option>
          </select>
        </label>
        <label htmlFor="retention-periods">
          Periods
          <input id="retention-periods" type="number" min={1} max={MAX_PERIODS} value={periods} onChange={(event) => setPeriods(event.target.value)} required />
        </label>
      </form>
      <Status loaded={retention}>{(value) => <RetentionTable retention={value} name={chosen.name} />}</Status>
    </section>
  );
}

function ComparisonTable({ comparison, names }: { comparison: Comparison; names: { a: string; b: string } }) {
  const whole = comparison.suppressed.filter((entry) => entry.metric === undefined);
  return (
    <>
      {whole.length > 0 && (
        <p className="notice">
          <Withheld /> Part of this comparison was withheld: fewer than k people.
        </p>
      )}
      <TableRegion label="Comparison">
        <table data-testid="comparison">
          <caption className="visually-hidden">
            {names.a} (A) compared with {names.b} (B): means with 95 % intervals, Welch&apos;s t-test
          </caption>
          <ColumnHeads names={['Metric', 'A mean (95 % interval)', 'A users', 'B mean (95 % interval)', 'B users', 'A minus B (95 % interval)', 'p (Holm-adjusted)', 'Hedges&apos; g']} />
          <tbody>
            {comparison.metrics.map(({ metric, a, b, difference }) => (
              <tr key={metric}>
                <th scope="row">{metric}</th>
                <td>
                  {decimal(a.mean)} ({interval(a.ci95)})
                </td>
                <td>{a.users.toLocaleString('en')}</td>
                <td>
                  {decimal(b.mean)} ({interval(b.ci95)})
                </td>
                <td>{b.users.toLocaleString('en')}</td>
                <td>
                  {decimal(difference.estimate)} ({interval(difference.ci95)})
                </td>
                <td>
                  {pValue(difference.pValue)} ({pValue(difference.pAdjusted)})
                </td>
                <td>{decimal(difference.effectSize)}</td>
              </tr>
            ))}
            {comparison.suppressed.flatMap((entry) =>
              entry.metric === undefined
                ? []
                : [
                    <tr key={entry.metric}>
                      <th scope="row">{entry.metric}</th>
                      <td colSpan={7} className="withheld">
                        <Withheld /> fewer than k users of a cohort have this figure
                      </td>
                    </tr>,
                  ],
            )}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}

function CohortChoice({ id, label, cohorts, value, onChange }: { id: string; label: string; cohorts: Cohort[]; value: string; onChange: (id: string) => void }) {
  return (
    <label htmlFor={id}>
      {label}
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        {cohorts.map((each) => (
          <option key={each.id} value={each.id}>
            {each.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function ComparisonSection({ cohorts }: { cohorts: Cohort[] }) {
  const [a, setA] = useState(cohorts[0]!.id);
  const [b, setB] = useState(cohorts[1]!.id);
  const [metrics, setMetrics] = useState<string[]>(['sessionsPerWeek']);
  const [asked, setAsked] = useState<string | null>(null);
  const [comparison] = useApiGet<Comparison>(asked);
  const nameOf = (id: string) => cohorts.find((cohort) => cohort.id === id)?.name ?? id;
  const toggle = (metric: string, on: boolean) => setMetrics((current) => (on ? COMPARABLE.filter((each) => each === metric || current.includes(each)) : current.filter((each) => each !== metric)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAsked(`/v1/cohorts/compare${queryString({ a, b, metric: metrics.join(',') })}`);
  };
  return (
    <section aria-labelledby="compare-heading">
      <h2 id="compare-heading">Compare two cohorts</h2>
      <form className="query" onSubmit={submit}>
        <CohortChoice id="compare-a" label="Cohort A" cohorts={cohorts} value={a} onChange={setA} />
        <CohortChoice id="compare-b" label="Cohort B" cohorts={cohorts} value={b} onChange={setB} />
        <fieldset>
          <legend>Metrics</legend>
          {COMPARABLE.map((metric) => (
            <label key={metric} className="inline" htmlFor={`compare-${metric}`}>
              <input id={`compare-${metric}`} type="checkbox" checked={metrics.includes(metric)} onChange={(event) => toggle(metric, event.target.checked)} />
              {metric}
            </label>
          ))}
        </fieldset>
        <button type="submit">Compare</button>
      </form>
      {asked !== null && <Status loaded={comparison}>{(value) => <ComparisonTable comparison={value} names={{ a: value.a.name ?? nameOf(value.a.id), b: value.b.name ?? nameOf(value.b.id) }} />}</Status>}
    </section>
  );
}

/** The archetypes of the newest fit, by id, for a definition's `pattern`; none when patterns cannot be read. */
function useArchetypes(): ArchetypeNames {
  const [patterns] = useApiGet<PatternAnswer>('/v1/patterns?kind=archetype');
  if (patterns.state !== 'ready') return new Map();
  return new Map(patterns.value.patterns.flatMap((pattern) => (pattern.kind === 'archetype' ? [[pattern.id, `${pattern.name} (${pattern.users.toLocaleString('en')} users)`] as const] : [])));
}

export function Cohorts() {
  const [list, reload] = useApiGet<CohortList>('/v1/cohorts');
  const archetypes = useArchetypes();
  return (
    <>
      <h1>Cohorts</h1>
      <Status loaded={list}>
        {(value) => (
          <>
            <section aria-labelledby="cohorts-heading">
              <h2 id="cohorts-heading">Stored cohorts</h2>
              <CohortTable list={value} archetypes={archetypes} />
            </section>
            <NewCohort archetypes={archetypes} onCreated={reload} />
            {value.cohorts.length > 0 && <RetentionSection cohorts={value.cohorts} />}
            {value.cohorts.length > 1 && <ComparisonSection cohorts={value.cohorts} />}
          </>
        )}
      </Status>
    </>
  );
}
