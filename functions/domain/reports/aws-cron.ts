/**
 * A report schedule's five-field cron ("0 8 * * MON", Vixie cron as croner reads it) as the
 * six-field cron EventBridge Scheduler takes: `cron(minutes hours day-of-month month day-of-week year)`.
 * Where the two differ:
 * - AWS numbers the days of the week 1 (SUN) to 7 (SAT), Vixie 0 or 7 (SUN) to 6 (SAT): days are
 *   written as names, so no number is read the other way;
 * - AWS needs `?` in one of day-of-month and day-of-week. Vixie runs on either when both are set
 *   ("0 8 1 * MON": the 1st and every Monday), which one AWS schedule cannot say, so that is refused;
 * - a `#` (nth weekday) or `L` (last weekday) day-of-week stands alone in AWS;
 * - `*` with a step is written from the field's first value (`0/2` hours, `1/3` days).
 * Daylight saving differs too, and no expression can change it: EventBridge Scheduler skips a time
 * the clocks jump over, where croner (the local runtime, and `next`) runs it just after the gap.
 */

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

export class AwsCronError extends RangeError {
  override readonly name = 'AwsCronError';
}

/** A day of the week (0-7 or a name) as its index from SUN = 0. */
function dayIndex(token: string): number {
  const named = DAY_NAMES.indexOf(token as (typeof DAY_NAMES)[number]);
  if (named >= 0) return named;
  if (/^[0-7]$/.test(token)) return Number(token) % 7;
  throw new AwsCronError(`day of the week ${JSON.stringify(token)} is not 0-7 or SUN-SAT`);
}

/** One comma item of a day-of-week field (`MON`, `1-5`, `MON-FRI/2`, `*\/2`, `5-7`) as the days it names. */
function daysOf(item: string): number[] {
  const [range = '', step = '1'] = item.split('/');
  if (!/^[1-9]\d*$/.test(step)) throw new AwsCronError(`step ${JSON.stringify(step)} in the day of the week is not a positive whole number`);
  let first: number;
  let last: number;
  if (range === '*') [first, last] = [0, 6];
  else if (range.includes('-')) {
    const [from = '', to = ''] = range.split('-');
    // 7 is Sunday at the end of the week, so 5-7 is FRI, SAT, SUN.
    first = dayIndex(from);
    last = to === '7' ? 7 : dayIndex(to);
  } else {
    // The schema's croner refuses a step from one day ("MON/2"), so a single day is just that day.
    first = last = dayIndex(range);
  }
  if (first > last) throw new AwsCronError(`day-of-week range ${JSON.stringify(range)} runs backwards`);
  const days: number[] = [];
  for (let day = first; day <= last; day += Number(step)) days.push(day % 7);
  return days;
}

/** A restricted day-of-week field in AWS's terms. */
function awsDaysOfWeek(field: string): string {
  const items = field.split(',');
  const special = items.find((item) => item.includes('#') || item.endsWith('L'));
  if (special !== undefined) {
    if (items.length > 1) throw new AwsCronError(`an nth or last weekday (${special}) cannot be listed with other days`);
    const [day = '', nth = ''] = special.split('#');
    if (nth === '') return `${dayIndex(day.slice(0, -1)) + 1}L`;
    if (nth === 'L') return `${dayIndex(day) + 1}L`;
    if (!/^[1-5]$/.test(nth)) throw new AwsCronError(`the nth weekday ${JSON.stringify(special)} must be #1 to #5 or #L`);
    return `${dayIndex(day) + 1}#${nth}`;
  }
  const days = new Set(items.flatMap(daysOf));
  return DAY_NAMES.filter((_, index) => days.has(index)).join(',');
}

/** `*\/n` written from the field's first value, which AWS documents; anything else as it is. */
const fromFirst = (field: string, first: number) => field.replace(/^\*\//, `${first}/`);

const isAny = (field: string) => field === '*' || field === '?';

/**
 * The EventBridge Scheduler expression of a report cron (one the schedule schema accepted), or an
 * AwsCronError saying what AWS cannot express.
 */
export function awsScheduleExpression(cron: string): string {
  const fields = cron.trim().toUpperCase().split(/\s+/);
  if (fields.length !== 5) throw new AwsCronError('a report cron has five fields: minute hour day-of-month month day-of-week');
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  if (!isAny(dayOfMonth) && !isAny(dayOfWeek)) {
    throw new AwsCronError('name a day of the month or a day of the week, not both: cron runs on either, which one EventBridge schedule cannot express');
  }
  const days = isAny(dayOfWeek)
    ? { ofMonth: isAny(dayOfMonth) ? '*' : fromFirst(dayOfMonth, 1), ofWeek: '?' }
    : { ofMonth: '?', ofWeek: awsDaysOfWeek(dayOfWeek) };
  return `cron(${minute} ${fromFirst(hour, 0)} ${days.ofMonth} ${fromFirst(month, 1)} ${days.ofWeek} *)`;
}

/** What keeps a report cron from running on EventBridge Scheduler, or undefined. */
export function awsCronProblem(cron: string): string | undefined {
  try {
    awsScheduleExpression(cron);
    return undefined;
  } catch (error) {
    if (error instanceof AwsCronError) return error.message;
    throw error;
  }
}
