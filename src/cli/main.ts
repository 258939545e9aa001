#!/usr/bin/env node
/**
 * The command line. The only module that knows about commander, process
 * exit codes and signals; everything else throws RecoverError.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, RecoverError } from '../errors.js';
import { disposeAll } from '../resources.js';
import { Console } from './console.js';
import { exportCommand, inspectCommand, usersCommand, type CommonOptions } from './commands.js';
import { registerHistoryCommands } from './history-commands.js';

const ui = new Console();

function commonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--engine <kind>', 'throwaway PostgreSQL to load into').choices(['embedded', 'system', 'url']).default('embedded'))
    .option('--pg-bin <dir>', 'with --engine system: directory holding initdb and postgres')
    .addOption(
      new Option('--database-url <url>', 'load into a scratch database created (and dropped) on this server; implies --engine url').env(
        'RECOVER_TEXTS_DATABASE_URL',
      ),
    )
    .option('--no-cache', 'initialise a new PostgreSQL data directory for this run instead of copying the one cached in ~/.cache/recover-texts')
    .option('--pg-restore <path>', 'the pg_restore to read archives with (default: the newest found that can read it)')
    .option('--timezone <zone>', "the race server database's session time zone (UTC on Heroku and by default)", 'UTC')
    .option('--backup-encoding <encoding>', "for a SQL_ASCII backup: the encoding of its bytes that are not UTF-8, e.g. LATIN1 or WIN1252")
    .option('-q, --quiet', 'no progress or notes on stderr')
    .option('--debug', 'show stack traces and internal detail on errors');
}

export function buildProgram(): Command {
  const program = new Command('recover-texts')
    .description("Recover a Buggy Race student's task texts from a database backup, without restoring the whole server.")
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .exitOverride();

  commonOptions(
    program
      .command('export')
      .description("one student's texts as they were in the backup (default: the race server's upload JSON)")
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, or a pg_dump archive')
      .requiredOption('-u, --user <name>', 'username (exact, then ignoring case) or ext_username')
      .addOption(new Option('-f, --format <format>', 'json: server upload format; csv; files: a folder, one file per task').choices(['json', 'csv', 'files']).default('json'))
      .option('--tasks <names>', 'only these tasks, e.g. 3-REPORT,0-GET')
      .option('-o, --out <path>', 'write here (atomically) instead of stdout; required for --format files')
      .option('--force', 'replace an existing --out'),
  ).action((backup: string, opts: CommonOptions & ExportOpts) => run(() => exportCommand(backup, opts, ui)));

  commonOptions(
    program
      .command('users')
      .description('the users who have texts in the backup: username, name, number of texts, newest text')
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, or a pg_dump archive')
      .option('--json', 'machine-readable output'),
  ).action((backup: string, opts: CommonOptions & { json?: boolean }) => run(() => usersCommand(backup, opts, ui)));

  commonOptions(
    program
      .command('inspect')
      .description('what a backup is and holds: format, versions, date, counts, newest text')
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, or a pg_dump archive')
      .option('--json', 'machine-readable output'),
  ).action((backup: string, opts: CommonOptions & { json?: boolean }) => run(() => inspectCommand(backup, opts, ui)));

  registerHistoryCommands(program, commonOptions, run, ui);

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

interface ExportOpts {
  user: string;
  format: 'json' | 'csv' | 'files';
  tasks?: string;
  out?: string;
  force?: boolean;
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

export async function main(argv: string[]): Promise<number> {
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
    process.stderr.write(`recover-texts: ${(e as Error).message}\n`);
    process.exitCode = ExitCode.internal;
  },
);
