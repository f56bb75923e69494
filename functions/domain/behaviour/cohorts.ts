import { z } from 'zod';
import { boundedInstant, plainText } from '../api/input-bounds';
import { PLATFORMS, type Platform } from '../events/schema';
import { releasePolicy } from '../privacy/release-policy';

/*
 * Cohorts (DESIGN.md "Behaviour analysis"): stored definitions of a set of pseudonymous users,
 * their week-N retention, and the rule that keeps two cohorts from being set against each other
 * to single out the few people one holds and the other does not (PRIVACY.md "Cohorts").
 */

const DAY_MS = 86_400_000;
const WEEK_DAYS = 7;
/** 1970-01-01 was a Thursday: epoch day 4 is the first Monday, where UTC weeks start. */
const FIRST_MONDAY = 4;

/** Nesting and breadth bounds: a definition is evaluated per user, for every user, on every read. */
const MAX_DEPTH = 4;
const MAX_PARTS = 8;

export type CohortDefinition =
  | { readonly firstSeen: { readonly from: string; readonly to: string } }
  | { readonly attribute: { readonly platform: Platform } }
  /** The users a fit of the pattern models put in this archetype (its pattern id, of that fit's version). */
  | { readonly pattern: string }
  | { readonly all: readonly CohortDefinition[] };

const firstSeen = z
  .object({ from: boundedInstant, to: boundedInstant })
  .strict()
  .refine(({ from, to }) => Date.parse(from) < Date.parse(to), { message: 'from must be before to', path: ['to'] });

// Named: the API document refers to a recursive schema by its name, or its generator never ends.
export const cohortDefinitionSchema: z.ZodType<CohortDefinition> = z
  .lazy(() =>
    z.union([
      z.object({ firstSeen }).strict(),
      z.object({ attribute: z.object({ platform: z.enum(PLATFORMS) }).strict() }).strict(),
      z.object({ pattern: z.string().trim().min(1).max(64) }).strict(),
      z.object({ all: z.array(cohortDefinitionSchema).min(1).max(MAX_PARTS) }).strict(),
    ]),
  )
  .meta({ id: 'CohortDefinition', description: 'Users first seen in [from, to), of a platform (their latest), put in an archetype by the fit that found it (`pattern`: the id `GET /v1/patterns` gives it), or in `all` of several definitions (at most 8 parts, 4 levels).' });

function depthOf(definition: CohortDefinition): number {
  return 'all' in definition ? 1 + Math.max(...definition.all.map(depthOf)) : 1;
}

export const newCohortSchema = z
  .object({
    name: plainText(z.string().trim().min(1).max(120)),
    definition: cohortDefinitionSchema.refine((definition) => depthOf(definition) <= MAX_DEPTH, { message: `nests at most ${MAX_DEPTH} levels` }),
  })
  .strict();
export type NewCohort = z.infer<typeof newCohortSchema>;

/** What a cohort definition can select a user by: facts of the feature state, no id. */
export interface CohortSubject {
  /** The user's key in the store (a hash of the pseudonym), to tell members apart. */
  readonly key: string;
  readonly firstAt: number;
  readonly platform: Platform | null;
  /** Epoch days with any activity, ascending. */
  readonly activeDays: readonly number[];
  /** The archetype patterns (ids) the user was put in, of the fits the definitions refer to. */
  readonly patterns?: ReadonlySet<string>;
}

/** Each pattern a definition refers to, with the path of its field for an error that names it. */
export function patternReferences(definition: CohortDefinition, path: readonly (string | number)[] = ['definition']): { readonly id: string; readonly path: string }[] {
  if ('pattern' in definition) return [{ id: definition.pattern, path: [...path, 'pattern'].join('.') }];
  if ('all' in definition) return definition.all.flatMap((part, i) => patternReferences(part, [...path, 'all', i]));
  return [];
}

export function isMember(definition: CohortDefinition, subject: CohortSubject): boolean {
  if ('firstSeen' in definition) return subject.firstAt >= Date.parse(definition.firstSeen.from) && subject.firstAt < Date.parse(definition.firstSeen.to);
  if ('attribute' in definition) return subject.platform === definition.attribute.platform;
  if ('pattern' in definition) return subject.patterns?.has(definition.pattern) ?? false;
  return definition.all.every((part) => isMember(part, subject));
}

/**
 * Which of these cohorts may be released, given their members (keys sorted ascending) and the
 * whole population's size. A cohort of fewer than k users is withheld. So is one whose members
 * differ from another released cohort's, or from the whole population, by fewer than k people
 * (1..k-1): set against each other, the two would give away those few people's figures. Cohorts
 * are decided in the order given (oldest first), so a new cohort cannot withhold an older one;
 * the newer of two near-identical cohorts is the one withheld.
 *
 * Two cohorts differ by at least the difference of their sizes: only pairs whose sizes are
 * within k of each other are compared member by member.
 */
