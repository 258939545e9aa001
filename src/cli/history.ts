/** `history`: one student's texts across many backups. */
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Option, type Command } from 'commander';
import { isDirectory, pathExists } from '../files.js';
import { accountDeletedNote, buildHistory, historyJson, renderHistoryTable, SHARP_SHRINK_TEXT } from '../history/index.js';
import { shellWord } from '../shell.js';
import { writeFileAtomic } from '../export/index.js';
import { restorePlan, uploadFileName } from '../merge/index.js';
import { renderHtmlReport } from '../report/index.js';
import { studentSnapshots, textsFor, withBackups } from '../session/index.js';
import type { Scope } from '../scope.js';
import type { Console } from './console.js';
import { addRangeOptions, manyConfig, noteFailures, passedOn, selectFromArgs, type RangeOptions } from './many.js';
import { addCommonOptions, checkOutput, checkUserGiven, positiveInt, type CommonOptions } from './options.js';
import { plural, writeStdout, writeText, type Runner } from './output.js';

interface HistoryOptions extends CommonOptions, RangeOptions {
  /** Given: checkUserGiven says so before the command runs. */
  user: string;
  diff?: boolean;
  allDates?: boolean;
  json?: boolean;
  html?: string;
  force?: boolean;
  jobs?: number;
}

export function registerHistory(program: Command, run: Runner, ui: Console): void {
  addCommonOptions(
    addRangeOptions(program
      .command('history')
      .description("one student's texts across many backups: each text's length and what happened to it on each date, and the last good date per task")
      .argument('<backup...>', 'the backups, any mix of formats, or a folder of them (its files that are not backups are skipped); ordered by the date each holds')
      .option('-u, --user <name>', 'username (exact, then ignoring case), ext_username, or real name; followed by id across renames')
      .option('--diff', 'add unified diffs between consecutive versions')
      .option('--all-dates', 'a row (a report column) for every backup; by default a run of backups where nothing changed is one row')
      .option('--json', 'machine-readable output (every backup, never folded)')
      .option('--html <file>', 'also write a self-contained HTML report (charts, side-by-side changes)')
      .option('--force', 'replace an existing --html report that recover-texts wrote (never anything else)')
      .addOption(new Option('--jobs <n>', 'backups loaded at once (default: the number of cores, at least 4)').argParser(positiveInt))
      .addHelpText(
        'after',
        `
A text "shrunk sharply" when it became
${SHARP_SHRINK_TEXT};
with "gone" (deleted) that is a loss. A task is LOST when its newest text is still sharply
shorter than (or missing compared with) its longest version before the loss; the last good
date is then the newest date that version existed, the one \`merge --auto\` restores.

Examples:
  recover-texts history --user alice buggy_race_bk_202603*.sql.gz --html alice.html
  recover-texts history --user alice /buggy/server/db/backups --since 2026-03-01`,
      )),
  ).action((backups: string[], opts: HistoryOptions, cmd: Command) => {
    checkUserGiven(cmd, opts.user);
    return run((scope) => history(backups, opts, ui, scope));
  });
}

async function history(backups: string[], opts: HistoryOptions, ui: Console, scope: Scope): Promise<void> {
  const place = await checkOutput(opts.html, opts.force, '--html', { inputs: backups });
  const selected = await selectFromArgs(backups, opts, ui);
  await withBackups(selected.backups, { ...manyConfig(opts, ui, scope, selected.optional), textsOf: textsFor(opts.user) }, async (set) => {
    ui.endProgress();
    // The folder's damaged nights (said as it was read) and the backups that did not load: the report and --json list both.
    const failed = [...selected.damaged, ...noteFailures(set, ui)];
    const { userId, snapshots } = await studentSnapshots(set, opts.user, (m) => ui.note(m));
    const h = buildHistory(snapshots, userId);
    const lost = h.tasks.filter((t) => t.status === 'lost');
    // Passed on to the suggested merge, which reads the same backups.
    const range = passedOn(opts, backups);
    const out = lost.length ? await uploadPath(h.user.username, snapshots.map((s) => s.path)) : undefined;
    // A deleted account has nothing to upload to: its texts are shown, and how to give them back is said.
    const restore = lost.length && !h.user.deletedAt ? restorePlan(h, snapshots, backups, range, out) : undefined;
    if (opts.html) {
      await writeFileAtomic(opts.html, renderHtmlReport(h, { failed, restore, timezone: opts.timezone, allDates: opts.allDates }), { force: !!opts.force, scope, flag: '--html', place });
      ui.note(`wrote ${opts.html}`);
    }
    if (opts.json) await writeStdout(JSON.stringify(historyJson(h, { diff: opts.diff, failed }), null, 2) + '\n');
    else await writeText(await renderHistoryTable(h, { diff: opts.diff, allDates: opts.allDates }));
    if (restore) {
      // The texts the command restores, then apart the ones it keeps (written again since the loss).
      const n = restore.restored.length;
      if (n) {
        ui.note(`${plural(n, 'text is', 'texts are')} lost (${restore.restored.join(', ')}); to restore just ${n === 1 ? 'it' : 'those'}:`);
        ui.note(restore.steps.lines.map((l) => `  ${l}`).join('\n'));
      }
      for (const k of restore.kept) ui.warn(k.message);
      for (const w of restore.upload.warnings) ui.warn(w);
      if (restore.takeKept) {
        const k = restore.kept.length;
        ui.note(
          `${plural(k, 'lost text was', 'lost texts were')} written again since (${restore.kept.map((x) => x.task).join(', ')}); kept: ` +
            `to take the old ${k === 1 ? 'one' : 'ones'} instead${n ? ', with the others' : ''}:`,
        );
        ui.note(restore.takeKept.lines.map((l) => `  ${l}`).join('\n'));
      }
    }
    if (h.user.deletedAt) {
      const last = snapshots[h.user.deletedAt.index - 1]!;
      ui.warn(accountDeletedNote(h));
      ui.note(
        `to give ${h.user.username} their texts back, re-create the account on the race server, then upload the texts of the last backup that had it:\n` +
          `  ${['recover-texts', 'export', last.path, '--user', h.user.username, ...passedOn(opts, [last.path], false), '-o', out ?? uploadFileName(h.user.username)].map(shellWord).join(' ')}`,
      );
    }
  });
}

/**
 * Where the suggested merge writes the upload: here, unless here is a backups'
 * folder (the steps cd into it; the upload among the backups would be read as
 * one next time), then the home folder (if there is one); a name with -2, -3 when one is there
 * already (an upload from an earlier run), so the command does not fail.
 */
async function uploadPath(username: string, backupPaths: readonly string[]): Promise<string> {
  const folders = backupPaths.map((p) => dirname(resolve(p)));
  const among = (dir: string) => folders.some((f) => dir === f || dir.startsWith(f + sep));
  // A home that does not exist (HOME=/nonexistent for a service account): here after all; a
  // folder run skips the tool's own uploads among the backups.
  const home = homedir();
  const dir = among(process.cwd()) && (await isDirectory(home)) ? home : process.cwd();
  const name = uploadFileName(username);
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? name : name.replace(/\.json$/, `-${n}.json`));
    if (!(await pathExists(path))) return path;
  }
}
