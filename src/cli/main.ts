#!/usr/bin/env node
/**
 * The command line. The only module that knows about commander, process
 * exit codes and signals; everything else throws RecoverError.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, isLocalFileError, RecoverError } from '../errors.js';
import { disposeAll } from '../resources.js';
import { visibleLines } from '../terminal.js';
import { Console } from './console.js';
import { registerExport } from './export.js';
import { registerExportAll } from './export-all.js';
import { registerHistory } from './history.js';
import { registerInspect } from './inspect.js';
import { registerMerge } from './merge.js';
import { registerUsers } from './users.js';

const ui = new Console();

export function buildProgram(): Command {
  const program = new Command('recover-texts')
    .description("Recover a Buggy Race student's task texts from a database backup, without restoring the whole server.")
    .version(packageVersion(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(visibleLines(s)), writeOut: (s) => process.stdout.write(s) })
    .exitOverride();

  for (const register of [registerExport, registerUsers, registerInspect, registerHistory, registerMerge, registerExportAll]) register(program, run, ui);

  program.addHelpText(
    'after',
    `
Examples:
  recover-texts users buggy_race_bk_20260315.sql.gz
  recover-texts export buggy_race_bk_20260315.sql.gz --user alice > alice.json
  recover-texts export latest.dump --user alice --format files --out alice-texts/
  recover-texts history --user alice buggy_race_bk_202603*.sql.gz --html alice.html
  recover-texts merge --user alice --current latest.dump --auto buggy_race_bk_202603*.sql.gz -o alice-upload.json
  recover-texts export-all buggy_race_bk_20260315.sql.gz --out all-texts/`,
  );
  return program;
}

let debug = false;
let exitCode = 0;

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    exitCode = report(e);
  }
}

function report(e: unknown): number {
  // The run is already ending (a signal, a closed output): its cleanup decides the status, and the
  // failures the cleanup causes in the work still running are not news.
  if (ending !== undefined) return ending;
  ui.endProgress();
  if (e instanceof RecoverError) {
    ui.error(e.message, e.hint);
    if (debug) ui.debug(e.detail ?? '', e);
    return e.exitCode;
  }
  if (isLocalFileError(e)) {
    // Not the backup's fault, and not a bug: a place on this machine that cannot be used.
    ui.error(`a local file operation failed: ${e.message}`, 'check that file or folder on this machine (owner, permissions, free space); the backup is not the cause');
    if (debug) ui.debug('', e);
    return ExitCode.internal;
  }
  ui.error(`internal error: ${(e as Error)?.message ?? String(e)}`, 'please report this with the output of --debug');
  if (debug) ui.debug('', e);
  return ExitCode.internal;
}

/** Each way a run can be ended from outside, and its exit status (the README's table). */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: ExitCode.hangup,
  SIGINT: ExitCode.interrupted,
  SIGQUIT: ExitCode.quit,
  SIGTERM: ExitCode.terminated,
};

/** Set once the run is being ended from outside: its exit status. */
let ending: number | undefined;

/**
 * End the run from outside: remove everything live (the throwaway server,
 * its cluster, temp dirs, partial outputs), then exit with `code`. Only a
 * second Ctrl-C, SIGTERM or SIGQUIT leaves at once; a hangup or another
 * closed-output error while cleaning up does not cut the cleanup short.
 */
function endRun(why: string, code: number, insistent: boolean): void {
  if (ending !== undefined) {
    if (insistent) process.exit(ending);
    return;
  }
  ending = code;
  ui.endProgress();
  ui.note(`${why}; cleaning up`);
  void disposeAll((m) => (debug ? ui.note(m) : undefined)).finally(() => process.exit(code));
}

function onSignal(signal: NodeJS.Signals): void {
  endRun(signal === 'SIGHUP' ? 'the terminal was closed (SIGHUP)' : `interrupted (${signal})`, SIGNAL_EXIT[signal]!, signal !== 'SIGHUP');
}

/**
 * stdout's or stderr's reader went away (`| head`, quitting `less`: EPIPE) or
 * its terminal did (EIO): nothing more can be shown, so the run stops and
 * cleans up as on a signal. Without this handler the error would end the
 * process at once, leaving the server running.
 */
function onOutputError(stream: 'stdout' | 'stderr', e: NodeJS.ErrnoException): void {
  if (stream === 'stderr') ui.closed = true;
  endRun(`${stream} was closed (${e.code ?? e.message})`, ExitCode.outputClosed, false);
}

/** The installed package's version (npm sets npm_package_version only under `npm run`). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return process.env.npm_package_version ?? 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  // -V was the version flag before -v; both work.
  if (argv.length === 3 && argv[2] === '-V') argv = [...argv.slice(0, 2), '-v'];
  debug = argv.includes('--debug');
  ui.quiet = argv.includes('--quiet') || argv.includes('-q');
  for (const signal of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) process.on(signal, onSignal);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => onOutputError('stdout', e));
  process.stderr.on('error', (e: NodeJS.ErrnoException) => onOutputError('stderr', e));
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : ExitCode.usage;
    }
    return report(e);
  } finally {
    await disposeAll();
  }
  return ending ?? exitCode;
}

main(process.argv).then(
  (code) => {
    // When the run is ending from outside, endRun exits once its cleanup is done.
    process.exitCode = ending ?? code;
  },
  (e) => {
    process.stderr.write(visibleLines(`recover-texts: ${(e as Error).message}\n`));
    process.exitCode = ExitCode.internal;
  },
);
