import type { ArchetypePattern, PatternModel, SequencePattern, Suppressed } from '../behaviour/patterns';
import type { ModelVersionView, ReleasedPrediction } from '../behaviour/outcome-predictions';
import { INTERVENTION_TYPES } from '../events/schema';
import { calendarBounds, type CalendarUnit } from '../rollups/calendar';
import type { MetricAnswer } from '../rollups/metric-query';
import type { ReportCell, ReportPeriod, ReportSection } from './document';

/*
 * The therapeutic-outcome report's sections other than the assessments (outcome-sections.ts) and
 * the metric trends (metric-trends.ts): the period arithmetic it needs, interventions, cohorts,
 * patterns, predictions and the summary. Every figure comes from an answer that already passed the
 * API's release gate (GET /v1/metrics, /v1/cohorts, /v1/patterns, /v1/predictions); a figure the
 * gate left out is a withheld cell here, never a zero.
 */

const WITHHELD: ReportCell = { withheld: 'k_anonymity' };
const NOT_ENOUGH: ReportCell = { withheld: 'not_enough_data' };

export interface Bounds {
  /** Epoch ms, [from, to). */
  readonly from: number;
  readonly to: number;
}

/**
 * The calendar unit (month, week, day, coarsest first) the period is exactly one of in its zone,
 * or undefined (a month to date, a range asked for by hand). A whole period's figure is read as
 * one bucket of that unit: its suppression does not depend on the small days inside it.
 */
export function periodUnit(period: Bounds, timeZone: string): CalendarUnit | undefined {
  return (['month', 'week', 'day'] as const).find((unit) => {
    const bounds = calendarBounds(period.from, period.to, unit, timeZone);
    return bounds.length === 2 && bounds[0] === period.from && bounds[1] === period.to;
  });
}

/** The period before: the previous month, week or day for a period that is one, else as long again just before it. */
export function previousPeriod(period: Bounds, timeZone: string): Bounds {
  const unit = periodUnit(period, timeZone);
  if (!unit) return { from: period.from - (period.to - period.from), to: period.from };
  return { from: calendarBounds(period.from - 1, period.from, unit, timeZone)[0]!, to: period.from };
}

/** The group key of an answer's series: its dimension values in groupBy order. */
const keyOf = (answer: MetricAnswer, group: Readonly<Record<string, string>>) => answer.groupBy.map((dimension) => group[dimension]).join('\u0000');

/**
 * Each group's count over the whole answer. Where the gate withheld anything, a group missing a
 * bucket may have lost a withheld one, so its total is withheld rather than short; a group absent
 * altogether is withheld then, and had no events otherwise. Asked for as one bucket of the
 * period's unit, a released group has its one point and is exact.
 */
export function groupTotals(answer: MetricAnswer, buckets: number): (group: Readonly<Record<string, string>>) => ReportCell {
  const totals = new Map<string, ReportCell>();
  const withheld = answer.suppressed.length > 0;
  for (const { group, points } of answer.series) {
    const total = points.reduce((sum, point) => sum + point.count, 0);
    totals.set(keyOf(answer, group), withheld && points.length < buckets ? WITHHELD : total);
  }
  return (group) => totals.get(keyOf(answer, group)) ?? (withheld ? WITHHELD : 0);
}

const sumCells = (cells: readonly ReportCell[]): ReportCell => (cells.every((cell) => typeof cell === 'number') ? (cells as number[]).reduce((sum, cell) => sum + cell, 0) : WITHHELD);

/** done / of, where both are known and `of` is not zero. */
function share(done: ReportCell, of: ReportCell): ReportCell {
  if (typeof done !== 'number' || typeof of !== 'number') return WITHHELD;
  return of === 0 ? null : done / of;
}

const COMPLETIONS = ['completed', 'skipped', 'abandoned'] as const;

/**
 * Interventions by type: delivered, completed and the completion rate, this period beside the one
 * before, and the rated effectiveness this period. `current` and `previous` are `interventions`
 * answers grouped by interventionType and completion, `ratings` an `intervention.effectiveness`
 * answer grouped by interventionType, each over `buckets` buckets.
 */
