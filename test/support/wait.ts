/**
 * Asks `probe` again until `done` holds for its answer, and answers that: for states a runtime
 * reaches by itself (a restart, a recovery) at a time no test should assume. Gives up after
 * `attempts` (at `everyMs` apart) with the last answer in the message.
 */
export async function waitFor<T>(probe: () => Promise<T>, done: (answer: T) => boolean, { attempts = 150, everyMs = 200 } = {}): Promise<T> {
  let last: T | undefined;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`the awaited state never came; last answer: ${JSON.stringify(last)}`);
}
