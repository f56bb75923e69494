import { z } from 'zod';
import { METRICS } from '../rollups/catalogue';
import { SUPPRESSION_REASONS } from '../privacy/research-release';
import type { ReportCell, ReportSection, Withheld } from './document';

/*
 * The research report as a report document (issue 17): the release a research run carries, drawn
 * and paid for from the privacy ledger when the report was asked for, laid out as tables of its
 * figures (count, sum, mean) with each one's noise and 95 % interval. Nothing here draws noise or
 * spends budget: rendering the same run again shows the same figures.
 */

const interval = z.object({ lower: z.number(), upper: z.number() });
const figure = z.object({
  value: z.number(),
  standardDeviation: z.number(),
  interval,
  noise: z.union([z.object({ distribution: z.literal('discrete_laplace'), scale: z.number() }), z.object({ distribution: z.literal('discrete_gaussian'), sigma: z.number() })]).optional(),
});
const suppression = z.object({ reason: z.enum(SUPPRESSION_REASONS), figure: z.literal('mean').optional(), message: z.string() });

/**
 * What the report reads of a run's release (the `ReportLine`s of research-release.ts, which fit
 * it), checked: the run keeps it as JSON.
 */
export const researchReleaseSchema = z.array(
  z.union([
    z.object({
      metric: z.string(),
      release: z.object({
        count: figure,
        sum: figure.optional(),
        mean: figure.optional(),
        suppressed: z.array(suppression),
        spent: z.object({ epsilon: z.number(), delta: z.number() }),
        bounds: z.object({ lower: z.number(), upper: z.number() }),
      }),
    }),
    z.object({ metric: z.string(), suppressed: suppression }),
  ]),
);
export type ResearchLine = z.infer<typeof researchReleaseSchema>[number];

/** The request's privacy parameters, as the run keeps them (POST /v1/reports' body less its kind). */
export const researchParametersSchema = z.object({
  epsilon: z.number().positive(),
  mechanism: z.enum(['laplace', 'gaussian']),
  delta: z.number().positive().optional(),
  maxContributionsPerUser: z.number().int().positive(),
});
export type ResearchParameters = z.infer<typeof researchParametersSchema>;

type Figure = z.infer<typeof figure>;
type Suppression = z.infer<typeof suppression>;

const withheldAs = (reason: Suppression['reason']): Withheld => ({ withheld: reason === 'k_anonymity' ? 'k_anonymity' : 'not_enough_data' });

const unitOf = (metric: string) => METRICS.find((each) => each.name === metric)?.unit ?? '';
const isDistribution = (metric: string) => METRICS.find((each) => each.name === metric)?.kind === 'distribution';

// Greek letters are spelled out: the PDF's Helvetica has no glyph for them (helvetica-text.ts).
const MECHANISM_TEXT = { laplace: 'the Laplace mechanism (discrete Laplace noise on counts, Laplace noise on a grid for sums)', gaussian: 'the Gaussian mechanism (discrete Gaussian noise on counts, Gaussian noise on a grid for sums)' } as const;

function noiseText(noise: Figure['noise']): string | null {
  if (!noise) return null;
  return noise.distribution === 'discrete_laplace' ? `discrete Laplace, scale ${noise.scale.toPrecision(3)}` : `discrete Gaussian, sigma ${noise.sigma.toPrecision(3)}`;
}

/** A privacy cost as text to three significant figures: a share of a small ε is below what two decimals show. */
const significant = (value: number) => String(Number(value.toPrecision(3)));

const FIGURE_COLUMNS = [
  { label: 'Standard deviation of the noise', format: 'decimal' },
  { label: '95 % interval, low', format: 'decimal' },
  { label: '95 % interval, high', format: 'decimal' },
] as const;

/** A figure's cells (value, its noise's standard deviation, its interval), or each withheld. */
function figureCells(value: Figure | undefined, withheld: Suppression | undefined): ReportCell[] {
  if (withheld) return Array.from({ length: 4 }, () => withheldAs(withheld.reason));
  if (!value) return [null, null, null, null];
  return [value.value, value.standardDeviation, value.interval.lower, value.interval.upper];
}

