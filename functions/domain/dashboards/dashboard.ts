import { z } from 'zod';
import { plainText } from '../api/input-bounds';
import { piiIn } from '../privacy/pii';
import { METRICS } from '../rollups/catalogue';
import { QUERY_INTERVALS } from '../rollups/metric-query';

/*
 * Dashboards (DESIGN.md "Dashboards"): staff-made pages of widgets, each widget a metric query
 * the client runs through GET /v1/metrics/{metric} (so through the same roles and release gate
 * as any client) and a chart to draw it in. A dashboard holds configuration only: titles, the
 * queries, where each widget sits; no figure and no user. Saves are optimistic: a change names
 * the version it was made on and is refused once another save has moved the dashboard on.
 */

export const CHART_TYPES = ['line', 'bar', 'area', 'table', 'number', 'heatmap'] as const;

/** The roles a dashboard can be shared with: those that may call the dashboards routes (ingest may not). */
export const DASHBOARD_ROLES = ['admin', 'analyst', 'clinician'] as const;
export type DashboardRole = (typeof DASHBOARD_ROLES)[number];

export const MAX_WIDGETS = 24;
const MAX_TITLE_LENGTH = 120;
const GRID_COLUMNS = 12;
/** Rows a widget may start at and span: room for every widget stacked at its tallest. */
const MAX_WIDGET_HEIGHT = 12;
const MAX_GRID_ROW = MAX_WIDGETS * MAX_WIDGET_HEIGHT;
/** Each staff member's own; a bound so one caller cannot fill the table. */
export const MAX_DASHBOARDS_PER_OWNER = 100;

const METRIC_NAMES = METRICS.map((metric) => metric.name) as [string, ...string[]];

/**
 * Free text staff type and others read: no control characters, and nothing that looks like
 * personal data, since a dashboard is shared by role and kept until deleted.
 */
const title = plainText(z.string().trim().min(1).max(MAX_TITLE_LENGTH)).superRefine((text, context) => {
  const pii = piiIn(text);
  if (pii) context.addIssue({ code: 'custom', message: `looks like personal data (${pii}); a dashboard is shared by role and holds none` });
});

/** ISO-8601 durations in whole minutes or longer: the finest bucket is a minute. */
const DURATION = /^P(?:(\d{1,4})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,4})D)?(?:T(?:(\d{1,4})H)?(?:(\d{1,4})M)?)?$/;

export interface Duration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
}

export const RANGE_MESSAGE = 'must be an ISO-8601 duration of whole minutes or more, like P30D, P6M or PT6H';

/** The duration a range names, or undefined when it is none this API takes (P1DT, P0D, PT30S). */
export function parseRange(range: string): Duration | undefined {
  const match = DURATION.exec(range);
  if (!match || range.endsWith('T')) return undefined;
  const [years, months, weeks, days, hours, minutes] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  if (years + months + weeks + days + hours + minutes === 0) return undefined;
  return { years, months, weeks, days, hours, minutes };
}

const MINUTE_MS = 60_000;

/**
 * Where a widget's range starts when it ends at `now` (epoch ms): years and months on the UTC
 * calendar (31 March less a month is the last of February), the rest as fixed lengths.
 */
export function rangeStart(range: Duration, now: number): number {
  const at = new Date(now);
  const months = range.years * 12 + range.months;
  if (months > 0) {
    const target = at.getUTCFullYear() * 12 + at.getUTCMonth() - months;
    const [year, month] = [Math.floor(target / 12), target % 12];
    const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    at.setUTCFullYear(year, month, Math.min(at.getUTCDate(), lastDay));
  }
  return at.getTime() - ((range.weeks * 7 + range.days) * 1440 + range.hours * 60 + range.minutes) * MINUTE_MS;
}

const widgetQuery = z
  .object({
    metric: z.enum(METRIC_NAMES),
    interval: z.enum(QUERY_INTERVALS),
    groupBy: z.array(z.string().max(64)).max(8).default([]).meta({ description: "Dimensions of the metric (GET /v1/metrics lists each metric's), each at most once." }),
    filter: z
      .record(z.string().min(1).max(64), z.array(z.string().max(128)).min(1).max(20))
      .optional()
      .meta({ description: 'Per dimension, the values a point sums: the query parameter `filter` as an object ({"platform": ["ios", "android"]} is platform:ios,platform:android).' }),
    timeZone: z.string().min(1).max(64).optional().meta({ description: 'An IANA time zone; UTC when absent.' }),
    range: z
      .string()
      .max(40)
      .refine((text) => parseRange(text) !== undefined, { message: RANGE_MESSAGE })
      .meta({ description: 'How far back from now the widget reads, an ISO-8601 duration (P30D, P1W, P3M, PT6H).' }),
  })
  .strict()
  .meta({ id: 'WidgetQuery' });

