import { Suspense, lazy, useEffect, useRef, useState } from 'react';
import type { CatalogueEntry, MetricAnswer } from '../api';
import { readCatalogue, readMetric, type WidgetQuery } from '../metrics';
import { useSession } from '../session';
import { Failure } from './Status';
import type { ChartKind } from './chart-kinds';

// The charting library is most of the bundle: loaded apart, while the widget's data is on its way.
const MetricChart = lazy(() => import('./MetricChart').then((module) => ({ default: module.MetricChart })));

/**
 * One chart of one metric query, read through the same API and release gate as any client.
 * `range` fixes the dates; without it the query's relative range ends now. `onSettled` hears when
 * the chart first stands on the page, or its failure is shown.
 */
export function Widget({ title, chart, query, range, onSettled }: { title: string; chart: ChartKind; query: WidgetQuery; range?: { from: string; to: string }; onSettled?: () => void }) {
  const { token } = useSession();
  const [state, setState] = useState<{ answer: MetricAnswer; kind: CatalogueEntry['kind'] | undefined } | Error>();
  const [drawn, setDrawn] = useState(false);
  const key = JSON.stringify([query, range]);
  useEffect(() => {
    let current = true;
    setState(undefined);
    setDrawn(false);
    Promise.all([readMetric(token, query, range), readCatalogue(token)])
      .then(([answer, catalogue]) => current && setState({ answer, kind: catalogue.find((entry) => entry.name === query.metric)?.kind }))
      .catch((error: unknown) => current && setState(error instanceof Error ? error : new Error(String(error))));
    return () => {
      current = false;
    };
    // The query is compared by value: a widget object made anew each render is the same query.
  }, [token, key]);
  const settled = useRef(onSettled);
  settled.current = onSettled;
  useEffect(() => {
    if (drawn || state instanceof Error) settled.current?.();
  }, [drawn, state]);
  return (
    <div className="widget-body" data-widget-state={state instanceof Error ? 'failed' : drawn ? 'drawn' : 'loading'}>
      {state === undefined ? (
        <p className="notice">Loading…</p>
      ) : state instanceof Error ? (
        <Failure error={state} />
      ) : (
        <Suspense fallback={<p className="notice">Loading…</p>}>
          <MetricChart answer={state.answer} chart={chart} kind={state.kind} title={title} onDrawn={() => setDrawn(true)} />
        </Suspense>
      )}
    </div>
  );
}
