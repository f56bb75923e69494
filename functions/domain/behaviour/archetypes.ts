import { kmeans } from 'ml-kmeans';
import { mulberry32 } from '../demo/synthetic-traffic';
import { PROFILE_FEATURES, type ActivityProfile } from './pattern-features';

/*
 * Engagement archetypes: k-means (ml-kmeans, k-means++ from a fixed seed) on standardised
 * activity profiles, k chosen by the mean silhouette on a seeded sample (exact silhouettes cost
 * n² distances), then every user assigned from the sample's centres refined on all of them.
 */

export interface ArchetypeOptions {
  readonly seed: number;
  /** Largest k tried (from 2). */
  readonly maxK: number;
  /** Users the silhouettes are computed on; more are sampled down to this. */
  readonly sampleSize: number;
}

export const ARCHETYPE_DEFAULTS: ArchetypeOptions = { seed: 16, maxK: 8, sampleSize: 2_000 };

export interface Archetype {
  readonly name: string;
  readonly users: number;
  readonly share: number;
  /** Mean simplified silhouette of its members: 1 is at its centre, 0 halfway to the next. */
  readonly confidence: number;
  /** The cluster's centre in the features' own units. */
  readonly profile: ActivityProfile;
}

export interface ArchetypeFit {
  readonly k: number;
  /** Mean silhouette of the sample at the chosen k. */
  readonly silhouette: number;
  readonly archetypes: readonly Archetype[];
  /** Per input profile, the index of its archetype. */
  readonly assignments: readonly number[];
}

type Vector = readonly number[];

const squaredDistance = (a: Vector, b: Vector) => a.reduce((sum, value, i) => sum + (value - b[i]!) ** 2, 0);
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * The mean silhouette of points labelled into clusters (Rousseeuw 1987): per point, a = mean
 * distance to the others of its cluster, b = the least mean distance to another cluster,
 * s = (b - a) / max(a, b), and 0 for a point alone in its cluster.
 */
export function silhouette(points: readonly Vector[], labels: readonly number[]): number {
  const k = Math.max(...labels) + 1;
  const sizes = Array.from({ length: k }, () => 0);
  for (const label of labels) sizes[label]! += 1;
  const scores = points.map((point, i) => {
    const totals = Array.from({ length: k }, () => 0);
    points.forEach((other, j) => {
      if (i !== j) totals[labels[j]!]! += Math.sqrt(squaredDistance(point, other));
    });
    const own = labels[i]!;
    if (sizes[own]! < 2) return 0;
    const a = totals[own]! / (sizes[own]! - 1);
    const b = Math.min(...totals.flatMap((total, c) => (c === own || sizes[c] === 0 ? [] : [total / sizes[c]!])));
    return Math.max(a, b) === 0 ? 0 : (b - a) / Math.max(a, b);
  });
  return mean(scores);
}

/** Columns scaled to mean 0 and standard deviation 1 (a constant column stays 0). */
function standardiser(rows: readonly Vector[]) {
  const columns = rows[0]!.length;
  const means = Array.from({ length: columns }, (_, c) => mean(rows.map((row) => row[c]!)));
  const sds = means.map((m, c) => Math.sqrt(mean(rows.map((row) => (row[c]! - m) ** 2))) || 1);
  return { means, sds, scale: (row: Vector) => row.map((value, c) => (value - means[c]!) / sds[c]!), unscale: (row: Vector) => row.map((value, c) => value * sds[c]! + means[c]!) };
}

function seededSample<T>(items: readonly T[], size: number, seed: number): T[] {
  if (items.length <= size) return [...items];
  const random = mulberry32(seed);
  const picked = [...items];
  // A partial Fisher-Yates shuffle: the first `size` are a uniform sample.
  for (let i = 0; i < size; i += 1) {
    const j = i + Math.floor(random() * (picked.length - i));
    [picked[i], picked[j]] = [picked[j]!, picked[i]!];
  }
  return picked.slice(0, size);
}

/** Restarts of k-means++ per k: one unlucky start can merge two clusters and split another. */
const RESTARTS = 4;

