/** `cache`: the cached PostgreSQL data-directory templates: where they are, what they take, and clearing them. */
import type { Command } from 'commander';
import { clearCache, listCache, UNUSED_TEMPLATE_MS } from '../engine/index.js';
import { table } from '../table.js';
import type { Console } from './console.js';
import { plural, writeStdout, writeText, type Runner } from './output.js';

interface CacheOptions {
  clear?: boolean;
  json?: boolean;
}

export function registerCache(program: Command, run: Runner, ui: Console): void {
  program
    .command('cache')
    .description('the cached PostgreSQL data-directory templates (one per PostgreSQL installation): where, for what, how big, last used')
    .option('--clear', 'remove every template now (a run in progress is not disturbed; the next run makes a new one)')
    .option('--json', 'machine-readable output')
    .option('-q, --quiet', 'no notes on stderr')
    .option('--debug', 'show stack traces and internal detail on errors')
    .addHelpText(
      'after',
      `
Each run copies a template instead of running initdb (about a second). A template unused for
${UNUSED_TEMPLATE_MS / (24 * 3600_000)} days is removed by a later run; --no-cache on a run neither reads nor writes the cache.
The cache is $XDG_CACHE_HOME/recover-texts, else ~/.cache/recover-texts.

Examples:
  recover-texts cache
  recover-texts cache --json
  recover-texts cache --clear`,
    )
    .action((opts: CacheOptions) => run(() => (opts.clear ? clear(opts, ui) : show(opts, ui))));
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function show(opts: CacheOptions, ui: Console): Promise<void> {
  const c = await listCache();
  if (opts.json) return writeStdout(JSON.stringify(c, null, 2) + '\n');
  if (!c.exists) return writeText(`no PostgreSQL template cache yet: the next run makes ${c.dir}\n`);
  const lines = [`PostgreSQL template cache: ${c.dir}`];
  if (c.templates.length) {
    const rows = c.templates.map((t) => [t.name, t.binaries ?? '(no stamp: rebuilt when used)', mb(t.bytes), lastUsed(t.lastUsed), t.postgres ?? '']);
    lines.push((await table(['TEMPLATE', 'FOR', 'SIZE', 'LAST USED', 'POSTGRES PROGRAM'], rows)).trimEnd());
  }
  if (c.leftovers.entries) lines.push(`${plural(c.leftovers.entries, 'unfinished entry', 'unfinished entries')} (a run saving or removing a template now, or one that was killed): ${mb(c.leftovers.bytes)}`);
  lines.push(`total: ${plural(c.templates.length, 'template')}, ${mb(c.totalBytes)}`);
  await writeText(lines.join('\n') + '\n');
  if (c.templates.length) ui.note('`recover-texts cache --clear` removes them; the next run makes its template again');
}

/** Local time to the minute, and how long ago. */
function lastUsed(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor((Date.now() - d.getTime()) / (24 * 3600_000));
  const ago = days < 1 ? 'today' : days === 1 ? 'yesterday' : `${days} days ago`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())} (${ago})`;
}

async function clear(opts: CacheOptions, ui: Console): Promise<void> {
  const c = await clearCache();
  if (opts.json) return writeStdout(JSON.stringify(c, null, 2) + '\n');
  await writeText(
    c.freedBytes || c.removed.length
      ? `removed ${plural(c.removed.length, 'template')} from ${c.dir}: freed ${mb(c.freedBytes)}\n`
      : `nothing to remove: ${c.dir} holds no template\n`,
  );
  if (c.removed.length) ui.note('the next run makes its template again (about a second)');
}
