/** `users`: who has texts in a backup. */
import type { Command } from 'commander';
import { parseDateBound } from '../detect/index.js';
import { realName, searchUsers } from '../query/index.js';
import { withBackup } from '../session/index.js';
import { table } from '../table.js';
import type { Scope } from '../scope.js';
import type { Console } from './console.js';
import { oneBackup } from './many.js';
import { addCommonOptions, resolveSession, type CommonOptions } from './options.js';
import { writeStdout, writeText, type Runner } from './output.js';

export function registerUsers(program: Command, run: Runner, ui: Console): void {
  addCommonOptions(
    program
      .command('users')
      .description('the users who have texts in the backup: username, name, number of texts, newest text')
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, a pg_dump archive, or a folder of them (its newest)')
      .option('--search <text>', 'only users whose username, ext_username, first or last name contains this (any case)')
      .option('--before <date>', 'with a folder: its newest backup before this day (YYYY-MM-DD)', (v: string) => parseDateBound('--before', v))
      .option('--json', 'machine-readable output'),
  ).action((backup: string, opts: UsersOptions) => run((scope) => users(backup, opts, ui, scope)));
}

interface UsersOptions extends CommonOptions {
  json?: boolean;
  search?: string;
  before?: string;
}

async function users(arg: string, opts: UsersOptions, ui: Console, scope: Scope): Promise<void> {
  const config = resolveSession(opts, ui, scope);
  const backup = await oneBackup(arg, opts.before, ui, opts.debug);
  await withBackup(backup, config, async (b) => {
    const all = await b.query.authors();
    const authors = opts.search === undefined ? all : searchUsers(all, opts.search);
    ui.endProgress();
    if (opts.search !== undefined) ui.note(`${authors.length} of ${all.length} users with texts match "${opts.search}"`);
    if (opts.json) {
      const out = authors.map((a) => ({ username: a.username, extUsername: a.extUsername, name: realName(a), isStudent: a.isStudent, texts: a.texts, newest: a.newest }));
      return writeStdout(JSON.stringify(out, null, 2) + '\n');
    }
    if (!authors.length) return ui.note(opts.search === undefined ? 'no user has any texts in this backup' : 'no user with texts matches; `users` without --search lists them all');
    await writeText(
      await table(
        ['USERNAME', 'NAME', 'EXT_USERNAME', 'TEXTS', `NEWEST (${opts.timezone})`],
        authors.map((a) => [a.username + (a.isStudent === false ? ' (staff)' : ''), realName(a), a.extUsername ?? '', String(a.texts), a.newest ?? '']),
      ),
    );
  });
}