function bestOfRestarts(points: number[][], k: number, seed: number) {
  let best: { clusters: number[]; centroids: number[][]; inertia: number } | undefined;
  for (let restart = 0; restart < RESTARTS; restart += 1) {
    const result = kmeans(points, k, { initialization: 'kmeans++', seed: seed + restart * 7_919 });
    const inertia = points.reduce((sum, point, i) => sum + squaredDistance(point, result.centroids[result.clusters[i]!]!), 0);
    if (!best || inertia < best.inertia) best = { clusters: result.clusters, centroids: result.centroids, inertia };
  }
  return best!;
}

/** A weekly change of sessions this large against the centre's own level is a trend, not noise. */
const TREND_SHARE = 0.08;

/**
 * A centre's name from its profile, the first rule that holds: sessions falling (or rising) by a
 * share of its own level each week, weekly swings as large as its level, or completion clearly
 * below the population's (in its standard deviations: completion has no absolute norm).
 */
function nameOf(centre: ActivityProfile, stats: { means: readonly number[]; sds: readonly number[] }): string {
  const level = Math.max(centre.sessionsPerWeek, 1e-9);
  const completion = PROFILE_FEATURES.indexOf('completionRate');
  if (centre.sessionsPerWeekTrend <= -TREND_SHARE * level) return 'fading';
  if (centre.sessionsPerWeekTrend >= TREND_SHARE * level) return 'late_starter';
  if (centre.weeklyVariability >= level) return 'bursty';
  if ((centre.completionRate - stats.means[completion]!) / stats.sds[completion]! <= -0.75) return 'crisis_prone';
  return 'steady';
}

/** Names made unique in order of size: a second "steady" is "steady_2". */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}_${count}`;
  });
}

export function fitArchetypes(profiles: readonly ActivityProfile[], options: ArchetypeOptions = ARCHETYPE_DEFAULTS): ArchetypeFit | null {
  if (profiles.length < 3) return null;
  const rows = profiles.map((profile) => PROFILE_FEATURES.map((feature) => profile[feature]));
  const stats = standardiser(rows);
  const points = rows.map(stats.scale);
  const sample = seededSample(points, options.sampleSize, options.seed);
  let chosen: { k: number; silhouette: number; centroids: number[][] } | undefined;
  for (let k = 2; k <= Math.min(options.maxK, sample.length - 1); k += 1) {
    const fit = bestOfRestarts(sample, k, options.seed);
    const score = silhouette(sample, fit.clusters);
    if (!chosen || score > chosen.silhouette) chosen = { k, silhouette: score, centroids: fit.centroids };
  }
  if (!chosen) return null;
  const { clusters, centroids } = kmeans(points, chosen.k, { initialization: chosen.centroids });
  const confidence = Array.from({ length: chosen.k }, () => [] as number[]);
  points.forEach((point, i) => {
    const distances = centroids.map((centre) => Math.sqrt(squaredDistance(point, centre)));
    const own = distances[clusters[i]!]!;
    const next = Math.min(...distances.filter((_, c) => c !== clusters[i]));
    confidence[clusters[i]!]!.push(Math.max(own, next) === 0 ? 0 : (next - own) / Math.max(own, next));
  });
  const order = centroids.map((_, c) => c).filter((c) => confidence[c]!.length > 0).sort((a, b) => confidence[b]!.length - confidence[a]!.length || a - b);
  const centres = order.map((c) => {
    const centre = stats.unscale(centroids[c]!);
    return Object.fromEntries(PROFILE_FEATURES.map((feature, f) => [feature, centre[f]!])) as unknown as ActivityProfile;
  });
  const names = uniqueNames(centres.map((centre) => nameOf(centre, stats)));
  const archetypes = order.map((c, i): Archetype => ({
    name: names[i]!,
    users: confidence[c]!.length,
    share: confidence[c]!.length / profiles.length,
    confidence: mean(confidence[c]!),
    profile: centres[i]!,
  }));
  const position = new Map(order.map((c, i) => [c, i]));
  return { k: archetypes.length, silhouette: chosen.silhouette, archetypes, assignments: clusters.map((c) => position.get(c)!) };
}
