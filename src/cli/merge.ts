/** `merge`: the upload JSON for a partial restoration. */
import { promises as fs } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { isReadOnce, nearbyPaths } from '../detect/index.js';
import { backupName, isS3Url } from '../remote/index.js';
import { RecoverError } from '../errors.js';
import { renderUploadJson, writeFileAtomic } from '../export/index.js';
import { buildHistory } from '../history/index.js';
import { currentFromJson, currentFromSnapshot, isJsonFile, parseCurrentJson, parseTake, planMerge, replacements, resolveChoices, uploadWarning, type CurrentData } from '../merge/index.js';
import { studentSnapshots, textsFor, withBackups } from '../session/index.js';
import { table } from '../table.js';
import type { Scope } from '../scope.js';
import type { Console } from './console.js';
import { addRangeOptions, manyConfig, noteFailures, passedOn, selectFromArgs, type RangeOptions } from './many.js';
import { addCommonOptions, checkOutput, checkUserGiven, collect, positiveInt, type CommonOptions } from './options.js';
import { writeStdout, type Runner } from './output.js';

interface MergeOptions extends CommonOptions, RangeOptions {
  /** Given: checkUserGiven says so before the command runs. */
  user: string;
  current: string;
  take?: string[];
  auto?: boolean;
  out?: string;
  force?: boolean;
  jobs?: number;
}

export function registerMerge(program: Command, run: Runner, ui: Console): void {
  addCommonOptions(
    addRangeOptions(program
      .command('merge')
      .description("the upload JSON for a partial restoration: the student's current texts, with chosen tasks taken from chosen backup dates")
      .argument('<backup...>', 'the backups to take texts from, or a folder of them')
      .option('-u, --user <name>', 'username (exact, then ignoring case), ext_username, or real name; followed by id across renames')
      .requiredOption('--current <file>', 'the texts as they are now: a newer backup, or the JSON from the live server\'s "Load texts as JSON" page')
      .option('--take <task@date>', 'take this task from this backup date (repeatable): 3-REPORT@2026-03-12, or 3-REPORT@current to keep it', collect)
      .option('--auto', 'take every task still lost from its longest version before the loss (see `history`)')
      .option('-o, --out <file>', 'write here (atomically) instead of stdout')
      .option('--force', 'replace an existing --out that recover-texts wrote (never anything else)')
      .addOption(new Option('--jobs <n>', 'backups loaded at once (default: the number of cores, at least 4)').argParser(positiveInt))
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
      )),
  ).action((backups: string[], opts: MergeOptions, cmd: Command) => {
    checkUserGiven(cmd, opts.user);
    return run((scope) => merge(backups, opts, ui, scope));
  });
}

async function merge(backups: string[], opts: MergeOptions, ui: Console, scope: Scope): Promise<void> {
  const take = opts.take ?? [];
  if (!opts.auto && !take.length) {
    throw new RecoverError('USAGE_NOTHING_TO_TAKE', 'merge needs --auto or at least one --take TASK@DATE', {
      hint: 'run `recover-texts history` first to see which dates to take texts from',
    });
  }
  const takes = take.map(parseTake);
  const place = await checkOutput(opts.out, opts.force, '--out', { inputs: [opts.current, ...backups] });
  // A pipe, a URL or an S3 object is a backup, never stat'ed (the live server's JSON is a file).
  const piped = isS3Url(opts.current) || (await isReadOnce(opts.current));
  const stat = piped ? undefined : await fs.stat(opts.current).catch(async () => {
    const near = await nearbyPaths(opts.current);
    throw new RecoverError('CURRENT_NOT_FOUND', `--current ${opts.current} does not exist${near.length ? `; did you mean ${near.join(' or ')}?` : ''}`, {
      hint: "give a newer backup or the live server's JSON download",
    });
  });
  const json = !piped && (await isJsonFile(opts.current)) ? parseCurrentJson(opts.current, await fs.readFile(opts.current, 'utf8')) : null;
  // Backups are named as shown (a URL redacted), --current too.
  const isCurrent = (path: string) => resolve(path) === resolve(backupName(opts.current));
  const selected = await selectFromArgs(json ? backups : [...backups, opts.current], opts, ui);

  await withBackups(selected.backups, { ...manyConfig(opts, ui, scope, selected.optional), textsOf: textsFor(opts.user) }, async (set) => {
    ui.endProgress();
    noteFailures(set, ui);
    const { userId, snapshots } = await studentSnapshots(set, opts.user, (m) => ui.note(m));
    const h = buildHistory(snapshots, userId);

    let current: CurrentData;
    if (json) {
      const fromJson = currentFromJson(opts.current, json, h.user.username, stat!.mtime);
      if (fromJson.note) ui.note(fromJson.note);
      current = fromJson.current;
    } else {
      const k = set.loaded.findIndex((e) => isCurrent(e.path));
      current = currentFromSnapshot(backupName(opts.current), snapshots[k]!, h);
      if (k !== set.loaded.length - 1) ui.warn(`--current ${backupName(opts.current)} (${current.date}) is older than ${h.dates.at(-1)!.date}: texts written since its date are not in the output`);
    }

    const { choices, notes, warnings } = resolveChoices(h, current, takes, !!opts.auto);
    const plan = planMerge(h, current, choices, snapshots.at(-1)!.tasks, passedOn(opts, [opts.current, ...backups], false));
    for (const n of [...notes, ...plan.notes]) ui.note(n);
    for (const w of [...warnings, ...plan.warnings]) ui.warn(w);
    const taken = plan.rows.filter((r) => r.from !== 'current');
    ui.note(
      (await table(
        ['TASK', 'FROM', 'CHARS', 'REPLACES'],
        plan.rows.map((r) => [r.task, r.from === 'current' ? `current (${basename(current.label)})` : r.from, String(r.chars), r.from === 'current' ? '' : r.replaced === null ? 'no text' : `${r.replaced} chars`]),
      )).trimEnd(),
    );
    ui.note(
      taken.length
        ? `${plan.username}: ${plan.elements.length} texts, ${taken.length} taken from backups, the rest as they are now; upload it on the server's "Upload texts as JSON" page for ${plan.username}`
        : `${plan.username}: nothing to take; the output is the current texts (${plan.elements.length})`,
    );
    // What the upload deletes: shown even with --quiet, like every warning.
    const lines = uploadWarning(plan, current, replacements(plan));
    const fresh = lines.findIndex((l) => l.startsWith('For a current snapshot'));
    ui.warn(lines.slice(0, fresh).join('\n'));
    ui.note(lines.slice(fresh).join('\n'));
    const out = renderUploadJson(plan.elements);
    if (opts.out) {
      await writeFileAtomic(opts.out, out, { force: !!opts.force, scope, place });
      ui.note(`wrote ${opts.out}`);
    } else {
      await writeStdout(out);
    }
  });
}
