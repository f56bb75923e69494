import { useState } from 'react';
import { queryString } from '../api';
import { useApiGet } from '../hooks';
import { Status } from '../components/Status';
import { decimal, percent, TableRegion, ColumnHeads } from '../components/format';

/* For admins: what each dataset's differentially private releases have spent, and the audit trail. */

interface Cost {
  epsilon: number;
  delta: number;
}

interface Budget {
  datasets: { dataset: string; composition: string; budget: Cost; spent: Cost; remaining: Cost; releases: number }[];
}

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  resource: string;
  purpose: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

const AUDIT_PAGE = 50;

const cost = (value: Cost) => `ε ${decimal(value.epsilon, 3)}, δ ${value.delta === 0 ? '0' : value.delta.toExponential(1)}`;

function BudgetTable({ budget }: { budget: Budget }) {
  if (budget.datasets.length === 0) return <p className="notice">No dataset has a privacy budget.</p>;
  return (
    <TableRegion label="Privacy budget">
      <table data-testid="privacy-budget">
        <caption className="visually-hidden">Privacy budget per dataset, sequential composition</caption>
        <ColumnHeads names={['Dataset', 'Budget', 'Spent', 'Remaining', 'Share of ε spent', 'Releases']} />
        <tbody>
          {budget.datasets.map((dataset) => (
            <tr key={dataset.dataset}>
              <th scope="row">{dataset.dataset}</th>
              <td>{cost(dataset.budget)}</td>
              <td>{cost(dataset.spent)}</td>
              <td>{cost(dataset.remaining)}</td>
              <td>{dataset.budget.epsilon > 0 ? percent(dataset.spent.epsilon / dataset.budget.epsilon) : '–'}</td>
              <td>{dataset.releases.toLocaleString('en')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  if (entries.length === 0) return <p className="notice">No entries.</p>;
  return (
    <TableRegion label="Audit trail">
      <table data-testid="audit">
        <caption className="visually-hidden">Audit trail, newest first; each entry holds the hash of the one before it</caption>
        <ColumnHeads names={['Seq', 'When', 'Actor', 'Role', 'Action', 'Resource', 'Purpose', 'Details', 'Hash']} />
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.seq}>
              <th scope="row">{entry.seq}</th>
              <td>{new Date(entry.at).toLocaleString('en-GB')}</td>
              <td>{entry.actor}</td>
              <td>{entry.role}</td>
              <td>{entry.action}</td>
              <td>
                <code>{entry.resource}</code>
              </td>
              <td>{entry.purpose.replace(/_/g, ' ')}</td>
              <td>
                <code className="details">{JSON.stringify(entry.details)}</code>
              </td>
              <td>
                <code title={entry.hash}>{entry.hash.slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

export function Privacy() {
  const [budget] = useApiGet<Budget>('/v1/privacy/budget');
  // The `before` of each page shown before this one: "Older" pushes the page's `next`, "Newer" pops.
  const [pages, setPages] = useState<number[]>([]);
  const [audit] = useApiGet<{ entries: AuditEntry[]; next: number | null }>(`/v1/audit${queryString({ before: pages.at(-1), limit: AUDIT_PAGE })}`);
  return (
    <>
      <h1>Privacy and audit</h1>
      <section aria-labelledby="budget-heading">
        <h2 id="budget-heading">Privacy budget</h2>
        <Status loaded={budget}>{(value) => <BudgetTable budget={value} />}</Status>
      </section>
      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading">Audit trail</h2>
        <Status loaded={audit}>
          {({ entries, next }) => (
            <>
              <AuditTable entries={entries} />
              <p className="pager">
                {pages.length > 0 && (
                  <button type="button" onClick={() => setPages((current) => current.slice(0, -1))}>
                    Newer entries
                  </button>
                )}{' '}
                {next !== null && (
                  <button type="button" onClick={() => setPages((current) => [...current, next])}>
                    Older entries
                  </button>
                )}
              </p>
            </>
          )}
        </Status>
      </section>
    </>
  );
}
