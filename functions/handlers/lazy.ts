/**
 * Builds a handler on its first invocation and keeps it for the life of the execution
 * environment: cold-start wiring that may await (secrets, migrations) without top-level await.
 * A failed build is retried on the next invocation instead of poisoning the environment.
 */
export function lazyHandler<Event, Context, Result>(build: () => Promise<(event: Event, context: Context) => Promise<Result>>) {
  let built: Promise<(event: Event, context: Context) => Promise<Result>> | undefined;
  return async (event: Event, context: Context): Promise<Result> => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return (await built)(event, context);
  };
}
