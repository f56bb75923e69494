import { INTERVAL_MS } from './rollup';

/**
 * Local calendars: the days, ISO weeks (Monday to Sunday) and months of an IANA time zone, as
 * UTC instants. Built on the platform's Intl.DateTimeFormat (Node's tz database), so a new
 * zone rule reaches it with the runtime. A local day lasts 23, 24 or 25 hours; its bounds are
 * the first instants whose local date is that day, which is 01:00 where a zone skips midnight.
 */

export type CalendarUnit = 'day' | 'week' | 'month';

const HOUR_MS = INTERVAL_MS.hour;
const DAY_MS = INTERVAL_MS.day;

interface LocalDate {
  readonly year: number;
  /** 1-12 */
  readonly month: number;
  readonly day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/**
 * The zone's IANA name as the caller spelt it, its case corrected (and UTC for each alias of
 * UTC), or undefined when Intl knows no such zone. Not Intl's canonical name: Node's ICU still
 * turns Asia/Kolkata into Asia/Calcutta and Europe/Kyiv into Europe/Kiev.
 */
export function resolveTimeZone(name: string): string | undefined {
  // Intl also takes offsets like '+01:00', which are no zone: they have no daylight saving rules to follow.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  return canonical === 'UTC' || canonical.toLowerCase() === name.toLowerCase() ? canonical : name;
}

/** Local wall-clock time of an instant, as if it were UTC (epoch ms). */
function wallClock(epochMs: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(zone).formatToParts(epochMs)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return Date.UTC(parts['year']!, parts['month']! - 1, parts['day'], parts['hour'], parts['minute'], parts['second']) + (epochMs % 1000 + 1000) % 1000;
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms (negative west of Greenwich). */
export function zoneOffsetMs(epochMs: number, zone: string): number {
  return wallClock(epochMs, zone) - epochMs;
}

function localDateOf(epochMs: number, zone: string): LocalDate {
  const wall = new Date(wallClock(epochMs, zone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

const dayNumber = (date: LocalDate) => Date.UTC(date.year, date.month - 1, date.day) / DAY_MS;

/**
 * The first instant whose local date is `date` or later. The zone's offset at midnight is the
 * one in force a day before or a day after it (a zone changes its offset at most once a day);
 * of those, the earliest instant that lands on the date or later is the day's start.
 */
function startOfLocalDate(date: LocalDate, zone: string): number {
  const midnight = Date.UTC(date.year, date.month - 1, date.day);
  const target = dayNumber(date);
  let start = Infinity;
  for (const probe of [midnight - DAY_MS, midnight + DAY_MS]) {
    const candidate = midnight - zoneOffsetMs(probe, zone);
    if (dayNumber(localDateOf(candidate, zone)) >= target && candidate < start) start = candidate;
  }
  return start;
}

/** The local date `days` after `date` (negative: before). */
function addDays(date: LocalDate, days: number): LocalDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** The first local date of the unit's period holding `date`: the date, its Monday, or its month's first. */
function periodStart(date: LocalDate, unit: CalendarUnit): LocalDate {
  if (unit === 'day') return date;
  if (unit === 'month') return { ...date, day: 1 };
  const weekday = (new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7; // Monday 0
  return addDays(date, -weekday);
}

function nextPeriod(start: LocalDate, unit: CalendarUnit): LocalDate {
  if (unit === 'day') return addDays(start, 1);
  if (unit === 'week') return addDays(start, 7);
  return start.month === 12 ? { year: start.year + 1, month: 1, day: 1 } : { year: start.year, month: start.month + 1, day: 1 };
}

/**
 * The bounds of the local periods that cover [from, to): the first is at or before `from`, the
 * last at or after `to`, and bucket i is [bounds[i], bounds[i + 1]). A day a zone skipped (Samoa
 * left 30 December 2011 out) has no instants, and no bucket.
 */
export function calendarBounds(from: number, to: number, unit: CalendarUnit, zone: string): number[] {
  let date = periodStart(localDateOf(from, zone), unit);
  const bounds = [startOfLocalDate(date, zone)];
  while (bounds.at(-1)! < to) {
    date = nextPeriod(date, unit);
    const start = startOfLocalDate(date, zone);
    if (start > bounds.at(-1)!) bounds.push(start);
  }
  return bounds;
}

/**
 * The stored UTC rows a local bucket [start, end) sums, both hour-aligned: the UTC days wholly
 * inside it, and the hours of the UTC days it only partly covers.
 */
export function storedPieces(start: number, end: number): { days: number[]; hours: number[] } {
  const firstWholeDay = Math.ceil(start / DAY_MS) * DAY_MS;
  const endOfWholeDays = Math.floor(end / DAY_MS) * DAY_MS;
  const days: number[] = [];
  const hours: number[] = [];
  const addHours = (from: number, to: number) => {
    for (let hour = from; hour < to; hour += HOUR_MS) hours.push(hour);
  };
  if (firstWholeDay >= endOfWholeDays) {
    addHours(start, end);
    return { days, hours };
  }
  addHours(start, firstWholeDay);
  for (let day = firstWholeDay; day < endOfWholeDays; day += DAY_MS) days.push(day);
  addHours(endOfWholeDays, end);
  return { days, hours };
}

const twoDigits = (n: number) => String(n).padStart(2, '0');

/** The instant in ISO-8601 with the zone's offset then, like 2026-10-25T00:00:00+01:00; whole seconds. */
export function isoInstantInZone(epochMs: number, zone: string): string {
  const offsetMinutes = Math.round(zoneOffsetMs(epochMs, zone) / 60_000);
  const wall = new Date(epochMs + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const magnitude = Math.abs(offsetMinutes);
  return `${wall}${sign}${twoDigits(Math.floor(magnitude / 60))}:${twoDigits(magnitude % 60)}`;
}
