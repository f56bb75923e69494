/** The chart kinds a widget draws in (DESIGN.md "Dashboards"); apart from the charts, which load later. */
export const CHARTS = ['line', 'bar', 'area', 'table', 'number', 'heatmap'] as const;
export type ChartKind = (typeof CHARTS)[number];
