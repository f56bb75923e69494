import { Cron } from 'croner';
import { awsCronProblem, awsScheduleExpression } from '../../../functions/domain/reports/aws-cron';

/**
 * An AWS expression read back as the Vixie cron croner runs, from AWS's own definitions (1 = SUN,
 * `?` = any): the same instants on both sides show the conversion kept the meaning.
 */
function asVixie(expression: string): string {
  const [minute, hour, dayOfMonth, month, dayOfWeek, year] = /^cron\((.*)\)$/.exec(expression)![1]!.split(' ');
  expect(year).toBe('*');
  const vixieDay = (aws: string) => String(Number(aws) - 1);
  const week = dayOfWeek!.replace(/^(\d)L$/, (_, day: string) => `${vixieDay(day)}#L`).replace(/^(\d)#(\d)$/, (_, day: string, nth: string) => `${vixieDay(day)}#${nth}`);
  // AWS steps from the field's first value; croner writes that as a step of `*`.
  const fromAny = (field: string) => field.replace('?', '*').replace(/^[01]\//, '*/');
  return [minute, fromAny(hour!), fromAny(dayOfMonth!), fromAny(month!), fromAny(week)].join(' ');
}

const runs = (pattern: string) =>
  new Cron(pattern, { mode: '5-part', timezone: 'America/New_York', paused: true }).nextRuns(40, new Date('2027-01-01T00:00:00Z')).map((run) => run.toISOString());

describe('report cron as an EventBridge Scheduler expression', () => {
  it.each([
    ['0 8 * * MON', 'cron(0 8 ? * MON *)'],
    ['0 8 * * *', 'cron(0 8 * * ? *)'],
    ['30 6 1 * *', 'cron(30 6 1 * ? *)'],
    ['0 8 ? * mon', 'cron(0 8 ? * MON *)'],
    // Vixie numbers the days from SUN = 0 (and 7): AWS from SUN = 1, so names are written.
    ['0 8 * * 1-5', 'cron(0 8 ? * MON,TUE,WED,THU,FRI *)'],
    ['0 8 * * 0', 'cron(0 8 ? * SUN *)'],
    ['0 8 * * 7', 'cron(0 8 ? * SUN *)'],
    ['0 8 * * 5-7', 'cron(0 8 ? * SUN,FRI,SAT *)'],
    ['0 8 * * MON-FRI/2', 'cron(0 8 ? * MON,WED,FRI *)'],
    ['0 8 * * */3', 'cron(0 8 ? * SUN,WED,SAT *)'],
    ['0 8 * * 1,3,SAT', 'cron(0 8 ? * MON,WED,SAT *)'],
    ['0 8 * * 1#2', 'cron(0 8 ? * 2#2 *)'],
    ['0 8 * * FRI#L', 'cron(0 8 ? * 6L *)'],
    ['0 8 * * 5L', 'cron(0 8 ? * 6L *)'],
    ['0 */2 * * *', 'cron(0 0/2 * * ? *)'],
    ['0 8-18/2 * * MON', 'cron(0 8-18/2 ? * MON *)'],
    ['0 8 */3 * *', 'cron(0 8 1/3 * ? *)'],
    ['0 8 L * *', 'cron(0 8 L * ? *)'],
    ['0 8 15W * *', 'cron(0 8 15W * ? *)'],
    ['0 8 1 */3 *', 'cron(0 8 1 1/3 ? *)'],
    ['0 8 1 JAN,jul *', 'cron(0 8 1 JAN,JUL ? *)'],
  ])('writes %s as %s, firing at the same instants', (cron, expression) => {
    expect(awsScheduleExpression(cron)).toBe(expression);
    expect(runs(asVixie(expression))).toEqual(runs(cron));
  });

  it('refuses a day of the month with a day of the week, which cron runs on either and AWS cannot say', () => {
    expect(awsCronProblem('0 8 1 * MON')).toMatch(/not both/);
    expect(() => awsScheduleExpression('0 8 1-7 * 1')).toThrow(/not both/);
  });

  it('refuses an nth or last weekday listed with other days, which AWS takes alone', () => {
    expect(awsCronProblem('0 8 * * 1#2,FRI')).toMatch(/cannot be listed/);
    expect(awsCronProblem('0 8 * * 1#6')).toMatch(/#1 to #5/);
  });

  it('says nothing against the crons it converts', () => {
    expect(awsCronProblem('0 8 * * MON')).toBeUndefined();
  });
});