export function releasableCohorts(members: readonly (readonly string[])[], population: number, k: number): boolean[] {
  const released: boolean[] = [];
  members.forEach((cohort, index) => {
    const differsEnough = (difference: number) => difference === 0 || difference >= k;
    const ok =
      cohort.length >= k &&
      differsEnough(population - cohort.length) &&
      members.slice(0, index).every((other, otherIndex) => !released[otherIndex] || Math.abs(other.length - cohort.length) >= k || differsEnough(symmetricDifference(cohort, other)));
    released.push(ok);
  });
  return released;
}

function symmetricDifference(a: readonly string[], b: readonly string[]): number {
  let [i, j, difference] = [0, 0, 0];
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) [i, j] = [i + 1, j + 1];
    else if (a[i]! < b[j]!) [i, difference] = [i + 1, difference + 1];
    else [j, difference] = [j + 1, difference + 1];
  }
  return difference + (a.length - i) + (b.length - j);
}

export interface RetentionRow {
  /** The Monday (UTC) of the week the row's users were first seen. */
  readonly start: string;
  readonly users: number;
  /** Per week since `start` (week 0 first), the share of the row's users active that week; null where withheld. */
  readonly retained: readonly (number | null)[];
}

export interface Retention {
  readonly period: 'week';
  readonly rows: readonly RetentionRow[];
  /** One entry when anything was withheld; it names no row. */
  readonly suppressed: readonly { readonly reason: 'k_anonymity' }[];
}

const weekOf = (epochDay: number) => Math.floor((epochDay - FIRST_MONDAY) / WEEK_DAYS);
const mondayOf = (week: number) => new Date((week * WEEK_DAYS + FIRST_MONDAY) * DAY_MS).toISOString().slice(0, 10);

/**
 * Week-N retention of a cohort's users: a row per week of first activity (UTC, Monday), and per
 * week N since then that has ended by `now` (week 0 always), the share of the row's users with
 * any activity in week N, up to `periods` weeks.
 *
 * Release (the metric answers' policy, PRIVACY.md rules 1-2): the rows partition the cohort,
 * whose size is released, so a row of fewer than k users is withheld and so is the smallest
 * other row where one alone would be known by subtraction. Within a row, each week splits its
 * users into the active and the inactive: a share is shown only where neither side is a group
 * of 1..k-1 people (all active or none is a statement about all k or more, and is shown).
 */
export function retentionMatrix(subjects: readonly CohortSubject[], options: { readonly now: Date; readonly periods: number; readonly k: number }): Retention {
  const policy = releasePolicy({ k: options.k, approximateMargin: 0 });
  const lastEndedWeek = weekOf(Math.floor(options.now.getTime() / DAY_MS)) - 1;
  const byWeek = new Map<number, Set<number>[]>();
  for (const subject of subjects) {
    const week = weekOf(Math.floor(subject.firstAt / DAY_MS));
    const activeWeeks = new Set(subject.activeDays.map(weekOf));
    const row = byWeek.get(week);
    if (row) row.push(activeWeeks);
    else byWeek.set(week, [activeWeeks]);
  }
  const weeks = [...byWeek.keys()].sort((a, b) => a - b);
  const rowUsers = weeks.map((week) => byWeek.get(week)!.length);
  const rowReleased = policy.releasable(
    { users: [subjects.length, ...rowUsers], usersApprox: new Uint8Array(weeks.length + 1) },
    { parents: [0], starts: [0, weeks.length], children: weeks.map((_, i) => i + 1) },
  );
  let withheld = false;
  const rows: RetentionRow[] = [];
  weeks.forEach((week, row) => {
    if (rowReleased[row + 1] === 0) {
      withheld = true;
      return;
    }
    const members = byWeek.get(week)!;
    const columns = Math.max(1, Math.min(options.periods, lastEndedWeek - week + 1));
    const retained = Array.from({ length: columns }, (_, n) => {
      const active = members.filter((activeWeeks) => activeWeeks.has(week + n)).length;
      const sides = [active, members.length - active].filter((count) => count > 0);
      const shown = policy.releasable({ users: [members.length, ...sides], usersApprox: new Uint8Array(sides.length + 1) }, { parents: [0], starts: [0, sides.length], children: sides.map((_, i) => i + 1) });
      if (shown.subarray(1).every((flag) => flag === 1)) return active / members.length;
      withheld = true;
      return null;
    });
    rows.push({ start: mondayOf(week), users: members.length, retained });
  });
  return { period: 'week', rows, suppressed: withheld ? [{ reason: 'k_anonymity' }] : [] };
}
