/**
 * The commands over many backups (history, merge) and over every student
 * (export-all): resolve options once, load, print. Registered by main.ts.
 */
import { promises as fs } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { RecoverError } from '../errors.js';
import { refuseExisting, renderUploadJson, uniqueFileNames, fillTextsDir, writeDirAtomic, writeFileAtomic } from '../export/index.js';
import { buildHistory, chooseUser, historyJson, renderHistoryTable, SHARP_SHRINK_TEXT, type History, type Snapshot } from '../history/index.js';
import { isJsonFile, parseCurrentJson, parseTake, planMerge, resolveChoices, type CurrentData } from '../merge/index.js';
import { newestTimestamp, toServerText, type TextRecord, type UserRecord } from '../query/index.js';
import { renderHtmlReport } from '../report/index.js';
import { withBackup, withBackups, type BackupSet, type ManyConfig } from '../session/index.js';
import { exportContext, sessionConfig, type CommonOptions } from './commands.js';
import { table, type Console } from './console.js';

type Runner = (fn: () => Promise<void>) => Promise<void>;

export function registerHistoryCommands(program: Command, commonOptions: (cmd: Command) => Command, run: Runner, ui: Console): void {
  commonOptions(
    program
      .command('history')
      .description("one student's texts across many backups: each text's length and what happened to it on each date, and the last good date per task")
      .argument('<backup...>', 'the backups, any mix of formats (e.g. a shell glob of nightly dumps); ordered by the date each holds')
      .requiredOption('-u, --user <name>', 'username (exact, then ignoring case) or ext_username; followed by id across renames')
      .option('--diff', 'add unified diffs between consecutive versions')
      .option('--json', 'machine-readable output')
      .option('--html <file>', 'also write a self-contained HTML report (charts, side-by-side changes)')
      .option('--force', 'replace an existing --html file')
      .addOption(new Option('--jobs <n>', 'backups loaded at once (default: the number of cores)').argParser(positiveInt))
      .addHelpText(
        'after',
        `
A text "shrunk sharply" when it became ${SHARP_SHRINK_TEXT};
with "gone" (deleted) that is a loss. A task is LOST when its newest text is still sharply
shorter than (or missing compared with) its longest version before the loss; the last good
date is then the newest date that version existed, the one \`merge --auto\` restores.

Example:
  recover-texts history --user alice buggy_race_bk_202603*.sql.gz --html alice.html`,
      ),
  ).action((backups: string[], opts: CommonOptions & HistoryOpts) => run(() => historyCommand(backups, opts, ui)));

  commonOptions(
    program
      .command('merge')
      .description("the upload JSON for a partial restoration: the student's current texts, with chosen tasks taken from chosen backup dates")
      .argument('<backup...>', 'the backups to take texts from')
      .requiredOption('-u, --user <name>', 'username (exact, then ignoring case) or ext_username; followed by id across renames')
      .requiredOption('--current <file>', 'the texts as they are now: a newer backup, or the JSON from the live server\'s "Load texts as JSON" page')
      .option('--take <task@date>', 'take this task from this backup date (repeatable): 3-REPORT@2026-03-12, or 3-REPORT@current to keep it', collect, [])
      .option('--auto', "take every task still lost from its longest version before the loss (see `history`)")
      .option('-o, --out <file>', 'write here (atomically) instead of stdout')
      .option('--force', 'replace an existing --out')
      .addOption(new Option('--jobs <n>', 'backups loaded at once (default: the number of cores)').argParser(positiveInt))
      .addHelpText(
        'after',
        `
The race server's upload replaces ALL of a student's texts, so the output holds every text the
student should end up with. Task names are written as the current data stores them (a task is
matched by id when --current is a backup, by name when it is the live JSON), and the
username is the student's current one throughout, so the upload raises no warning.

Examples:
  recover-texts merge --user alice --current buggy_race_bk_20260313.sql.gz --auto buggy_race_bk_202603*.sql.gz -o alice-upload.json
  recover-texts merge --user alice --current alice-live.json --take 3-REPORT@2026-03-10 buggy_race_bk_202603*.sql.gz`,
      ),
  ).action((backups: string[], opts: CommonOptions & MergeOpts) => run(() => mergeCommand(backups, opts, ui)));

  commonOptions(
    program
      .command('export-all')
      .description("every student's upload JSON from one backup, in one pass (after a total loss)")
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, or a pg_dump archive')
      .requiredOption('-o, --out <dir>', 'the folder to write (atomically): one <username>.json per student, or a folder each with --format files')
      .addOption(new Option('-f, --format <format>', 'json: upload JSON; files: one file per task').choices(['json', 'files']).default('json'))
      .option('--force', 'replace an existing --out'),
  ).action((backup: string, opts: CommonOptions & ExportAllOpts) => run(() => exportAllCommand(backup, opts, ui)));
}

