/**
 * Run `fn` over `items`, `width` at a time; results in input order. The first error stops new work
 * and is thrown when the running ones end; so does `signal` (the run ending), leaving slots empty.
 */
export async function pool<I, R>(items: readonly I[], width: number, signal: AbortSignal | undefined, fn: (item: I, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let firstError: { e: unknown } | undefined;
  const worker = async () => {
    // On a signal, whatever runs is being disposed of: start nothing new.
    while (!firstError && !signal?.aborted && next < items.length) {
      const k = next++;
      try {
        results[k] = await fn(items[k]!, k);
      } catch (e) {
        firstError ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (firstError) throw firstError.e;
  return results;
}
