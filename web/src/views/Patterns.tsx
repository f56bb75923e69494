import { useState } from 'react';
import { queryString } from '../api';
import { useApiGet } from '../hooks';
import { Status } from '../components/Status';
import { decimal, percent, TableRegion, Withheld, ColumnHeads } from '../components/format';

/* The engagement archetypes and the behaviour sequences before drop-out of the newest nightly fit. */

interface PatternModel {
  version: string;
  trainedAt: string;
  users: number;
  k: number;
  silhouette: number | null;
}

interface Archetype {
  id: string;
  kind: 'archetype';
  name: string;
  users: number;
  share: number;
  confidence: number;
  profile: Record<string, number>;
}

interface Sequence {
  id: string;
  kind: 'sequence';
  steps: string[];
  users: number;
  droppedOut: number;
  support: number;
  confidence: number;
  lift: number;
}

export interface PatternAnswer {
  model: PatternModel | null;
  patterns: (Archetype | Sequence)[];
  suppressed: { group: { pattern: string }; reason: string }[];
}

/** The activity profile's features (the API's PROFILE_FEATURES), in the features' own units. */
const PROFILE = [
  { feature: 'sessionsPerWeek', label: 'Sessions a week' },
  { feature: 'sessionsPerWeekTrend', label: 'Trend a week' },
  { feature: 'weeklyVariability', label: 'Week-to-week change' },
  { feature: 'completionRate', label: 'Completion' },
];

const profileValue = (profile: Record<string, number>, feature: string) => {
  const value = profile[feature];
  if (value === undefined) return '–';
  return feature === 'completionRate' ? percent(value) : decimal(value);
};

function Archetypes({ archetypes }: { archetypes: Archetype[] }) {
  return (
    <section aria-labelledby="archetypes-heading">
      <h2 id="archetypes-heading">Engagement archetypes</h2>
      {archetypes.length === 0 ? (
        <p className="notice">No archetype may be shown.</p>
      ) : (
        <TableRegion label="Engagement archetypes">
          <table data-testid="archetypes">
            <caption className="visually-hidden">Engagement archetypes: size, confidence (mean silhouette of the members) and the centre of each</caption>
            <thead>
              <tr>
                <th scope="col">Archetype</th>
                <th scope="col">Users</th>
                <th scope="col">Share</th>
                <th scope="col">Confidence</th>
                {PROFILE.map(({ feature, label }) => (
                  <th key={feature} scope="col">
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {archetypes.map((archetype) => (
                <tr key={archetype.id}>
                  <th scope="row">{archetype.name}</th>
                  <td>{archetype.users.toLocaleString('en')}</td>
                  <td>{percent(archetype.share)}</td>
                  <td>{decimal(archetype.confidence)}</td>
                  {PROFILE.map(({ feature }) => (
                    <td key={feature}>{profileValue(archetype.profile, feature)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </section>
  );
}

function Sequences({ sequences }: { sequences: Sequence[] }) {
  return (
    <section aria-labelledby="sequences-heading">
      <h2 id="sequences-heading">Sequences before drop-out</h2>
      {sequences.length === 0 ? (
        <p className="notice">No sequence may be shown.</p>
      ) : (
        <TableRegion label="Sequences before drop-out">
          <table data-testid="sequences">
            <caption className="visually-hidden">Behaviour sequences that precede drop-out (no session for 14 days), highest lift first</caption>
            <ColumnHeads names={['Steps', 'Users', 'Dropped out', 'Support', 'Confidence', 'Lift']} />
            <tbody>
              {sequences.map((sequence) => (
                <tr key={sequence.id}>
                  <th scope="row">{sequence.steps.join(' → ')}</th>
                  <td>{sequence.users.toLocaleString('en')}</td>
                  <td>{sequence.droppedOut.toLocaleString('en')}</td>
                  <td>{percent(sequence.support)}</td>
                  <td>{percent(sequence.confidence)}</td>
                  <td>{decimal(sequence.lift)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </section>
  );
}

function PatternsAnswer({ answer, kind }: { answer: PatternAnswer; kind: string }) {
  const { model } = answer;
  if (model === null) return <p className="notice">No fit yet: the nightly model run (or npm run model) makes the first.</p>;
  const archetypes = answer.patterns.filter((pattern): pattern is Archetype => pattern.kind === 'archetype');
  const sequences = answer.patterns.filter((pattern): pattern is Sequence => pattern.kind === 'sequence');
  return (
    <>
      <dl className="facts">
        <dt>Fitted</dt>
        <dd>{new Date(model.trainedAt).toLocaleString('en-GB')}</dd>
        <dt>Users fitted</dt>
        <dd>{model.users.toLocaleString('en')}</dd>
        <dt>Archetypes (k)</dt>
        <dd>{model.k}</dd>
        <dt>Silhouette</dt>
        <dd>{model.silhouette === null ? 'too few users to fit' : decimal(model.silhouette)}</dd>
      </dl>
      {kind !== 'sequence' && <Archetypes archetypes={archetypes} />}
      {kind !== 'archetype' && <Sequences sequences={sequences} />}
      {answer.suppressed.length > 0 && (
        <section aria-labelledby="withheld-patterns-heading">
          <h2 id="withheld-patterns-heading">Withheld patterns</h2>
          <p className="hint">Fewer than k people (or, for a sequence, fewer than k drop-outs), or a size the others would give away.</p>
          <ul data-testid="withheld-patterns">
            {answer.suppressed.map((entry) => (
              <li key={entry.group.pattern}>
                <Withheld /> <code>{entry.group.pattern}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

export function Patterns() {
  const [kind, setKind] = useState('');
  const [patterns] = useApiGet<PatternAnswer>(`/v1/patterns${queryString({ kind })}`);
  return (
    <>
      <h1>Patterns</h1>
      <form className="query" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor="patterns-kind">
          Show
          <select id="patterns-kind" value={kind} onChange={(event) => setKind(event.target.value)}>
            <option value="">archetypes and sequences</option>
            <option value="archetype">archetypes</option>
            <option value="sequence">sequences</option>
          </select>
        </label>
      </form>
      <Status loaded={patterns}>{(value) => <PatternsAnswer answer={value} kind={kind} />}</Status>
    </>
  );
}
