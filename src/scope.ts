/**
 * One run's scope: everything live that must not outlive it (a cluster, a
 * container, a scratch database, a temp dir, a half-written output) and
 * whether it is ending. The CLI makes one per run and hands it down; owners
 * register what they start and release it in `finally`; when the run is
 * ended from outside (a signal, a closed output), end() aborts `signal`, so
 * no new work starts, and disposes whatever is still registered. Nothing
 * here is shared between runs: each scope is its own.
 */

/** Something a scope removes when the run ends before its owner could. */
export interface Resource {
  /** Shown with --debug only. */
  readonly label: string;
  dispose(): Promise<void>;
}

export interface ScopeOptions {
  /**
   * Pause at this checkpoint until the process is signalled (see checkpoint()):
   * the interruption tests use it to hit each stage for certain.
   */
  pauseAt?: string;
}

export class Scope implements AsyncDisposable {
  readonly #live = new Set<Resource>();
  /** Disposals under way, so that a second end() (a signal while the run ends) waits for them too. */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #ending = new AbortController();
  readonly #pauseAt: string | undefined;

  constructor(options: ScopeOptions = {}) {
    this.#pauseAt = options.pauseAt || undefined;
  }

  /** Aborted once the run is ending: start no new work. */
  get signal(): AbortSignal {
    return this.#ending.signal;
  }

  /** Resources still registered (for tests and --debug). */
  get liveCount(): number {
    return this.#live.size;
  }

  track<T extends Resource>(r: T): T {
    this.#live.add(r);
    return r;
  }

  untrack(r: Resource): void {
    this.#live.delete(r);
  }

  /**
   * Wrap a one-shot async cleanup so calling it twice is harmless. While it
   * runs, end() waits for it: a run ending from outside (a signal, a closed
   * output) while an owner is already removing its server must not exit
   * halfway through that removal.
   */
  once(fn: () => Promise<void>): () => Promise<void> {
    let p: Promise<void> | undefined;
    return () => {
      if (!p) {
        const running = fn();
        p = running;
        this.#inFlight.add(running);
        const done = () => this.#inFlight.delete(running);
        running.then(done, done);
      }
      return p;
    };
  }

  /**
   * End the run: abort `signal`, then dispose everything still live, newest
   * first. Never throws. Work still in flight (another backup loading, on a
   * signal) may register more while this runs: that is disposed too, until
   * nothing is left. Disposals already started elsewhere are waited for.
   */
  async end(log: (msg: string) => void = () => {}): Promise<void> {
    this.#ending.abort();
    while (this.#live.size) {
      const all = [...this.#live].reverse();
      this.#live.clear();
      for (const r of all) {
        const p = r.dispose();
        this.#inFlight.add(p);
        try {
          await p;
        } catch (e) {
          log(`cleanup of ${r.label} failed: ${(e as Error).message}`);
        } finally {
          this.#inFlight.delete(p);
        }
      }
    }
    // What another call took from the set before this one began: done before this returns (and the process exits).
    await Promise.allSettled([...this.#inFlight]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.end();
  }

  /**
   * A named point in a run: engine-started, loading, querying, writing. When
   * the scope was made to pause there, the run stops until it is signalled.
   */
  async checkpoint(name: string): Promise<void> {
    if (this.#pauseAt !== name) return;
    process.stderr.write(`recover-texts: paused at ${name}\n`);
    // Until a signal ends the process. The timer keeps Node's event loop open: with nothing else
    // pending (a container's sockets are unref'd), a bare never-settling promise would let it exit 0.
    await new Promise(() => setInterval(() => {}, 60_000));
  }
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
