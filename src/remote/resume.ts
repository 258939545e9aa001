/**
 * The one rule for a remote read that fails on the way, for URLs and S3 alike: try again a few
 * times, waiting twice as long each time (said under --debug); a body cut short is asked for
 * again from the byte after the last one received, and whatever went wrong before a byte arrived
 * counts as a try. A clean error (a refusal, a changed file) or the run ending stops it at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RecoverError } from '../errors.js';

/** Tries after a dropped connection or a server error, and the first wait. */
const RETRIES = 4;
const BACKOFF_MS = 500;
/** Bytes an answer must bring before it drops for the count of drops to start again. */
const PROGRESS = 64 * 1024;

export interface ResumeOptions {
  /** Said under --debug: how the backup is read when that is worth knowing (no ranges, a resume). */
  debug?: (message: string) => void;
  retries?: number;
  backoffMs?: number;
  signal?: AbortSignal;
}

/** One answer's body, and the byte of the backup it starts at (at or before the byte asked for). */
export interface Answer {
  body: AsyncIterable<Uint8Array>;
  from: number;
}

export class Resume {
  readonly retries: number;
  private readonly backoff: number;

  /** `name`: the backup as messages name it; `failed`: the clean error once the tries are spent. */
  constructor(
    private readonly name: string,
    private readonly opts: ResumeOptions,
    readonly failed: (why: string) => RecoverError,
  ) {
    this.retries = opts.retries ?? RETRIES;
    this.backoff = opts.backoffMs ?? BACKOFF_MS;
  }

  /** Whether `e` ends the read now: a clean error already, or the run is ending. */
  final(e: unknown): boolean {
    return e instanceof RecoverError || !!this.opts.signal?.aborted;
  }

  /** The wait before try `attempt + 2` (attempt 0 is the first retry): doubling, said under --debug. */
  async wait(attempt: number, why: string): Promise<void> {
    const ms = this.backoff * 2 ** attempt;
    this.opts.debug?.(`${this.name}: ${why}; trying again in ${ms} ms`);
    await sleep(ms, undefined, { signal: this.opts.signal });
  }

  /** The `drops`th drop in a row at byte `at`: the clean error when too many, else the wait. */
  async dropped(drops: number, at: number): Promise<void> {
    if (drops > this.retries) throw this.failed(`the connection dropped at byte ${at}, ${drops} times`);
    await this.wait(drops - 1, `the connection dropped at byte ${at}`);
  }

  /**
   * Every byte from `start` to the end (`size`, when known), and none past it, from `first` and
   * then answers that `open(at)` asks for from byte `at` (undefined: nothing is left). Bytes of an
   * answer before `at` are passed over (a server without ranges starts again from 0), and those
   * past `size` are never taken (a body longer than asked for). A body that fails or ends before
   * `size` is asked for again from where it stopped; an answer that brought PROGRESS bytes or more
   * before it dropped starts the count of drops again (one that drips a few bytes at a time does not).
   */
  async *body(start: number, size: number | undefined, open: (at: number) => Promise<Answer | undefined>, first?: Answer): AsyncGenerator<Buffer> {
    let at = start;
    let answer = first;
    for (let drops = 0; ; ) {
      if (!answer && size !== undefined && at >= size) return;
      const from = at;
      try {
        answer ??= await open(at);
        if (!answer) return;
        let bodyAt = answer.from;
        for await (const c of answer.body) {
          let b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
          if (bodyAt < at) {
            const skip = Math.min(b.length, at - bodyAt);
            bodyAt += skip;
            b = b.subarray(skip);
          }
          if (size !== undefined && at + b.length > size) b = b.subarray(0, size - at);
          if (!b.length) continue;
          bodyAt += b.length;
          at += b.length;
          yield b;
          if (size !== undefined && at >= size) return;
        }
        if (size === undefined || at >= size) return;
        throw new Error(`the body ended at byte ${at} of ${size}`);
      } catch (e) {
        if (this.final(e)) throw e;
        answer = undefined;
        if (at - from >= PROGRESS) drops = 0;
        await this.dropped(++drops, at);
      }
    }
  }
}