const grid = z
  .object({
    x: z.number().int().min(0).max(GRID_COLUMNS - 1),
    y: z.number().int().min(0).max(MAX_GRID_ROW),
    w: z.number().int().min(1).max(GRID_COLUMNS),
    h: z.number().int().min(1).max(MAX_WIDGET_HEIGHT),
  })
  .strict()
  .refine(({ x, w }) => x + w <= GRID_COLUMNS, { message: `x + w must be at most ${GRID_COLUMNS}: the grid has ${GRID_COLUMNS} columns`, path: ['w'] })
  .meta({ id: 'WidgetGrid', description: `Place and size on a grid of ${GRID_COLUMNS} columns: x and w in columns, y and h in rows.` });

export const widgetSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or - (a UUID will do)')
      .meta({ description: 'Chosen by the client; unique within the dashboard.' }),
    title,
    query: widgetQuery,
    chart: z.enum(CHART_TYPES),
    grid,
  })
  .strict()
  .meta({ id: 'Widget' });

const widgets = z
  .array(widgetSchema)
  .max(MAX_WIDGETS)
  .superRefine((list, context) => {
    const seen = new Set<string>();
    list.forEach((each, index) => {
      if (seen.has(each.id)) context.addIssue({ code: 'custom', message: `is the id of an earlier widget; each widget's id is its own`, path: [index, 'id'] });
      seen.add(each.id);
    });
  });

const sharedWith = z
  .array(z.enum(DASHBOARD_ROLES))
  .max(DASHBOARD_ROLES.length)
  .refine((roles) => new Set(roles).size === roles.length, { message: 'names a role twice' })
  .meta({ description: "The roles that may see the dashboard besides its owner and admins; only the owner and admins change it. The widgets' data is read through GET /v1/metrics/{metric}, whose own roles apply: a clinician sees a dashboard shared with clinicians, not its figures." });

/** POST /v1/dashboards: a new dashboard, empty or with its widgets. */
export const newDashboardSchema = z.object({ title, sharedWith: sharedWith.default([]), widgets: widgets.default([]) }).strict().meta({ id: 'NewDashboard' });

/** PUT /v1/dashboards/{id}: the whole dashboard as it should be, and the version it was made from. */
export const dashboardUpdateSchema = z
  .object({
    version: z.number().int().min(1).max(2 ** 31 - 1).meta({ description: 'The version the client last read; the save is refused (409) once another has moved the dashboard on.' }),
    title,
    sharedWith,
    widgets,
  })
  .strict()
  .meta({ id: 'DashboardUpdate' });

export type Widget = z.infer<typeof widgetSchema>;
export type WidgetQuery = Widget['query'];
export type DashboardContent = z.infer<typeof newDashboardSchema>;
export type DashboardUpdate = z.infer<typeof dashboardUpdateSchema>;

export interface Dashboard extends DashboardContent {
  readonly id: string;
  /** The token subject of the staff member who made it; `product` for the ready-made ones. */
  readonly owner: string;
  readonly version: number;
}

/** Who asks: the token's subject and role. */
export interface Viewer {
  readonly actor: string;
  readonly role: string;
}

/** Seen by its owner, by admins and by the roles it is shared with. */
export function canSee(dashboard: Pick<Dashboard, 'owner' | 'sharedWith'>, viewer: Viewer): boolean {
  return viewer.role === 'admin' || dashboard.owner === viewer.actor || (dashboard.sharedWith as readonly string[]).includes(viewer.role);
}

/** Changed and deleted by its owner and by admins: sharing shows a dashboard, it does not hand it over. */
export function canChange(dashboard: Pick<Dashboard, 'owner'>, viewer: Viewer): boolean {
  return viewer.role === 'admin' || dashboard.owner === viewer.actor;
}
