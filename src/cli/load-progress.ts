/**
 * The progress display on stderr, drawn with cli-progress (chosen over
 * hand-drawn bars: it redraws many lines in place at a capped rate, keeps an
 * ETA over a window of updates, and stays silent when the stream is not a
 * terminal; `progress` and `log-update` do one line or no bars at all). It
 * shows something from the first moment: reading the backup, starting
 * PostgreSQL, then a bar per backup with bytes, rate and time left, then
 * querying. Nothing is drawn when stderr is not a terminal or with --quiet,
 * and stdout is never touched.
 */
import { basename } from 'node:path';
import { MultiBar, type Options, type Params, type SingleBar } from 'cli-progress';
import type { BackupLoadEvent } from '../session/index.js';
import { visible } from '../terminal.js';

interface Payload {
  label: string;
  /** A step without a size ("starting PostgreSQL"): only its elapsed time is shown. */
  step: boolean;
  /** A step shows its elapsed seconds; the summary line does not. */
  timed: boolean;
  width: number;
  barWidth: number;
}

/** The display is drawn 10 times a second (fps below): the summary line is made no more often for bytes read. */
const SUMMARY_EVERY_MS = 100;

export class LoadProgress {
  private multi: MultiBar | null = null;
  private stepBar: SingleBar | null = null;
  private summary: SingleBar | null = null;
  private readonly bars = new Map<number, SingleBar>();
  private readonly states = new Map<number, BackupLoadEvent['state']>();
  /** Each backup's bytes read and to read (0: not known yet, or an archive), for the whole run's rate. */
  private readonly sizes = new Map<number, { done: number; total: number }>();
  /** When the first backup began loading: the run's rate counts from then, not from starting PostgreSQL. */
  private loadStart: number | null = null;
  private labelWidth = 14;
  /** When the summary line was last made (Date.now()). */
  private summaryAt = 0;

