/**
 * Makes the benchmark backups: the `current` fixture database plus about
 * 220 MB of other-table bulk (db_files rows of hex text, as the race server
 * stores uploaded files), dumped as plain SQL, gzipped SQL and a custom
 * archive (about 110 MB; hex compresses to half). Needs PostgreSQL 15
 * (server and pg_dump) on this machine: the `system` engine runs it.
 *
 *   npx tsx bench/big-backup.ts [MB]     (default 220)
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { startEngine } from '../src/engine/index.js';

export const OUT = join(import.meta.dirname, 'out');
export const BIG = { plain: join(OUT, 'big.sql'), gzip: join(OUT, 'big.sql.gz'), custom: join(OUT, 'big.dump') };

export async function makeBigBackups(megabytes = 220): Promise<void> {
  if (Object.values(BIG).every((p) => existsSync(p))) return;
  mkdirSync(OUT, { recursive: true });
  const scratch = await startEngine({ kind: 'system', log: (m) => console.error(m) });
  try {
    const c = scratch.clientConfig('postgres');
    const env = { ...process.env, PGPASSWORD: String(c.password), PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user) };
    const psql = (db: string, ...args: string[]) => execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    psql('postgres', '-c', 'CREATE ROLE buggy', '-c', 'CREATE ROLE buggy_ro', '-c', 'CREATE DATABASE buggy_race OWNER buggy');
    execFileSync('psql', ['-X', '-q', '-d', 'buggy_race', '-f', join(import.meta.dirname, '..', 'fixtures', 'generated', 'current', 'plain.sql')], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    const rows = Math.round((megabytes * 1e6) / 100_000);
    console.error(`adding ${rows} db_files rows of 100 kB ...`);
    psql('buggy_race', '-c', `INSERT INTO public.db_files (id, type, name, item_id, contents)
      SELECT 100000 + g, 'json', 'bulk-' || g, NULL, (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 3125) s)
      FROM generate_series(1, ${rows}) g`);
    const dump = (args: string[], file: string) => execFileSync('sh', ['-c', `pg_dump ${args.join(' ')} buggy_race > '${file}'`], { env, stdio: 'inherit' });
    dump([], BIG.plain);
    dump(['-Fc'], BIG.custom);
    await pipeline(createReadStream(BIG.plain), createGzip({ level: 6 }), createWriteStream(BIG.gzip));
  } finally {
    await scratch.stop();
  }
  for (const p of Object.values(BIG)) console.error(`${p}: ${(statSync(p).size / 1e6).toFixed(1)} MB`);
}

if (import.meta.url === `file://${process.argv[1]}`) await makeBigBackups(Number(process.argv[2] ?? 220));
