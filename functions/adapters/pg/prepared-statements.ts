/** The statements `prepared` named, by their text. */
const names = new Map<string, string>();

/**
 * `text`, to be prepared by PostgreSQL once per connection under `name` and run by name after:
 * for the statements the aggregate runs on every batch, whose planning was a third of the rollup
 * upsert's database time (bench/aggregate-throughput.ts). Through RDS Proxy a named statement pins
 * the session to its database connection; only functions that hold one connection and keep it busy
 * run them (the aggregate, the roll-up, the history import). PGlite plans each time: it takes the
 * text alone.
 */
export function prepared(name: string, text: string): string {
  const held = [...names].find(([, heldName]) => heldName === name);
  if (held && held[0] !== text) throw new Error(`two statements are prepared as ${name}`);
  names.set(text, name);
  return text;
}

/** The name `text` is prepared under, if it was given one. */
export const preparedName = (text: string): string | undefined => names.get(text);
