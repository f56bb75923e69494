import type { Dashboard, Widget } from './dashboard';

/*
 * The dashboards that ship with the product. Code rather than rows: they follow the metric
 * catalogue they are written against, the same schema and reach checks as any saved dashboard
 * hold them in a unit test, and a release changes them without a migration. They are nobody's to
 * change: a user who wants another duplicates one (POST /v1/dashboards with its content).
 */

export const READY_MADE_OWNER = 'product';

const widget = (id: string, title: string, query: Widget['query'], chart: Widget['chart'], grid: Widget['grid']): Widget => ({ id, title, query, chart, grid });

const readyMade = (id: string, title: string, widgets: readonly Widget[]): Dashboard => ({ id, title, owner: READY_MADE_OWNER, sharedWith: ['admin', 'analyst'], version: 1, widgets: [...widgets] });

export const READY_MADE_DASHBOARDS: readonly Dashboard[] = [
  readyMade('engagement-overview', 'Engagement overview', [
    widget('active-users-today', 'Active users today', { metric: 'active_users', interval: 'day', groupBy: [], range: 'P1D' }, 'number', { x: 0, y: 0, w: 3, h: 2 }),
    widget('sessions-today', 'Sessions today', { metric: 'sessions', interval: 'day', groupBy: [], range: 'P1D' }, 'number', { x: 3, y: 0, w: 3, h: 2 }),
    widget('completed-today', 'Completed sessions today', { metric: 'sessions.completed', interval: 'day', groupBy: [], range: 'P1D' }, 'number', { x: 6, y: 0, w: 3, h: 2 }),
    widget('session-length', 'Session length, last 7 days (s)', { metric: 'session.duration', interval: 'week', groupBy: [], range: 'P7D' }, 'number', { x: 9, y: 0, w: 3, h: 2 }),
    widget('active-users', 'Active users per day', { metric: 'active_users', interval: 'day', groupBy: [], range: 'P30D' }, 'line', { x: 0, y: 2, w: 6, h: 4 }),
    widget('sessions-by-platform', 'Sessions per day by platform', { metric: 'sessions', interval: 'day', groupBy: ['platform'], range: 'P30D' }, 'area', { x: 6, y: 2, w: 6, h: 4 }),
  ]),
  readyMade('outcomes', 'Outcomes', [
    widget('assessment-scores', 'Assessment scores by instrument, weekly', { metric: 'assessment.score', interval: 'week', groupBy: ['instrument'], range: 'P26W' }, 'line', { x: 0, y: 0, w: 6, h: 4 }),
    widget('mood', 'Mood valence per day', { metric: 'mood.valence', interval: 'day', groupBy: [], range: 'P30D' }, 'line', { x: 6, y: 0, w: 6, h: 4 }),
    widget('interventions-by-type', 'Interventions delivered by type, weekly', { metric: 'interventions', interval: 'week', groupBy: ['interventionType'], range: 'P12W' }, 'bar', { x: 0, y: 4, w: 6, h: 4 }),
    widget('intervention-completion', 'Intervention completion, weekly', { metric: 'interventions', interval: 'week', groupBy: ['completion'], range: 'P12W' }, 'area', { x: 6, y: 4, w: 6, h: 4 }),
    widget('rated-effectiveness', 'Rated effectiveness by intervention, monthly', { metric: 'intervention.effectiveness', interval: 'month', groupBy: ['interventionType'], range: 'P6M' }, 'table', { x: 0, y: 8, w: 12, h: 4 }),
  ]),
  readyMade('operations', 'Operations', [
    widget('events-per-minute', 'Events per minute, last 6 hours', { metric: 'events', interval: 'minute', groupBy: [], range: 'PT6H' }, 'line', { x: 0, y: 0, w: 12, h: 3 }),
    widget('events-by-platform', 'Events per hour by platform', { metric: 'events', interval: 'hour', groupBy: ['platform'], range: 'P2D' }, 'area', { x: 0, y: 3, w: 6, h: 4 }),
    widget('events-by-type', 'Events by type, last 7 days', { metric: 'events', interval: 'day', groupBy: ['type'], range: 'P7D' }, 'table', { x: 6, y: 3, w: 6, h: 4 }),
    widget('response-time', 'Choice response time per hour (ms)', { metric: 'choice.response_time', interval: 'hour', groupBy: [], range: 'P2D' }, 'line', { x: 0, y: 7, w: 6, h: 4 }),
    widget('events-heatmap', 'Events per hour by type', { metric: 'events', interval: 'hour', groupBy: ['type'], range: 'P2D' }, 'heatmap', { x: 6, y: 7, w: 6, h: 4 }),
  ]),
];

const BY_ID = new Map(READY_MADE_DASHBOARDS.map((dashboard) => [dashboard.id, dashboard]));

export function readyMadeDashboard(id: string): Dashboard | undefined {
  return BY_ID.get(id);
}
