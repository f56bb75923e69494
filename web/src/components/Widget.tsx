import { useEffect, useRef, useState } from 'react';
import type { CatalogueEntry, MetricAnswer } from '../api';
import { readCatalogue, readMetric, type WidgetQuery } from '../metrics';
import { useSession } from '../session';
import { Failure } from './Status';
import { MetricChart, type ChartKind } from './MetricChart';

/** One chart of one metric query, read through the same API and release gate as any client. */
/** `range` fixes the dates; without it the query's relative range ends now. `onSettled` hears when it has drawn or failed. */
export function Widget({ title, chart, query, range, onSettled }: { title: string; chart: ChartKind; query: WidgetQuery; range?: { from: string; to: string }; onSettled?: () => void }) {
  const { token } = useSession();
  const [state, setState] = useState<{ answer: MetricAnswer; kind: CatalogueEntry['kind'] | undefined } | Error>();
  const key = JSON.stringify([query, range]);
  useEffect(() => {
    let current = true;
    setState(undefined);
    Promise.all([readMetric(token, query, range), readCatalogue(token)])
      .then(([answer, catalogue]) => current && setState({ answer, kind: catalogue.find((entry) => entry.name === query.metric)?.kind }))
      .catch((error: unknown) => current && setState(error instanceof Error ? error : new Error(String(error))));
    return () => {
      current = false;
    };
    // The query is compared by value: a widget object made anew each render is the same query.
  }, [token, key]);
  // After the render that shows it, so a mark taken then is the moment the widget is on screen.
  const settled = useRef(onSettled);
  settled.current = onSettled;
  useEffect(() => {
    if (state !== undefined) settled.current?.();
  }, [state]);
  return (
    <div className="widget-body" data-widget-state={state === undefined ? 'loading' : state instanceof Error ? 'failed' : 'drawn'}>
      {state === undefined ? <p className="notice">Loading…</p> : state instanceof Error ? <Failure error={state} /> : <MetricChart answer={state.answer} chart={chart} kind={state.kind} title={title} />}
    </div>
  );
}