function figureTable(lines: readonly ResearchLine[], which: 'count' | 'sum' | 'mean', caption: string): ReportSection['blocks'][number] {
  const rows = lines
    .filter((line) => which === 'count' || isDistribution(line.metric))
    .map((line): ReportCell[] => {
      const label = `${line.metric} (${which === 'count' && isDistribution(line.metric) ? 'values' : unitOf(line.metric)})`;
      if (!('release' in line)) return [label, ...figureCells(undefined, line.suppressed), line.suppressed.message];
      // A released line withholds at most its mean (research-release.ts).
      const withheld = which === 'mean' ? line.release.suppressed.find((each) => each.figure === 'mean') : undefined;
      return [label, ...figureCells(line.release[which], withheld), withheld?.message ?? null];
    });
  return {
    kind: 'table',
    caption,
    columns: [{ label: 'Metric', format: 'text' }, { label: 'Released value', format: 'decimal' }, ...FIGURE_COLUMNS, { label: 'Withheld because', format: 'text' }],
    rows,
  };
}

/**
 * The research report's sections: how the figures were released (ε, δ, the mechanism, the
 * contribution bound, and what each metric spent), then a table per figure. A line withheld whole
 * shows withheld cells with its reason in every table it belongs to; a mean the noisy count cannot
 * carry shows as not enough data.
 */
export function researchSections(lines: readonly ResearchLine[], parameters: ResearchParameters): ReportSection[] {
  const released = lines.filter((line) => 'release' in line);
  const delta = parameters.mechanism === 'gaussian' ? (parameters.delta ?? 0) : 0;
  const spentRows = lines.map((line): ReportCell[] =>
    'release' in line
      ? [line.metric, significant(line.release.spent.epsilon), significant(line.release.spent.delta), noiseText(line.release.count.noise), noiseText(line.release.sum?.noise), `${line.release.bounds.lower} to ${line.release.bounds.upper}`]
      : [line.metric, '0', '0', null, null, null],
  );
  return [
    {
      id: 'release',
      heading: 'How the figures were released',
      blocks: [
        {
          kind: 'paragraph',
          text:
            `Each figure is a differentially private release from the research dataset (events of users who gave research consent), drawn once when the report was asked for and paid for then from the privacy budget: ` +
            `epsilon = ${parameters.epsilon}, delta = ${delta}, with ${MECHANISM_TEXT[parameters.mechanism]}. ` +
            `Epsilon and delta are shared evenly among the ${released.length} metrics released, and a distribution's share is split again between its count and its sum; a withheld metric spent nothing. ` +
            `Each user's values are bounded to ${parameters.maxContributionsPerUser} per metric over the period, and each value is clamped to the metric's range before the noise. ` +
            `Each 95 % interval holds the true figure with probability at least 95 % (a mean's from its count's and sum's intervals together).`,
        },
        {
          kind: 'table',
          caption: 'What each metric spent, and its noise',
          columns: [
            { label: 'Metric', format: 'text' },
            { label: 'Epsilon spent', format: 'text' },
            { label: 'Delta spent', format: 'text' },
            { label: 'Noise on the count', format: 'text' },
            { label: 'Noise on the sum', format: 'text' },
            { label: 'Values clamped to', format: 'text' },
          ],
          rows: spentRows,
        },
      ],
    },
    { id: 'counts', heading: 'Counts', blocks: [figureTable(lines, 'count', 'Values counted per metric, with noise')] },
    { id: 'sums', heading: 'Sums', blocks: [figureTable(lines, 'sum', 'Sums of the clamped values of each distribution, with noise')] },
    { id: 'means', heading: 'Means', blocks: [figureTable(lines, 'mean', 'Means of each distribution (noisy sum over noisy count)')] },
  ];
}