/**
 * Each group's mean over the whole answer (a distribution's points weighted by their counts), and
 * the count it is the mean of; withheld where the gate may have taken part of it, as groupTotals.
 */
export function groupMeans(answer: MetricAnswer, buckets: number): (group: Readonly<Record<string, string>>) => { readonly mean: ReportCell; readonly count: ReportCell } {
  const means = new Map<string, { mean: ReportCell; count: ReportCell }>();
  const withheld = answer.suppressed.length > 0;
  for (const { group, points } of answer.series) {
    const count = points.reduce((sum, point) => sum + point.count, 0);
    const sum = points.reduce((total, point) => total + (point.sum ?? (point.mean ?? 0) * point.count), 0);
    means.set(keyOf(answer, group), withheld && points.length < buckets ? { mean: WITHHELD, count: WITHHELD } : { mean: count === 0 ? null : sum / count, count });
  }
  return (group) => means.get(keyOf(answer, group)) ?? (withheld ? { mean: WITHHELD, count: WITHHELD } : { mean: null, count: 0 });
}

export function interventionSection(
  current: { readonly answer: MetricAnswer; readonly buckets: number },
  previous: { readonly answer: MetricAnswer; readonly buckets: number },
  ratings: { readonly answer: MetricAnswer; readonly buckets: number },
): ReportSection {
  const rated = groupMeans(ratings.answer, ratings.buckets);
  const nowTotals = groupTotals(current.answer, current.buckets);
  const beforeTotals = groupTotals(previous.answer, previous.buckets);
  const rows = INTERVENTION_TYPES.map((interventionType): ReportCell[] => {
    const cells = (totals: typeof nowTotals) => COMPLETIONS.map((completion) => totals({ interventionType, completion }));
    const now = cells(nowTotals);
    const before = cells(beforeTotals);
    const delivered = sumCells(now);
    const rate = share(now[0]!, delivered);
    const previousRate = share(before[0]!, sumCells(before));
    const rating = rated({ interventionType });
    return [
      interventionType.replace(/_/g, ' '),
      delivered,
      now[0]!,
      rate,
      previousRate,
      typeof rate === 'number' && typeof previousRate === 'number' ? rate - previousRate : rate === null || previousRate === null ? null : WITHHELD,
      rating.count,
      rating.mean,
    ];
  });
  return {
    id: 'interventions',
    heading: 'Interventions',
    blocks: [
      {
        kind: 'paragraph',
        text: 'Interventions delivered in the period by type, the share the user completed (the others were skipped or abandoned), and the effectiveness users rated them, from 1 (not at all) to 5 (very), where they gave a rating.',
      },
      {
        kind: 'table',
        caption: 'Intervention completion by type, this period and the one before',
        columns: [
          { label: 'Intervention', format: 'text' },
          { label: 'Delivered', format: 'integer', unit: 'interventions' },
          { label: 'Completed', format: 'integer', unit: 'interventions' },
          { label: 'Completion rate', format: 'percent' },
          { label: 'Completion rate, previous period', format: 'percent' },
          { label: 'Change in the rate', format: 'percent' },
          { label: 'Rated', format: 'integer', unit: 'ratings' },
          { label: 'Rated effectiveness', format: 'decimal', unit: 'mean, 1 to 5' },
        ],
        rows,
      },
    ],
  };
}

export interface CohortSize {
  readonly name: string;
  /** Null where GET /v1/cohorts withholds it. */
  readonly users: number | null;
}

/** Stored cohorts and their sizes now, as GET /v1/cohorts lists them. */
export function cohortSection(cohorts: readonly CohortSize[]): ReportSection {
  if (cohorts.length === 0) return { id: 'cohorts', heading: 'Cohorts', blocks: [{ kind: 'paragraph', text: 'No cohort is defined.' }] };
  return {
    id: 'cohorts',
    heading: 'Cohorts',
    blocks: [
      {
        kind: 'table',
        caption: 'Stored cohorts and their members now',
        columns: [
          { label: 'Cohort', format: 'text' },
          { label: 'Users', format: 'integer', unit: 'people' },
        ],
        rows: cohorts.map((cohort) => [cohort.name, cohort.users ?? WITHHELD]),
      },
    ],
  };
}

