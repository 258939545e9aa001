/** `scan`: every student who lost texts across many backups, after a server incident. */
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { pathExists } from '../files.js';
import { Option, type Command } from 'commander';
import { renderUploadJson, writeDirAtomic, writeFileAtomic } from '../export/index.js';
import { buildCohort, buildHistory, cohortJson, renderCohort, SHARP_SHRINK_TEXT, type History } from '../history/index.js';
import { DATE_SOURCE_NOTE, OWN_FOLDERS } from '../detect/index.js';
import { isS3Url } from '../remote/index.js';
import { RecoverError } from '../errors.js';
import { NOT_UTF8_HINT } from '../query/index.js';
import { restoreAll, restoreAllSummary, restorePlan } from '../merge/index.js';
import { renderCohortReport } from '../report/index.js';
import { cohortTimelines, streamBackups, type Snapshot } from '../session/index.js';
import { shellWord } from '../shell.js';
import type { Scope } from '../scope.js';
import type { Console } from './console.js';
import { addRangeOptions, manyConfig, noteFailures, passedOn, selectFromArgs, type RangeOptions } from './many.js';
import { addCommonOptions, checkOutput, positiveInt, type CommonOptions } from './options.js';
import { writeStdout, writeText, type Runner } from './output.js';

/** The summary --restore writes in its folder: what --force looks for before it replaces one. */
const RESTORE_SUMMARY = 'README.txt';

interface ScanOptions extends CommonOptions, RangeOptions {
  json?: boolean;
  restore?: string;
  html?: string;
  force?: boolean;
  jobs?: number;
}

export function registerScan(program: Command, run: Runner, ui: Console): void {
  addCommonOptions(
    addRangeOptions(
      program
        .command('scan')
        .description('every student whose texts vanished or shrank sharply across the backups: who lost what, and when')
        .argument('<backup...>', 'the backups, any mix of formats, or a folder of them; ordered by the date each holds')
        .option('--json', 'machine-readable output (its shape is in the README)')
        .option('--restore <dir>', "write one upload per student who lost texts into this new folder (each what `merge --auto` writes for them, against the newest backup), and README.txt saying whom each is for, what it restores and what it replaces")
        .option('--html <file>', 'also write one self-contained page for the cohort: who and when, a timeline per student, and each lost text as the history report shows it')
        .option('--force', 'replace an existing --restore folder or --html report that recover-texts wrote (never anything else)')
        .addOption(new Option('--jobs <n>', 'backups loaded at once (default: the number of cores, at least 4)').argParser(positiveInt))
        .addHelpText(
          'after',
          `
The rules are history's: a text is lost when it went, or became
${SHARP_SHRINK_TEXT},
and is still so on the newest backup. Students and tasks are followed by id across
renames; a disabled task (its texts stay), a reshaped upload (same text, new timestamps)
and a text written again since the loss, no longer sharply shorter ("re-typed since"), are not
losses; one written again but still sharply shorter is, and is said ("written again since":
--restore keeps the new text). A deleted account, and a deleted task, lose their texts on
the first backup without them.

One line per student who lost texts, by the date of the first loss; when nobody did, the
one line "no losses in N backups from ... to ...". Either way the exit status is 0
(--restore: 8 when a student's texts are not UTF-8, see README).

Examples:
  recover-texts scan /buggy/server/db/backups
  recover-texts scan /buggy/server/db/backups --since 2026-03-01 --until 2026-03-14
  recover-texts scan buggy_race_bk_202603*.sql.gz --json > losses.json
  recover-texts scan /buggy/server/db/backups --restore uploads/ --html who-lost-what.html`,
        ),
    ),
  ).action((backups: string[], opts: ScanOptions) => run((scope) => scan(backups, opts, ui, scope)));
}

/** Where a path is, its links followed as far as they lead (the rest of it need not exist yet). */
async function realPlace(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const full = resolve(path);
  const whole = await fs.realpath(full).catch(() => undefined);
  return whole ?? join(await fs.realpath(dirname(full)).catch(() => dirname(full)), basename(full));
}

