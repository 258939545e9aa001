/**
 * Everything live that must not outlive the tool (a cluster, a scratch
 * database, a temp dir, a half-written output) registers here. Owners
 * release their resource in `finally`; the CLI's signal handler calls
 * disposeAll() for whatever is still registered. Each dispose is idempotent.
 */

export interface Disposable {
  /** Shown with --debug only. */
  readonly label: string;
  dispose(): Promise<void>;
}

const live = new Set<Disposable>();
/** Disposals under way, so that a second disposeAll (a signal while the run ends) waits for them too. */
const inFlight = new Set<Promise<void>>();
let closing = false;

/** True while disposeAll() runs (the run is ending, e.g. on a signal): start no new work. */
export function stopping(): boolean {
  return closing;
}

export function track<T extends Disposable>(d: T): T {
  live.add(d);
  return d;
}

export function untrack(d: Disposable): void {
  live.delete(d);
}

/**
 * Dispose everything still live, newest first. Never throws. Work still in
 * flight (another backup loading, on a signal) may register more while this
 * runs: that is disposed too, until nothing is left. Disposals another call
 * has started are waited for.
 */
export async function disposeAll(log: (msg: string) => void = () => {}): Promise<void> {
  closing = true;
  try {
    while (live.size) {
      const all = [...live].reverse();
      live.clear();
      for (const d of all) {
        const p = d.dispose();
        inFlight.add(p);
        try {
          await p;
        } catch (e) {
          log(`cleanup of ${d.label} failed: ${(e as Error).message}`);
        } finally {
          inFlight.delete(p);
        }
      }
    }
    // What another call took from the set before this one began: done before this returns (and the process exits).
    await Promise.allSettled([...inFlight]);
  } finally {
    closing = false;
  }
}

export function liveCount(): number {
  return live.size;
}

/**
 * Wrap a one-shot async cleanup so calling it twice is harmless. While it
 * runs, disposeAll waits for it: a run ending from outside (a signal, a
 * closed output) while an owner is already removing its server must not
 * exit halfway through that removal.
 */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    if (!p) {
      const running = fn();
      p = running;
      inFlight.add(running);
      running.then(
        () => inFlight.delete(running),
        () => inFlight.delete(running),
      );
    }
    return p;
  };
}

/**
 * A named point in a run: engine-started, loading, querying, writing.
 * With RECOVER_TEXTS_PAUSE_AT=<name> the run stops there until it is
 * signalled; the interruption tests use it to hit each stage for certain.
 */
export async function checkpoint(name: string): Promise<void> {
  if (process.env.RECOVER_TEXTS_PAUSE_AT !== name) return;
  process.stderr.write(`recover-texts: paused at ${name}\n`);
  // Until a signal ends the process. The timer keeps Node's event loop open: with nothing else
  // pending (a container's sockets are unref'd), a bare never-settling promise would let it exit 0.
  await new Promise(() => setInterval(() => {}, 60_000));
}

/** Is process `pid` alive (EPERM: alive, but another user's)? For finding what killed runs left behind. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
