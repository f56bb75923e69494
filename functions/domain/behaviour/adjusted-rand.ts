/** Pairs among n: n choose 2. */
const pairs = (n: number) => (n * (n - 1)) / 2;

/**
 * The adjusted Rand index of two labellings of the same items (Hubert and Arabie 1985): 1 for the
 * same partition whatever the label names, about 0 for labellings no more alike than chance.
 */
export function adjustedRandIndex(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  if (a.length !== b.length) throw new RangeError(`labellings differ in length: ${a.length} and ${b.length}`);
  const cells = new Map<string, number>();
  const rows = new Map<string | number, number>();
  const columns = new Map<string | number, number>();
  a.forEach((label, i) => {
    const key = JSON.stringify([label, b[i]]);
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rows.set(label, (rows.get(label) ?? 0) + 1);
    columns.set(b[i]!, (columns.get(b[i]!) ?? 0) + 1);
  });
  const sumPairs = (counts: Iterable<number>) => [...counts].reduce((sum, count) => sum + pairs(count), 0);
  const index = sumPairs(cells.values());
  const [rowPairs, columnPairs] = [sumPairs(rows.values()), sumPairs(columns.values())];
  const expected = (rowPairs * columnPairs) / pairs(a.length);
  const maximum = (rowPairs + columnPairs) / 2;
  // Both labellings one cluster (or every item alone): they agree and chance agrees as much.
  return maximum === expected ? 1 : (index - expected) / (maximum - expected);
}
