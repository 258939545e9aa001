/** `export-all`: every student's upload JSON from one backup. */
import { Option, type Command } from 'commander';
import { RecoverError } from '../errors.js';
import { OWN_FOLDERS } from '../detect/index.js';
import { allTexts, writeAllTexts } from '../export/index.js';
import { newestTimestamp } from '../query/index.js';
import { withBackup } from '../session/index.js';
import { table } from '../table.js';
import type { Scope } from '../scope.js';
import type { Console } from './console.js';
import { addCommonOptions, checkOutput, resolveSession, type CommonOptions } from './options.js';
import { oneBackup } from './many.js';
import { exportContext, plural, type Runner } from './output.js';

interface ExportAllOptions extends CommonOptions {
  out: string;
  format: 'json' | 'files';
  force?: boolean;
}

export function registerExportAll(program: Command, run: Runner, ui: Console): void {
  addCommonOptions(
    program
      .command('export-all')
      .description("every student's upload JSON from one backup, in one pass (after a total loss)")
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, a pg_dump archive, or a folder of them (its newest)')
      .requiredOption('-o, --out <dir>', 'the folder to write (atomically): one <username>.json per student, or a folder each with --format files')
      .addOption(new Option('-f, --format <format>', 'json: upload JSON; files: one file per task').choices(['json', 'files']).default('json'))
      .option('--force', 'replace an existing --out that recover-texts wrote (never anything else)'),
  ).action((backup: string, opts: ExportAllOptions) => run((scope) => exportAll(backup, opts, ui, scope)));
}

async function exportAll(arg: string, opts: ExportAllOptions, ui: Console, scope: Scope): Promise<void> {
  const config = resolveSession(opts, ui, scope);
  const place = await checkOutput(opts.out, opts.force, '--out', { inputs: [arg], folder: OWN_FOLDERS.everyone });
  const backup = await oneBackup(arg, { endpointUrl: opts.endpointUrl, debug: opts.debug }, ui);
  const backupPath = backup.path;
  await withBackup(backup, config, async (b) => {
    const all = await allTexts(b.query, opts.format);
    ui.endProgress();
    for (const e of all.refused) ui.note(`skipped: ${e.message} (hint: ${e.hint})`);
    if (!all.students.length) ui.note('no user has any texts in this backup; the folder holds only index.json');
    const { username: _none, ...source } = exportContext(backupPath, b, '', opts.timezone);
    await writeAllTexts(opts.out, all, opts.format, source, { force: !!opts.force, scope, place });
    const renamedTasks = new Set(all.students.flatMap((x) => x.texts.filter((t) => t.storedTaskName !== t.task_name).map((t) => t.storedTaskName)));
    ui.note(
      (await table(
        ['USERNAME', 'TEXTS', `NEWEST (${opts.timezone})`, opts.format === 'json' ? 'FILE' : 'FOLDER'],
        all.students.map((x) => [x.user.username + (x.user.isStudent === false ? ' (staff)' : ''), String(x.texts.length), newestTimestamp(x.texts) ?? '', x.name]),
      )).trimEnd(),
    );
    if (renamedTasks.size) ui.note(`task names are written as the server stores them (${[...renamedTasks].join(', ')}), so the upload matches them`);
    const texts = all.students.reduce((n, x) => n + x.texts.length, 0);
    ui.note(`${plural(all.students.length, 'user')}, ${plural(texts, 'text')} from the backup of ${b.date.value} (date from ${b.date.source}); wrote ${opts.out}`);
    if (all.refused.length) {
      throw new RecoverError('TEXT_NOT_UTF8_SKIPPED', `${all.refused.length} user${all.refused.length === 1 ? ' was' : 's were'} skipped because their texts are not valid UTF-8; the others are in ${opts.out}`, {
        hint: 'export those users with --backup-encoding ENC (e.g. LATIN1 or WIN1252) once you know how the server stored them',
      });
    }
  });
}