export type ReleasedPatterns = PatternModel & { readonly suppressed: readonly Suppressed[] };

/**
 * The newest fit's archetypes and drop-out sequences as GET /v1/patterns releases them; a pattern
 * it withholds is a row of withheld cells under its kind alone (its name is left out, as the API
 * leaves it out).
 */
export function patternSection(released: ReleasedPatterns | null, stored: PatternModel | null): ReportSection {
  if (!released || released.model.k === 0) {
    return { id: 'patterns', heading: 'Behaviour patterns', blocks: [{ kind: 'paragraph', text: 'Not enough data: no archetypes have been fitted yet (the nightly model run needs users with two whole weeks).' }] };
  }
  const kindOf = new Map(stored?.patterns.map((pattern) => [pattern.id, pattern.kind]));
  const archetypes = released.patterns.filter((pattern): pattern is ArchetypePattern => pattern.kind === 'archetype');
  const sequences = released.patterns.filter((pattern): pattern is SequencePattern => pattern.kind === 'sequence');
  const withheldOf = (kind: string, width: number) =>
    released.suppressed.filter((entry) => kindOf.get(entry.group.pattern) === kind).map((): ReportCell[] => [`${kind} withheld`, ...Array<ReportCell>(width).fill(WITHHELD)]);
  const { model } = released;
  return {
    id: 'patterns',
    heading: 'Behaviour patterns',
    blocks: [
      {
        kind: 'paragraph',
        text: `From the model fitted ${model.trainedAt.slice(0, 10)} on ${model.users} users: ${model.k} archetypes${model.silhouette === null ? '' : ` (mean silhouette ${model.silhouette.toFixed(2)})`}, and the runs of events that precede a drop-out (no session for two weeks).`,
      },
      {
        kind: 'table',
        caption: 'Engagement archetypes',
        columns: [
          { label: 'Archetype', format: 'text' },
          { label: 'Users', format: 'integer', unit: 'people' },
          { label: 'Share', format: 'percent' },
          { label: 'Confidence', format: 'decimal' },
          { label: 'Sessions a week', format: 'decimal' },
          { label: 'Completion rate', format: 'percent' },
        ],
        rows: [
          ...archetypes.map((pattern): ReportCell[] => [pattern.name, pattern.users, pattern.share, pattern.confidence, pattern.profile.sessionsPerWeek, pattern.profile.completionRate]),
          ...withheldOf('archetype', 5),
        ],
      },
      {
        kind: 'table',
        caption: 'Sequences that precede a drop-out',
        columns: [
          { label: 'Sequence', format: 'text' },
          { label: 'Users', format: 'integer', unit: 'people' },
          { label: 'Support', format: 'percent' },
          { label: 'Dropped out', format: 'percent' },
          { label: 'Lift', format: 'decimal' },
        ],
        rows: [...sequences.map((pattern): ReportCell[] => [pattern.steps.join(' → '), pattern.users, pattern.support, pattern.confidence, pattern.lift]), ...withheldOf('sequence', 4)],
      },
    ],
  };
}

export interface ReleasedPredictions {
  readonly model: ModelVersionView | null;
  readonly predictions: readonly ReleasedPrediction[];
  readonly suppressed: readonly { readonly group: { readonly cohort: string } }[];
}

