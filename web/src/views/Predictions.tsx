import { Bar, BarChart, CartesianGrid, ErrorBar, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useApiGet } from '../hooks';
import { Status } from '../components/Status';
import { PALETTE, decimal, percent, TableRegion, Withheld, ColumnHeads } from '../components/format';
import type { CohortList } from './Cohorts';

/* Predicted reliable improvement by week 8 per cohort beside the rate observed, and how good the model is. */

interface OutcomeModel {
  version: string;
  trainedAt: string;
  outcome: string;
  quality: {
    accuracy: number;
    auc: number;
    brier: number;
    trainedOn: number;
    testedOn: number;
    splitAt: string;
    calibration: { from: number; to: number; predicted: number; observed: number; n: number }[];
  };
  live: { accuracy: number; n: number; measuredAt: string } | null;
}

interface Prediction {
  cohort: string;
  users: number;
  probability: number;
  ci95: [number, number];
  /** Null while fewer than k outcomes of the cohort are known. */
  actual: number | null;
  outcomesKnown: number;
}

interface PredictionAnswer {
  /** Absent until a model has been trained. */
  model?: OutcomeModel;
  predictions: Prediction[];
  suppressed: { group: { cohort: string }; reason: string }[];
}

const OUTCOMES: Record<string, string> = {
  phq9_reliable_improvement: 'PHQ-9 reliable improvement by week 8 (down at least 6 points, or to half the baseline)',
  gad7_reliable_improvement: 'GAD-7 reliable improvement by week 8 (down at least 4 points)',
};

const [PREDICTED_COLOUR, ACTUAL_COLOUR] = PALETTE as [string, string];

function ModelQuality({ model }: { model: OutcomeModel }) {
  const { quality, live } = model;
  return (
    <section aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <p>{OUTCOMES[model.outcome] ?? model.outcome}</p>
      <dl className="facts">
        <dt>Trained</dt>
        <dd>{new Date(model.trainedAt).toLocaleString('en-GB')}</dd>
        <dt>Accuracy on held-out users</dt>
        <dd>
          {percent(quality.accuracy)} of {quality.testedOn.toLocaleString('en')} (trained on {quality.trainedOn.toLocaleString('en')})
        </dd>
        <dt>ROC AUC</dt>
        <dd>{decimal(quality.auc, 3)}</dd>
        <dt>Brier score</dt>
        <dd>{decimal(quality.brier, 3)}</dd>
        <dt>Live accuracy</dt>
        <dd>{live === null ? 'not measured yet' : `${percent(live.accuracy)} of ${live.n.toLocaleString('en')} outcomes known since training`}</dd>
      </dl>
      {quality.calibration.length > 0 && (
        <TableRegion label="Calibration">
          <table>
            <caption>Calibration on held-out users: predicted against observed, by tenth of predicted probability</caption>
            <ColumnHeads names={['Predicted probability', 'Mean predicted', 'Observed', 'Users']} />
            <tbody>
              {quality.calibration.map((tenth) => (
                <tr key={tenth.from}>
                  <th scope="row">
                    {percent(tenth.from)} to {percent(tenth.to)}
                  </th>
                  <td>{percent(tenth.predicted)}</td>
                  <td>{percent(tenth.observed)}</td>
                  <td>{tenth.n.toLocaleString('en')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </section>
  );
}

function PredictionChart({ predictions, nameOf }: { predictions: Prediction[]; nameOf: (cohort: string) => string }) {
  // An actual rate withheld is null, a gap in the chart; the table beside it says "suppressed".
  const rows = predictions.map((prediction) => ({
    cohort: nameOf(prediction.cohort),
    Predicted: prediction.probability,
    range: [prediction.probability - prediction.ci95[0], prediction.ci95[1] - prediction.probability],
    Actual: prediction.actual,
  }));
  return (
    <figure aria-label="Predicted and actual rate of reliable improvement per cohort" className="chart">
      <ResponsiveContainer width="100%" height={260}>
        <BarChart data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="cohort" />
          <YAxis domain={[0, 1]} tickFormatter={(value: number) => percent(value)} />
          <Tooltip formatter={(value) => (typeof value === 'number' ? percent(value) : 'suppressed')} />
          <Legend />
          <Bar dataKey="Predicted" fill={PREDICTED_COLOUR} isAnimationActive={false}>
            <ErrorBar dataKey="range" stroke="#000" />
          </Bar>
          <Bar dataKey="Actual" fill={ACTUAL_COLOUR} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

function PredictionTable({ answer, nameOf }: { answer: PredictionAnswer; nameOf: (cohort: string) => string }) {
  return (
    <TableRegion label="Predictions against actuals">
      <table data-testid="predictions">
        <caption className="visually-hidden">Predicted and actual rate of reliable improvement per cohort</caption>
        <ColumnHeads names={['Cohort', 'Users', 'Predicted (95 % interval)', 'Actual', 'Outcomes known']} />
        <tbody>
          {answer.predictions.map((prediction) => (
            <tr key={prediction.cohort}>
              <th scope="row">{nameOf(prediction.cohort)}</th>
              <td>{prediction.users.toLocaleString('en')}</td>
              <td>
                {percent(prediction.probability)} ({percent(prediction.ci95[0])} to {percent(prediction.ci95[1])})
              </td>
              <td>{prediction.actual === null ? <Withheld /> : percent(prediction.actual)}</td>
              <td>{prediction.actual === null ? <Withheld /> : prediction.outcomesKnown.toLocaleString('en')}</td>
            </tr>
          ))}
          {answer.suppressed.map((entry) => (
            <tr key={entry.group.cohort}>
              <th scope="row">{nameOf(entry.group.cohort)}</th>
              <td colSpan={4} className="withheld">
                <Withheld /> fewer than k users
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

export function Predictions() {
  const [answer] = useApiGet<PredictionAnswer>('/v1/predictions');
  // Names for the cohort ids; without them (no cohorts route, or a failure) the ids are shown.
  const [cohorts] = useApiGet<CohortList>('/v1/cohorts');
  const names = new Map(cohorts.state === 'ready' ? cohorts.value.cohorts.map((cohort) => [cohort.id, cohort.name]) : []);
  const nameOf = (cohort: string) => (cohort === 'all' ? 'Everyone' : (names.get(cohort) ?? cohort));
  return (
    <>
      <h1>Predictions</h1>
      <Status loaded={answer}>
        {(value) =>
          !value.model ? (
            <p className="notice">No outcome model yet: the nightly model run (or npm run model) trains the first once outcomes are known.</p>
          ) : (
            <>
              <section aria-labelledby="against-actuals-heading">
                <h2 id="against-actuals-heading">Predictions against actuals</h2>
                <p className="hint">An actual rate is shown once at least k of the cohort&apos;s outcomes are known; until then it is suppressed.</p>
                {value.predictions.length > 0 && <PredictionChart predictions={value.predictions} nameOf={nameOf} />}
                <PredictionTable answer={value} nameOf={nameOf} />
              </section>
              <ModelQuality model={value.model} />
            </>
          )
        }
      </Status>
    </>
  );
}
