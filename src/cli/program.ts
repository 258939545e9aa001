/**
 * The command line: one run of the tool, from the arguments to an exit
 * status. The only module that knows about commander, process exit codes
 * and signals; everything else throws RecoverError. main.ts starts it.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, isLocalFileError, RecoverError } from '../errors.js';
import { Scope } from '../scope.js';
import { visibleLines } from '../terminal.js';
import { registerCache } from './cache.js';
import { Console } from './console.js';
import { registerExport } from './export.js';
import { registerExportAll } from './export-all.js';
import { registerHistory } from './history.js';
import { registerInspect } from './inspect.js';
import { registerMerge } from './merge.js';
import { registerScan } from './scan.js';
import type { Runner } from './output.js';
import { registerUsers } from './users.js';

function buildProgram(run: Runner, ui: Console): Command {
  const program = new Command('recover-texts')
    .description("Recover a Buggy Race student's task texts from a database backup, without restoring the whole server.")
    .version(packageVersion(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(visibleLines(s)), writeOut: (s) => process.stdout.write(s) })
    .exitOverride();

  for (const register of [registerExport, registerUsers, registerInspect, registerHistory, registerScan, registerMerge, registerExportAll, registerCache]) register(program, run, ui);

  program.addHelpText(
    'after',
    `
Examples:
  recover-texts users buggy_race_bk_20260315.sql.gz
  recover-texts export buggy_race_bk_20260315.sql.gz --user alice > alice.json
  recover-texts export latest.dump --user alice --format files --out alice-texts/
  recover-texts history --user alice buggy_race_bk_202603*.sql.gz --html alice.html
  recover-texts merge --user alice --current latest.dump --auto buggy_race_bk_202603*.sql.gz -o alice-upload.json
  recover-texts export-all buggy_race_bk_20260315.sql.gz --out all-texts/
  recover-texts cache --clear`,
  );
  return program;
}

/** Each way a run can be ended from outside, and its exit status (the README's table). */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: ExitCode.hangup,
  SIGINT: ExitCode.interrupted,
  SIGQUIT: ExitCode.quit,
  SIGTERM: ExitCode.terminated,
  // Ctrl-Break in a Windows console.
  SIGBREAK: ExitCode.interrupted,
};

/**
 * The signals a run listens for here. Windows has no POSIX signals: Node turns Ctrl-C
 * into SIGINT, Ctrl-Break into SIGBREAK and a closed console window into SIGHUP, and
 * offers no others to listen for. Elsewhere SIGBREAK does not exist.
 */
function endingSignals(platform: NodeJS.Platform = process.platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGBREAK', 'SIGHUP'] : ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'];
}

/**
 * One run: its terminal, its scope (what it started, whether it is ending)
 * and the exit status it is heading for. Every piece of state a run has is
 * here, made anew for each run.
 */
class CliRun {
  readonly ui = new Console();
  readonly scope: Scope;
  private readonly debug: boolean;
  private exitCode = 0;
  /** Set once the run is being ended from outside: its exit status. */
  private ending: number | undefined;

  constructor(argv: readonly string[], env: NodeJS.ProcessEnv) {
    this.debug = argv.includes('--debug');
    this.ui.quiet = argv.includes('--quiet') || argv.includes('-q');
    this.scope = new Scope({ pauseAt: env.RECOVER_TEXTS_PAUSE_AT });
  }

  /** A command's action: its failure becomes the exit status. */
  readonly run: Runner = async (fn) => {
    try {
      await fn(this.scope);
    } catch (e) {
      this.exitCode = this.report(e);
    }
  };

  async main(argv: string[]): Promise<number> {
    for (const signal of endingSignals()) process.on(signal, (s: NodeJS.Signals) => this.onSignal(s));
    process.stdout.on('error', (e: NodeJS.ErrnoException) => this.onOutputError('stdout', e));
    process.stderr.on('error', (e: NodeJS.ErrnoException) => this.onOutputError('stderr', e));
    const program = buildProgram(this.run, this.ui);
    try {
      await program.parseAsync(argv);
    } catch (e) {
      if (e instanceof CommanderError) {
        return e.exitCode === 0 ? 0 : ExitCode.usage;
      }
      return this.report(e);
    } finally {
      await this.scope.end();
    }
    return this.ending ?? this.exitCode;
  }

  private report(e: unknown): number {
    // The run is already ending (a signal, a closed output): its cleanup decides the status, and the
    // failures the cleanup causes in the work still running are not news.
    if (this.ending !== undefined) return this.ending;
    const { ui } = this;
    ui.endProgress();
    if (e instanceof RecoverError) {
      ui.error(e.message, e.hint);
      if (this.debug) ui.debug(e.detail ?? '', e);
      return e.exitCode;
    }
    if (isLocalFileError(e)) {
      // Not the backup's fault, and not a bug: a place on this machine that cannot be used.
      ui.error(`a local file operation failed: ${e.message}`, 'check that file or folder on this machine (owner, permissions, free space); the backup is not the cause');
      if (this.debug) ui.debug('', e);
      return ExitCode.internal;
    }
    ui.error(`internal error: ${(e as Error)?.message ?? String(e)}`, 'please report this with the output of --debug');
    if (this.debug) ui.debug('', e);
    return ExitCode.internal;
  }

  /**
   * End the run from outside: remove everything live (the throwaway server,
   * its cluster, temp dirs, partial outputs), then exit with `code`. Only a
   * second Ctrl-C, SIGTERM or SIGQUIT leaves at once; a hangup or another
   * closed-output error while cleaning up does not cut the cleanup short.
   */
  private endRun(why: string, code: number, insistent: boolean): void {
    if (this.ending !== undefined) {
      if (insistent) process.exit(this.ending);
      return;
    }
    this.ending = code;
    this.ui.endProgress();
    this.ui.note(`${why}; cleaning up`);
    void this.scope.end((m) => (this.debug ? this.ui.note(m) : undefined)).finally(() => process.exit(code));
  }

  private onSignal(signal: NodeJS.Signals): void {
    this.endRun(signal === 'SIGHUP' ? 'the terminal was closed (SIGHUP)' : `interrupted (${signal})`, SIGNAL_EXIT[signal]!, signal !== 'SIGHUP');
  }

  /**
   * stdout's or stderr's reader went away (`| head`, quitting `less`: EPIPE) or
   * its terminal did (EIO): nothing more can be shown, so the run stops and
   * cleans up as on a signal. Without this handler the error would end the
   * process at once, leaving the server running.
   */
  private onOutputError(stream: 'stdout' | 'stderr', e: NodeJS.ErrnoException): void {
    if (stream === 'stderr') this.ui.closed = true;
    this.endRun(`${stream} was closed (${e.code ?? e.message})`, ExitCode.outputClosed, false);
  }
}

/** The installed package's version (npm sets npm_package_version only under `npm run`). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return process.env.npm_package_version ?? 'unknown';
  }
}

/**
 * Run the tool on `argv` (as process.argv: node, script, arguments) and
 * return its exit status. A run ended from outside (a signal, a closed
 * output) exits the process itself once its cleanup is done.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // -V was the version flag before -v; both work.
  if (argv.length === 3 && argv[2] === '-V') argv = [...argv.slice(0, 2), '-v'];
  return new CliRun(argv, env).main(argv);
}
