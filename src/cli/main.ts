#!/usr/bin/env node
/**
 * The command line. The only module that knows about commander, process
 * exit codes and signals; everything else throws RecoverError.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, RecoverError } from '../errors.js';
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
  ui.endProgress();
  if (e instanceof RecoverError) {
    ui.error(e.message, e.hint);
    if (debug) ui.debug(e.detail ?? '', e);
    return e.exitCode;
  }
  ui.error(`internal error: ${(e as Error)?.message ?? String(e)}`, 'please report this with the output of --debug');
  if (debug) ui.debug('', e);
  return ExitCode.internal;
}

let stopping = false;
function onSignal(signal: NodeJS.Signals): void {
  const code = signal === 'SIGINT' ? 130 : 143;
  if (stopping) process.exit(code); // a second signal: leave now
  stopping = true;
  ui.endProgress();
  ui.note(`interrupted (${signal}); cleaning up`);
  void disposeAll((m) => ui.note(m)).finally(() => process.exit(code));
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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(exitCode); // reader went away (e.g. | head)
  });
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
  return exitCode;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(visibleLines(`recover-texts: ${(e as Error).message}\n`));
    process.exitCode = ExitCode.internal;
  },
);