  constructor(
    /** Asked at each draw: --quiet is known only once the arguments are read. */
    private readonly enabled: () => boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** A step that takes time but has no size: it replaces what is shown, with its elapsed seconds. */
  step(label: string): void {
    const multi = this.start();
    if (!multi) return;
    for (const bar of [...this.bars.values(), this.summary, this.stepBar]) if (bar) multi.remove(bar);
    this.bars.clear();
    this.summary = null;
    this.stepBar = multi.create(0, 0, this.payload(`${label}...`, true, 0));
  }

  /** One backup loading (`export`, `users`, `inspect`): a bar with percentage, rate and time left. */
  bytes(label: string, done: number, total: number): void {
    this.backup({ index: 0, path: label, state: 'loading', done, total }, false);
  }

  /**
   * Many backups: a summary line and a bar for each one loading. An archive's
   * size after pg_restore is not known, so its bar shows bytes and rate only.
   */
  backup(e: Pick<BackupLoadEvent, 'index' | 'path' | 'state' | 'done' | 'total'>, many = true): void {
    const multi = this.start();
    this.states.set(e.index, e.state);
    this.sizes.set(e.index, { done: e.done, total: e.total });
    if (e.state !== 'waiting') this.loadStart ??= Date.now();
    if (!multi || e.state === 'waiting') return;
    this.removeStep();
    // The summary line first, so it stays on top as bars come and go below it. It counts every
    // backup, so bytes read move it at most as often as the display is drawn; a state change at once.
    const now = Date.now();
    if (many && (e.state !== 'loading' || !this.summary || now - this.summaryAt >= SUMMARY_EVERY_MS)) {
      this.summaryAt = now;
      this.updateSummary(multi);
    }
    const label = many ? visible(basename(e.path)) : 'loading backup';
    this.labelWidth = Math.max(this.labelWidth, label.length);
    let bar = this.bars.get(e.index);
    if (e.state === 'loading') {
      if (!bar) {
        bar = multi.create(e.total, e.done, this.payload(label, false, many ? 20 : 28));
        this.bars.set(e.index, bar);
      }
      if (e.total && bar.getTotal() !== e.total) bar.setTotal(e.total);
      bar.update(e.done, { width: this.labelWidth });
    } else if (bar) {
      multi.remove(bar);
      this.bars.delete(e.index);
    }
  }

  /** Remove everything drawn; safe to call twice. */
  stop(): void {
    if (!this.multi) return;
    this.multi.stop();
    this.multi = null;
    this.stepBar = null;
    this.summary = null;
    this.bars.clear();
  }

  private updateSummary(multi: MultiBar): void {
    const backups = [...this.states.entries()].map(([i, state]) => ({ state, ...this.sizes.get(i)! }));
    const label = summaryLine(runProgress(backups, this.loadStart === null ? 0 : (Date.now() - this.loadStart) / 1000));
    if (this.summary) this.summary.update(0, { label });
    else this.summary = multi.create(0, 0, this.payload(label, true, 0, false));
  }

  private removeStep(): void {
    if (this.stepBar) this.multi?.remove(this.stepBar);
    this.stepBar = null;
  }

  private payload(label: string, step: boolean, barWidth: number, timed = true): Payload {
    return { label, step, width: this.labelWidth, barWidth, timed };
  }

  private start(): MultiBar | null {
    if (!this.enabled() || !this.stream.isTTY) return null;
    this.multi ??= new MultiBar({
      stream: this.stream,
      format: formatLine,
      fps: 10,
      etaBuffer: 50,
      clearOnComplete: true,
      hideCursor: null,
      linewrap: null,
      // Signals are handled in one place (cli/program.ts), which ends the display.
      gracefulExit: false,
      emptyOnZero: true,
    } satisfies Options);
    return this.multi;
  }
}

/** One line: `label [####....]  42% 12.3/29.1 MB  3.4 MB/s  5s left`, or `label  3s` for a step. */
export function formatLine(_options: Options, params: Params, payload: Payload): string {
  const seconds = Math.max(0, (Date.now() - params.startTime) / 1000);
  if (payload.step) return payload.timed ? `${payload.label} ${seconds.toFixed(0)}s` : payload.label;
  const label = payload.barWidth === 28 ? payload.label : `  ${payload.label.padEnd(payload.width)}`;
  const rate = seconds > 0.2 ? params.value / seconds : 0;
  const speed = rate ? `  ${mb(rate)} MB/s` : '';
  if (!params.total) return `${label} [${'archive'.padEnd(payload.barWidth, '.')}]      ${mb(params.value)} MB${speed}`;
  const frac = Math.min(1, params.value / params.total);
  const bar = '#'.repeat(Math.round(frac * payload.barWidth)).padEnd(payload.barWidth, '.');
  const left = rate && frac < 1 ? `  ${duration((params.total - params.value) / rate)} left` : '';
  return `${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(params.value)}/${mb(params.total)} MB${speed}${left}`;
}

/** The whole run so far, for its summary line. */
export interface RunProgress {
  backups: number;
  loaded: number;
  loading: number;
  waiting: number;
  failed: number;
  /** Bytes read across all backups, of all there are to read (null when some backup's size is unknown: an archive). */
  doneBytes: number;
  totalBytes: number | null;
  /** Since the first backup began loading. */
  seconds: number;
}

/**
 * The run so far from each backup's latest state and bytes. A failed backup has
 * nothing more to read; one still to read whose size is not known (0: an
 * archive, or a named file not read yet) leaves the bytes left unknown.
 */
export function runProgress(backups: readonly { state: BackupLoadEvent['state']; done: number; total: number }[], seconds: number): RunProgress {
  const count = (s: BackupLoadEvent['state']) => backups.filter((b) => b.state === s).length;
  const unknown = backups.some((b) => b.total === 0 && (b.state === 'waiting' || b.state === 'loading'));
  return {
    backups: backups.length,
    loaded: count('loaded'),
    loading: count('loading'),
    waiting: count('waiting'),
    failed: count('failed'),
    doneBytes: backups.reduce((n, b) => n + b.done, 0),
    totalBytes: unknown ? null : backups.reduce((n, b) => n + (b.state === 'failed' ? b.done : Math.max(b.total, b.done)), 0),
    seconds,
  };
}

/**
 * `loading 365 backups: 208 loaded, 3 loading, 154 waiting  12.3 MB/s  1m05s left`: the
 * run's rate and time left by bytes when every size is known, else by backups done.
 */
export function summaryLine(p: RunProgress): string {
  const counts = `loading ${p.backups} backups: ${p.loaded} loaded, ${p.loading} loading, ${p.waiting} waiting${p.failed ? `, ${p.failed} failed` : ''}`;
  if (p.seconds <= 0.2) return counts;
  const finished = p.loaded + p.failed;
  if (p.totalBytes !== null) {
    const rate = p.doneBytes / p.seconds;
    if (!rate) return counts;
    const left = p.totalBytes > p.doneBytes ? `  ${duration((p.totalBytes - p.doneBytes) / rate)} left` : '';
    return `${counts}  ${mb(rate)} MB/s${left}`;
  }
  if (!finished) return counts;
  const rate = finished / p.seconds;
  const left = p.loading + p.waiting ? `  ${duration((p.loading + p.waiting) / rate)} left` : '';
  return `${counts}  ${rate.toFixed(rate < 10 ? 1 : 0)} backups/s${left}`;
}

/** Megabytes, with two decimals below 10 MB so a small backup does not read 0.0. */
function mb(n: number): string {
  return (n / 1e6).toFixed(n < 1e7 ? 2 : 1);
}

function duration(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
}
