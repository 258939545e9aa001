/** `users`: who has texts in a backup. */
import type { Command } from 'commander';
import { withBackup } from '../session/index.js';
import { table } from '../table.js';
import type { Console } from './console.js';
import { addCommonOptions, resolveSession, type CommonOptions } from './options.js';
import { writeStdout, type Runner } from './output.js';

export function registerUsers(program: Command, run: Runner, ui: Console): void {
  addCommonOptions(
    program
      .command('users')
      .description('the users who have texts in the backup: username, name, number of texts, newest text')
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, or a pg_dump archive')
      .option('--json', 'machine-readable output'),
  ).action((backup: string, opts: CommonOptions & { json?: boolean }) => run(() => users(backup, opts, ui)));
}

async function users(backupPath: string, opts: CommonOptions & { json?: boolean }, ui: Console): Promise<void> {
  await withBackup(backupPath, resolveSession(opts, ui), async (b) => {
    const authors = await b.query.authors();
    ui.endProgress();
    if (opts.json) {
      const out = authors.map((a) => ({ username: a.username, extUsername: a.extUsername, name: realName(a), isStudent: a.isStudent, texts: a.texts, newest: a.newest }));
      return writeStdout(JSON.stringify(out, null, 2) + '\n');
    }
    if (!authors.length) return ui.note('no user has any texts in this backup');
    await writeStdout(
      table(
        ['USERNAME', 'NAME', 'EXT_USERNAME', 'TEXTS', `NEWEST (${opts.timezone})`],
        authors.map((a) => [a.username + (a.isStudent === false ? ' (staff)' : ''), realName(a), a.extUsername ?? '', String(a.texts), a.newest ?? '']),
      ),
    );
  });
}

function realName(u: { firstName: string | null; lastName: string | null }): string {
  return [u.firstName, u.lastName].filter(Boolean).join(' ');
}