interface HistoryOpts {
  user: string;
  diff?: boolean;
  json?: boolean;
  html?: string;
  force?: boolean;
  jobs?: number;
}

interface MergeOpts {
  user: string;
  current: string;
  take: string[];
  auto?: boolean;
  out?: string;
  force?: boolean;
  jobs?: number;
}

interface ExportAllOpts {
  out: string;
  format: 'json' | 'files';
  force?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RecoverError('USAGE_BAD_NUMBER', 'usage', `--jobs ${JSON.stringify(value)} is not a whole number of 1 or more`, { hint: 'e.g. --jobs 4' });
  }
  return n;
}

function manyConfig(opts: CommonOptions & { jobs?: number }, ui: Console): ManyConfig {
  return { ...sessionConfig(opts, ui), onProgress: undefined, onBackup: (e) => ui.backupProgress(e), concurrency: opts.jobs };
}

/** Refuse an existing output before anything is loaded, not after. */
async function refuseEarly(path: string | undefined, force: boolean | undefined, flag: string): Promise<void> {
  if (path) await refuseExisting(path, { force: !!force }, flag);
}

function noteFailures(set: BackupSet, ui: Console): { path: string; code: string; message: string }[] {
  for (const f of set.failed) ui.warn(`skipped ${f.path}: ${f.error.message}`);
  if (set.failed.length) ui.note(`${set.loaded.length} of ${set.loaded.length + set.failed.length} backups loaded`);
  return set.failed.map((f) => ({ path: f.path, code: f.error.code, message: f.error.message }));
}

/**
 * The student across the loaded backups: found by name in each, followed by
 * the id the newest match has (a rename keeps the row), then each backup's
 * tasks and that student's texts.
 */
async function studentSnapshots(set: BackupSet, name: string, ui: Console): Promise<{ history: History; snapshots: Snapshot[] }> {
  const matches = await set.map(async (b) => {
    const users = await b.query.users();
    try {
      return { date: b.date.value, users, user: (await b.query.findUser(name)) as UserRecord | null, error: null };
    } catch (e) {
      if (!(e instanceof RecoverError && e.exit === 'noStudent')) throw e;
      return { date: b.date.value, users, user: null, error: e };
    }
  });
  const chosen = chooseUser(matches);
  if (!chosen) {
    const newest = matches.at(-1)!.error!;
    const n = matches.length;
    // The newest backup's answer (with its closest names), said of them all.
    throw new RecoverError(newest.code, newest.exit, n === 1 ? newest.message : newest.message.replace(/ in this backup/, ` in any of these ${n} backups`), {
      hint: newest.hint,
    });
  }
  if (chosen.note) ui.note(chosen.note);
  const snapshots = await set.map(async (b, entry) => {
    const k = set.loaded.indexOf(entry);
    const user = matches[k]!.users.find((u) => u.id === chosen.id) ?? null;
    const tasks = (await b.query.tasks()).map((t) => ({ id: t.id, storedName: t.storedName, phase: t.phase, sortPosition: t.sortPosition, isEnabled: t.isEnabled, title: t.title }));
    const texts = user ? await b.query.texts(user) : [];
    return { path: entry.path, date: b.date.value, dateSource: b.date.source, user: user ? { id: user.id, username: user.username } : null, tasks, texts };
  });
  return { history: buildHistory(snapshots, chosen.id), snapshots };
}

