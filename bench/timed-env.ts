/**
 * The environment of the processes the benchmarks time. NODE_EXTRA_CA_CERTS
 * makes every node process read that certificate bundle before any of its
 * code runs (about 95 ms on the development machine, which sets it): a cost
 * of the machine, not of what is measured, and nothing timed makes a TLS
 * connection. It is left out for every timed process alike, the tool's and
 * the floors'; BENCH_KEEP_ENV=1 keeps it.
 */
export const TIMED_ENV: NodeJS.ProcessEnv = { ...process.env };

/** What was left out, for the table's heading. */
export const DROPPED_ENV: readonly string[] = process.env.BENCH_KEEP_ENV ? [] : ['NODE_EXTRA_CA_CERTS'].filter((k) => k in TIMED_ENV);
for (const k of DROPPED_ENV) delete TIMED_ENV[k];

/** "(timed without X; BENCH_KEEP_ENV=1 keeps it)", or nothing. */
export function droppedEnvNote(): string {
  return DROPPED_ENV.length ? ` (timed without ${DROPPED_ENV.join(', ')}; BENCH_KEEP_ENV=1 keeps it)` : '';
}
