/**
 * Archives need no PostgreSQL client tools: with PostgreSQL's directories hidden from PATH and
 * a trap named pg_restore first on PATH (it records being run, then fails), every archive
 * fixture exports the expected JSON through the CLI, and the trap is never run. Only
 * --pg-restore runs a pg_restore, and then exactly the one given.
 */
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, expectNothingLeft, FIXTURES, makeTmp, removeTmp, runCli } from './helpers.js';

const GENERATED = join(FIXTURES, 'generated');
const manifest = JSON.parse(readFileSync(join(GENERATED, 'manifest.json'), 'utf8')) as {
  databases: { name: string; hostile?: unknown; dumps: { file: string; format: string }[]; students: { username: string; textCount: number }[] }[];
};

let tmp: string;
let trapDir: string;
let trapLog: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  tmp = makeTmp('nopg-tmp');
  trapDir = makeTmp('nopg-trap');
  trapLog = join(trapDir, 'ran');
  for (const name of ['pg_restore', 'psql', 'pg_dump']) {
    const trap = join(trapDir, name);
    writeFileSync(trap, `#!/bin/sh\necho "${name} $*" >> '${trapLog}'\nexit 1\n`);
    chmodSync(trap, 0o755);
  }
  // PATH without any PostgreSQL directory (nor /usr/bin/pg_restore's Debian wrapper), the trap first.
  const kept = (process.env.PATH ?? '').split(delimiter).filter((d) => d && !/postgres|pgsql/i.test(d) && !existsSync(join(d, 'pg_restore')));
  env = { PATH: [trapDir, ...kept].join(delimiter) };
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(trapDir);
});
// Each test starts with no record of a run: what it finds in the log, its own run wrote.
beforeEach(() => rmSync(trapLog, { force: true }));

describe('archives with no pg_restore on PATH', () => {
  for (const db of manifest.databases.filter((d) => !d.hostile)) {
    const archives = db.dumps.filter((d) => ['custom', 'tar', 'directory'].includes(d.format));
    const student = db.students.find((s) => s.textCount > 0)!;
    for (const dump of archives) {
      it(`${db.name}/${dump.file}: export --user ${student.username} gives the expected JSON, and no pg_restore runs`, async () => {
        const r = await runCli(['export', join(GENERATED, db.name, dump.file), '-u', student.username], { tmp, env });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe(readFileSync(join(GENERATED, db.name, 'expected', `${student.username}.json`), 'utf8'));
        expect(existsSync(trapLog), existsSync(trapLog) ? readFileSync(trapLog, 'utf8') : '').toBe(false);
        expectNothingLeft(tmp);
      }, 60_000);
    }
  }

  it('the trap works: --pg-restore pointing at it runs it, and its failure is one clean line', async () => {
    const path = join(GENERATED, 'current', 'custom.dump');
    const r = await runCli(['export', path, '-u', 'bob', '--pg-restore', join(trapDir, 'pg_restore')], { tmp, env });
    // The trap answers --version with a failure: not a working pg_restore, a usage error.
    expect(r.code).toBe(2);
    expect(expectCleanError(r).message).toMatch(/is not a working pg_restore/);
    expect(readFileSync(trapLog, 'utf8')).toContain('pg_restore --version');
    expectNothingLeft(tmp);
    expect(readdirSync(trapDir).sort()).toEqual(['pg_dump', 'pg_restore', 'psql', 'ran']);
  });
});