/** The newest outcome model's quality and its cohorts' predictions, as GET /v1/predictions releases them. */
export function predictionSection(released: ReleasedPredictions, cohortNames: ReadonlyMap<string, string>): ReportSection {
  const { model } = released;
  if (!model) {
    return { id: 'predictions', heading: 'Outcome predictions', blocks: [{ kind: 'paragraph', text: 'Not enough data: no outcome model has been trained yet (it needs users whose eight weeks have passed).' }] };
  }
  const nameOf = (cohort: string) => (cohort === 'all' ? 'All users' : (cohortNames.get(cohort) ?? cohort));
  const { quality } = model;
  return {
    id: 'predictions',
    heading: 'Outcome predictions',
    blocks: [
      {
        kind: 'paragraph',
        text: `Reliable improvement on PHQ-9 by week 8, predicted from a user's first two weeks by the model trained ${model.trainedAt.slice(0, 10)} (version ${model.version}). "Observed" is the rate among the users whose eight weeks have passed.`,
      },
      {
        kind: 'table',
        caption: 'Model quality on the users held out from training',
        columns: [
          { label: 'Measure', format: 'text' },
          { label: 'Value', format: 'decimal' },
        ],
        rows: [
          ['Accuracy', quality.accuracy],
          ['AUC', quality.auc],
          ['Brier score', quality.brier],
          ['Users tested on', quality.testedOn],
          ['Live accuracy', model.live ? model.live.accuracy : NOT_ENOUGH],
        ],
      },
      {
        kind: 'table',
        caption: 'Predicted and observed reliable improvement by cohort',
        columns: [
          { label: 'Cohort', format: 'text' },
          { label: 'Users', format: 'integer', unit: 'people' },
          { label: 'Predicted', format: 'percent' },
          { label: 'Predicted, 95 % low', format: 'percent' },
          { label: 'Predicted, 95 % high', format: 'percent' },
          { label: 'Observed', format: 'percent' },
          { label: 'Outcomes known', format: 'integer', unit: 'people' },
        ],
        rows: [
          ...released.predictions.map((row): ReportCell[] => [
            nameOf(row.cohort),
            row.users,
            row.probability,
            row.ci95[0],
            row.ci95[1],
            // The API gives no observed rate while fewer than k outcomes are known (none, or a few people's).
            row.outcomesKnown === 0 ? NOT_ENOUGH : row.actual,
            row.outcomesKnown === 0 ? NOT_ENOUGH : row.outcomesKnown,
          ]),
          ...released.suppressed.map((entry): ReportCell[] => [nameOf(entry.group.cohort), ...Array<ReportCell>(6).fill(WITHHELD)]),
        ],
      },
    ],
  };
}

export interface OutcomeSummary {
  readonly period: ReportPeriod;
  /** Whole-period totals: sessions, completed sessions, distinct active users (withheld or unknown as cells). */
  readonly sessions: ReportCell;
  readonly completedSessions: ReportCell;
  readonly activeUsers: ReportCell;
  readonly baseline: Bounds | undefined;
  /** Why the baseline could not be compared, when it was given and could not. */
  readonly baselineProblem?: string;
  readonly k: number;
}

const dateOf = (epochMs: number) => new Date(epochMs).toISOString();

/** The short summary at the top: the period's totals and what the comparisons are against. */
export function summarySection(summary: OutcomeSummary): ReportSection {
  const { baseline } = summary;
  const against = !baseline
    ? 'No baseline period was given, so the changes against a baseline are left empty.'
    : summary.baselineProblem
      ? `The baseline period (${dateOf(baseline.from)} to ${dateOf(baseline.to)}) could not be compared: ${summary.baselineProblem}`
      : `Changes against the baseline compare with ${dateOf(baseline.from)} to ${dateOf(baseline.to)}.`;
  return {
    id: 'summary',
    heading: 'Summary',
    blocks: [
      {
        kind: 'paragraph',
        text: `Therapeutic outcomes for ${summary.period.label} in ${summary.period.timeZone}. Figures about fewer than ${summary.k} people are withheld. ${against}`,
      },
      {
        kind: 'table',
        caption: 'The period at a glance',
        columns: [
          { label: 'Figure', format: 'text' },
          { label: 'Value', format: 'integer' },
        ],
        rows: [
          ['Sessions started', summary.sessions],
          ['Sessions completed', summary.completedSessions],
          ['Active users', summary.activeUsers],
        ],
      },
    ],
  };
}