function mergeHint(h: History, backups: readonly string[]): string {
  const newest = h.dates.at(-1)!.path;
  return `recover-texts merge --user ${shellWord(h.user.username)} --current ${shellWord(newest)} --auto ${backups.map(shellWord).join(' ')} --out ${shellWord(`${h.user.username}-upload.json`)}`;
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function historyCommand(backups: string[], opts: CommonOptions & HistoryOpts, ui: Console): Promise<void> {
  const config = manyConfig(opts, ui);
  await refuseEarly(opts.html, opts.force, '--html');
  await withBackups(backups, config, async (set) => {
    ui.endProgress();
    const failed = noteFailures(set, ui);
    const { history: h } = await studentSnapshots(set, opts.user, ui);
    const lost = h.tasks.filter((t) => t.status === 'lost');
    const restore = lost.length ? mergeHint(h, set.loaded.map((e) => e.path)) : undefined;
    if (opts.html) {
      await writeFileAtomic(opts.html, renderHtmlReport(h, { failed, restoreCommand: restore, timezone: opts.timezone }), { force: !!opts.force });
      ui.note(`wrote ${opts.html}`);
    }
    if (opts.json) await writeStdout(JSON.stringify(historyJson(h, { diff: opts.diff, failed }), null, 2) + '\n');
    else await writeStdout(renderHistoryTable(h, { diff: opts.diff }));
    if (restore) ui.note(`${lost.length} text${lost.length === 1 ? ' is' : 's are'} lost (${lost.map((t) => t.name).join(', ')}); to restore just ${lost.length === 1 ? 'it' : 'those'}:\n  ${restore}`);
  });
}

export async function mergeCommand(backups: string[], opts: CommonOptions & MergeOpts, ui: Console): Promise<void> {
  if (!opts.auto && !opts.take.length) {
    throw new RecoverError('USAGE_NOTHING_TO_TAKE', 'usage', 'merge needs --auto or at least one --take TASK@DATE', {
      hint: 'run `recover-texts history` first to see which dates to take texts from',
    });
  }
  const takes = opts.take.map(parseTake);
  const config = manyConfig(opts, ui);
  await refuseEarly(opts.out, opts.force, '--out');
  await fs.access(opts.current).catch(() => {
    throw new RecoverError('CURRENT_NOT_FOUND', 'notFound', `--current ${opts.current} does not exist`, { hint: 'give a newer backup or the live server\'s JSON download' });
  });
  const json = (await isJsonFile(opts.current)) ? parseCurrentJson(opts.current, await fs.readFile(opts.current, 'utf8')) : null;
  const paths = json ? backups : [...backups, opts.current];

  await withBackups(paths, config, async (set) => {
    ui.endProgress();
    const currentFailed = !json && set.failed.find((f) => resolve(f.path) === resolve(opts.current));
    if (currentFailed) throw currentFailed.error;
    noteFailures(set, ui);
    const { history: h, snapshots } = await studentSnapshots(set, opts.user, ui);

    let current: CurrentData;
    if (json) {
      const username = json.username ?? h.user.username;
      if (json.username && json.username !== h.user.username) ui.note(`the current JSON's username is ${json.username}; the newest backup's is ${h.user.username}: writing ${json.username}`);
      current = { kind: 'json', label: opts.current, date: null, username, texts: json.texts, tasks: null };
    } else {
      const k = set.loaded.findIndex((e) => resolve(e.path) === resolve(opts.current));
      const snap = snapshots[k]!;
      if (!snap.user) {
        throw new RecoverError('USER_NOT_FOUND', 'noStudent', `the student (user id ${h.user.id}, ${h.user.username}) is not in --current ${opts.current}`, {
          hint: 'give the newest backup, or the live JSON, as --current',
        });
      }
      if (k !== set.loaded.length - 1) ui.warn(`--current ${opts.current} (${snap.date}) is older than ${h.dates.at(-1)!.date}: texts written since its date are not in the output`);
      current = {
        kind: 'backup',
        label: opts.current,
        date: snap.date,
        username: snap.user.username,
        texts: snap.texts.map((t) => ({ taskId: t.taskId, textId: t.textId, element: { ...toServerText(t), task_name: t.storedTaskName } })),
        tasks: snap.tasks,
      };
    }

    const { choices, notes } = resolveChoices(h, current, takes, !!opts.auto);
    const plan = planMerge(h, current, choices, snapshots.at(-1)!.tasks);
    for (const n of [...notes, ...plan.notes]) ui.note(n);
    for (const w of plan.warnings) ui.warn(w);
    const taken = plan.rows.filter((r) => r.from !== 'current');
    ui.note(
      table(
        ['TASK', 'FROM', 'CHARS', 'REPLACES'],
        plan.rows.map((r) => [r.task, r.from === 'current' ? `current (${basename(current.label)})` : r.from, String(r.chars), r.from === 'current' ? '' : r.replaced === null ? 'no text' : `${r.replaced} chars`]),
      ).trimEnd(),
    );
    ui.note(
      taken.length
        ? `${plan.username}: ${plan.elements.length} texts, ${taken.length} taken from backups, the rest as they are now; upload it on the server's "Upload texts as JSON" page for ${plan.username}`
        : `${plan.username}: nothing to take; the output is the current texts (${plan.elements.length})`,
    );
    const out = renderUploadJson(plan.elements);
    if (opts.out) {
      await writeFileAtomic(opts.out, out, { force: !!opts.force });
      ui.note(`wrote ${opts.out}`);
    } else {
      await writeStdout(out);
    }
  });
}

export async function exportAllCommand(backupPath: string, opts: CommonOptions & ExportAllOpts, ui: Console): Promise<void> {
  const config = sessionConfig(opts, ui);
  await refuseEarly(opts.out, opts.force, '--out');
  await withBackup(backupPath, config, async (b) => {
    const authors = await b.query.authors();
    const all: { user: UserRecord; texts: TextRecord[] }[] = [];
    const refused: RecoverError[] = [];
    for (const a of authors) {
      try {
        all.push({ user: a, texts: await b.query.texts(a) });
      } catch (e) {
        // One student's undecodable texts (SQL_ASCII) must not cost everyone else theirs.
        if (!(e instanceof RecoverError && e.code === 'TEXT_NOT_UTF8')) throw e;
        refused.push(e);
      }
    }
    ui.endProgress();
    for (const e of refused) ui.note(`skipped: ${e.message} (hint: ${e.hint})`);
    if (!all.length) ui.note('no user has any texts in this backup; the folder holds only index.json');
    const names = uniqueFileNames(
      all.map((x) => x.user.username),
      opts.format === 'json' ? '.json' : '',
    );
    const ctxFor = (username: string) => exportContext(backupPath, b, username, opts.timezone);
    const { username: _none, ...source } = ctxFor('');
    const index = {
      ...source,
      format: opts.format,
      skipped: refused.map((e) => e.message),
      users: all.map((x, k) => ({
        username: x.user.username,
        isStudent: x.user.isStudent,
        texts: x.texts.length,
        newest: newestTimestamp(x.texts),
        [opts.format === 'json' ? 'file' : 'folder']: names[k],
      })),
    };
    await writeDirAtomic(
      opts.out,
      async (dir) => {
        for (const [k, x] of all.entries()) {
          const target = `${dir}/${names[k]}`;
          if (opts.format === 'json') await fs.writeFile(target, renderUploadJson(x.texts), { mode: 0o600 });
          else {
            await fs.mkdir(target, { mode: 0o700 });
            await fillTextsDir(target, x.texts, ctxFor(x.user.username));
          }
        }
        await fs.writeFile(`${dir}/index.json`, JSON.stringify(index, null, 2) + '\n', { mode: 0o600 });
      },
      { force: !!opts.force },
    );
    const renamedTasks = new Set(all.flatMap((x) => x.texts.filter((t) => t.storedTaskName !== t.task_name).map((t) => t.storedTaskName)));
    ui.note(
      table(
        ['USERNAME', 'TEXTS', `NEWEST (${opts.timezone})`, opts.format === 'json' ? 'FILE' : 'FOLDER'],
        all.map((x, k) => [x.user.username + (x.user.isStudent === false ? ' (staff)' : ''), String(x.texts.length), newestTimestamp(x.texts) ?? '', names[k]!]),
      ).trimEnd(),
    );
    if (renamedTasks.size) ui.note(`task names are written as the server stores them (${[...renamedTasks].join(', ')}), so the upload matches them`);
    ui.note(`${all.length} users, ${all.reduce((n, x) => n + x.texts.length, 0)} texts from the backup of ${b.date.value} (date from ${b.date.source}); wrote ${opts.out}`);
    if (refused.length) {
      throw new RecoverError('TEXT_NOT_UTF8_SKIPPED', 'load', `${refused.length} user${refused.length === 1 ? ' was' : 's were'} skipped because their texts are not valid UTF-8; the others are in ${opts.out}`, {
        hint: 'export those users with --backup-encoding ENC (e.g. LATIN1 or WIN1252) once you know how the server stored them',
      });
    }
  });
}

function writeStdout(s: string): Promise<void> {
  return new Promise((resolvePromise, reject) => process.stdout.write(s, (e) => (e ? reject(e) : resolvePromise())));
}
