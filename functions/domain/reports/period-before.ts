import { calendarBounds } from '../rollups/calendar';

const DAY_MS = 86_400_000;

/**
 * The period a report compares with: as many of the reader's local days as the period holds,
 * ending where it starts (the week before a week, the 28, 30 or 31 days before a month), so the
 * two totals count the same number of days whatever daylight saving did to their hours. Epoch ms,
 * [from, to); the period's bounds are local midnights, as report periods are.
 */
export function periodBefore(from: number, to: number, timeZone: string): { from: number; to: number } {
  const days = calendarBounds(from, to, 'day', timeZone).filter((at) => at >= from && at < to).length;
  // Two days' slack: a local day is 23 to 25 hours, and a zone may skip one.
  const before = calendarBounds(from - (days + 2) * DAY_MS, from, 'day', timeZone).filter((at) => at < from);
  return { from: before[Math.max(0, before.length - days)]!, to: from };
}
