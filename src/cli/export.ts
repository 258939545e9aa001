/** `export`: one student's texts as they were in one backup. */
import { Option, type Command } from 'commander';
import { DATE_SOURCE_NOTE, newerBackupsBeside, OWN_FOLDERS, parseDateBound } from '../detect/index.js';
import { EXPORT_FORMATS, render, uploadAdvice, writeExport, type ExportFormat } from '../export/index.js';
import { newestTimestamp, selectTasks } from '../query/index.js';
import { withBackup } from '../session/index.js';
import { RecoverError } from '../errors.js';
import { endpointOption } from '../remote/index.js';
import type { Scope } from '../scope.js';
import type { Console } from './console.js';
import { oneBackup, readingOptions } from './many.js';
import { addCommonOptions, checkOutput, checkUserGiven, resolveSession, type CommonOptions } from './options.js';
import { exportContext, plural, writeStdout, type Runner } from './output.js';

interface ExportOptions extends CommonOptions {
  /** Given: checkUserGiven says so before the command runs. */
  user: string;
  format: ExportFormat;
  tasks?: string;
  out?: string;
  force?: boolean;
  before?: string;
}

export function registerExport(program: Command, run: Runner, ui: Console): void {
  addCommonOptions(
    program
      .command('export')
      .description("one student's texts as they were in the backup (default: the race server's upload JSON)")
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, a pg_dump archive, or a folder of them (its newest)')
      .option('-u, --user <name>', 'username (exact, then ignoring case), ext_username, or real name')
      .option('--before <date>', 'with a folder: its newest backup before this day (YYYY-MM-DD)', (v: string) => parseDateBound('--before', v))
      .addOption(new Option('-f, --format <format>', 'json: server upload format; csv; files: a folder, one file per task').choices(EXPORT_FORMATS).default('json'))
      .option('--tasks <names>', 'only these tasks, e.g. 3-REPORT,0-GET')
      .option('-o, --out <path>', 'write here (atomically) instead of stdout; required for --format files')
      .option('--force', 'replace an existing --out that recover-texts wrote (never anything else)')
      .allowExcessArguments(), // only so that a username without --user is pointed at it (checkUserGiven)
  ).action((backup: string, opts: ExportOptions, cmd: Command) => {
    checkUserGiven(cmd, opts.user, true);
    return run((scope) => exportTexts(backup, opts, ui, scope));
  });
}

async function exportTexts(arg: string, opts: ExportOptions, ui: Console, scope: Scope): Promise<void> {
  if (opts.format === 'files' && !opts.out) {
    throw new RecoverError('USAGE_NO_OUT', '--format files writes a folder, so it needs --out DIR', { hint: 'e.g. --out alice-texts' });
  }
  const config = resolveSession(opts, ui, scope);
  const wanted = opts.tasks?.split(',').map((s) => s.trim()).filter(Boolean);
  const place = await checkOutput(opts.out, opts.force, '--out', { inputs: [arg], folder: opts.format === 'files' ? OWN_FOLDERS.texts : undefined });
  const backup = await oneBackup(arg, opts, ui);
  const backupPath = backup.path;
  await withBackup(backup, config, async (b) => {
    const { user, by } = await b.query.findUserMatch(opts.user);
    const texts = selectTasks(await b.query.texts(user), await b.query.tasks(), wanted);
    ui.endProgress();
    if (user.username !== opts.user) ui.note(`"${opts.user}" is user ${user.username}${by === 'real name' ? ', found by real name' : ''}`);
    if (!texts.length) ui.note(`${user.username} has no texts${wanted ? ' for those tasks' : ''} in this backup; the export is empty ([] for json)`);
    else {
      ui.note(
        `${user.username}: ${plural(texts.length, 'text')} from the backup of ${b.date.value} (${DATE_SOURCE_NOTE[b.date.source]}); newest text ${newestTimestamp(texts)} ${opts.timezone}`,
      );
    }
    if (opts.out) {
      await writeExport(opts.format, texts, opts.out, exportContext(backupPath, b, user.username, opts.timezone), { force: !!opts.force, scope, place });
      ui.note(`wrote ${opts.out}`);
    } else {
      await writeStdout(render(opts.format as 'json' | 'csv', texts));
    }
    if (opts.format === 'json') {
      const newer = await newerBackupsBeside(backup, b.date, readingOptions(opts, [backupPath], ui));
      const backupDate = b.date.source === 'file modification time' ? `${b.date.value} UTC` : b.date.value;
      // History over the newer backups needs the store an S3 object is in.
      const options = endpointOption(opts.endpointUrl, [backupPath]);
      for (const line of uploadAdvice({ username: user.username, texts: texts.length, backupDate, backupPath, newer, options })) ui.note(line);
    }
  });
}