async function scan(backups: string[], opts: ScanOptions, ui: Console, scope: Scope): Promise<void> {
  // The page inside the folder of uploads would go when the folder is replaced (through a link too).
  const [restoreAt, htmlAt] = await Promise.all([opts.restore, opts.html].map(realPlace));
  if (restoreAt && htmlAt && (htmlAt + sep).startsWith(restoreAt + sep)) {
    throw new RecoverError('USAGE_CONFLICT', `--html ${opts.html} is ${restoreAt === htmlAt ? '' : 'inside '}the --restore folder ${opts.restore}`, {
      hint: 'give each its own place, e.g. --restore uploads/ --html who-lost-what.html',
    });
  }
  const restorePlace = await checkOutput(opts.restore, opts.force, '--restore', { inputs: backups, folder: OWN_FOLDERS.restore });
  const htmlPlace = await checkOutput(opts.html, opts.force, '--html', { inputs: backups });
  const selected = await selectFromArgs(backups, opts, ui);
  if (opts.restore && selected.newestTie) {
    // The uploads are made against the newest backup, and delete what the server holds first: a guess could lose work.
    const t = selected.newestTie;
    throw new RecoverError('BACKUP_ORDER_UNKNOWN', `--restore makes the uploads against the newest backup, and which one that is is unknown: ${t.paths.map((p) => basename(p)).join(', ')} share the date ${t.date.value} (${DATE_SOURCE_NOTE[t.date.source]})`, {
      hint: `move all but the newest of them out of the way${t.date.source === 'file modification time' && !t.paths.some(isS3Url) ? ', or copy the backups again with their times kept (cp -p, rsync -t)' : ''}`,
    });
  }
  // Streamed: a year never sits in the server at once. Each backup's texts wait in memory, only those that changed
  // since the night before are loaded (held-texts.ts), and a night whose other rows are the night before's shares its tables.
  await streamBackups(selected.backups, manyConfig(opts, ui, scope, selected.optional), async (set) => {
    const timelines = await cohortTimelines(set);
    ui.endProgress();
    const failed = [...selected.damaged, ...noteFailures(set, ui)];
    const cohort = buildCohort(timelines);
    if (opts.json) await writeStdout(JSON.stringify(cohortJson(cohort, failed), null, 2) + '\n');
    else await writeText(await renderCohort(cohort));
    // Passed on to the suggested merge, which reads the same backups.
    const range = passedOn(opts, backups);
    // A SQL_ASCII backup's bytes that are not UTF-8 read as U+FFFD: those students' texts are shown so, and not uploaded.
    const undecoded = cohort.students.filter((s) => timelines.notUtf8(s.id).length);
    const first = cohort.students[0];
    if (first) ui.note(`one student's texts, date by date: ${['recover-texts', 'history', '--user', first.username, ...backups, ...range].map(shellWord).join(' ')}`);
    // Each student's history again, as history builds it, one at a time; built once when both
    // outputs need it (--restore holds every student's at once anyway, so the page's are kept for it).
    const built = new Map<number, { h: History; snapshots: Snapshot[] }>();
    const historyOf = (id: number) => {
      const known = built.get(id);
      if (known) return known;
      const snapshots = timelines.snapshots(id);
      const made = { h: buildHistory(snapshots, id), snapshots };
      if (opts.restore) built.set(id, made);
      return made;
    };
    if (opts.html) {
      const page = renderCohortReport(
        cohort,
        (s) => {
          const { h, snapshots } = historyOf(s.id);
          const notUtf8 = timelines.notUtf8(s.id);
          return { h, notUtf8, restore: h.user.deletedAt || notUtf8.length ? undefined : restorePlan(h, snapshots, backups, range) };
        },
        { failed, timezone: opts.timezone },
      );
      await writeFileAtomic(opts.html, page, { force: !!opts.force, scope, flag: '--html', place: htmlPlace });
      ui.note(`wrote ${opts.html}`);
      if (undecoded.length) ui.note(`warning: ${undecoded.map((s) => s.username).join(', ')}: texts not valid UTF-8 in a SQL_ASCII backup show with \uFFFD in ${opts.html}; ${NOT_UTF8_HINT}`);
    }
    if (!opts.restore) return;
    // Nobody to restore: no folder is made, and one an earlier run made (--force) is replaced, so no stale upload stays.
    if (!cohort.students.length && !(await pathExists(opts.restore))) {
      ui.note(`nothing to restore, as nobody lost texts: ${opts.restore} was not made`);
      return;
    }
    // The uploads are what merge --auto writes for each.
    const students = cohort.students.map((s) => ({ ...historyOf(s.id), name: s.name, notUtf8: timelines.notUtf8(s.id) }));
    const all = restoreAll(students, backups, range, resolve(opts.restore));
    const summary = restoreAllSummary(all);
    await writeDirAtomic(
      opts.restore,
      async (dir) => {
        for (const u of all.uploads) await fs.writeFile(join(dir, u.file), renderUploadJson(u.plan.upload.elements), { mode: 0o600, flag: 'wx' });
        await fs.writeFile(join(dir, RESTORE_SUMMARY), summary, { mode: 0o600, flag: 'wx' });
      },
      { force: !!opts.force, scope, flag: '--restore', place: restorePlace },
    );
    ui.note(summary.trimEnd());
    ui.note(`wrote ${all.uploads.length} upload${all.uploads.length === 1 ? '' : 's'} and README.txt to ${opts.restore}`);
    const skipped = all.notRestored.filter((x) => x.student.notUtf8?.length && !x.student.h.user.deletedAt).length;
    if (skipped) {
      const others = all.uploads.length ? `the others are in ${opts.restore}` : `${opts.restore} holds README.txt only`;
      throw new RecoverError('TEXT_NOT_UTF8_SKIPPED', `${skipped} student${skipped === 1 ? ' gets' : 's get'} no upload because their texts are not valid UTF-8 (README.txt says whose); ${others}`, {
        hint: NOT_UTF8_HINT,
      });
    }
  });
}
