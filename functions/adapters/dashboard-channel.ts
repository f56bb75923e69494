import { alertFeedKey, type AlertMessage } from '../domain/alerting/model';
import type { LiveStore } from '../ports';
import type { NotificationChannel } from '../ports/notifications';

/** Enough history for the dashboard's alert feed; older alerts are in `GET /v1/alerts`. */
export const ALERT_FEED_LENGTH = 1_000;
export const ALERT_FEED_CHANNEL = 'alerts';

/**
 * The live dashboard's feed: the message on the capped list of its severity (read when a
 * dashboard opens) and on the pub/sub channel (pushed to dashboards already open).
 */
export class DashboardChannel implements NotificationChannel {
  readonly channel = 'dashboard' as const;

  constructor(
    private readonly live: Pick<LiveStore, 'pushCapped' | 'publish'>,
    private readonly maxLength: number = ALERT_FEED_LENGTH,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    const json = JSON.stringify(feedEntry(message));
    await this.live.pushCapped(alertFeedKey(message.severity), json, this.maxLength);
    await this.live.publish(ALERT_FEED_CHANNEL, json);
  }
}

/** Named fields only, never a spread, so nothing riding on the message object reaches Redis. */
function feedEntry(message: AlertMessage): AlertMessage {
  return {
    kind: message.kind,
    severity: message.severity,
    groupKey: message.groupKey,
    alerts: message.alerts.map(({ id, rule, subject, startsAt, summary }) => ({ id, rule, subject, startsAt, summary })),
    dashboardUrl: message.dashboardUrl,
  };
}
