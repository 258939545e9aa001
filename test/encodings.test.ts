/**
 * Backups of databases whose encoding is not UTF8 (fixtures/encodings/, made by
 * scripts/make-encoding-fixtures.ts): LATIN1 converts exactly; SQL_ASCII text
 * that is valid UTF-8 exports unchanged; SQL_ASCII bytes that are not UTF-8
 * are never exported silently damaged: the student's export is refused,
 * naming the student and the tasks, until --backup-encoding names their
 * encoding, and then it is exact.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecoverError } from '../src/errors.js';
import { renderJson } from '../src/export/index.js';
import { resolveBackupEncoding } from '../src/load/index.js';
import { Utf8Check } from '../src/load/encoding.js';
import { withBackup, type SessionConfig } from '../src/session/index.js';
import { expectCleanError, FIXTURES, runCli } from './helpers.js';
import { Scope } from '../src/scope.js';

const DIR = join(FIXTURES, 'encodings');
interface Student {
  username: string;
  refusedTasks: string[] | null;
  withEncoding: string[];
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  databases: { name: string; encoding: string; dumps: string[]; students: Student[] }[];
};
const db = (name: string) => manifest.databases.find((d) => d.name === name)!;
const expected = (dbName: string, file: string) => readFileSync(join(DIR, dbName, 'expected', file), 'utf8');

function config(backupEncoding?: string): SessionConfig & { notes: string[] } {
  const notes: string[] = [];
  return { engine: { kind: 'embedded', log: () => {} }, scope: new Scope(), timezone: 'UTC', log: (m) => notes.push(m), backupEncoding, notes };
}

/** Each student's export, or the error that refused it. */
async function exportAll(file: string, students: Student[], backupEncoding?: string): Promise<{ out: Map<string, string | RecoverError>; notes: string[] }> {
  const c = config(backupEncoding);
  const out = new Map<string, string | RecoverError>();
  await withBackup(file, c, async (b) => {
    for (const s of students) {
      try {
        out.set(s.username, renderJson(await b.query.texts(await b.query.findUser(s.username))));
      } catch (e) {
        if (!(e instanceof RecoverError)) throw e;
        out.set(s.username, e);
      }
    }
  });
  return { out, notes: c.notes };
}

describe('a LATIN1 database', () => {
  const latin1 = db('latin1');
  for (const dump of latin1.dumps) {
    it(`${dump}: PostgreSQL converts, every student exports exactly`, async () => {
      const { out } = await exportAll(join(DIR, 'latin1', dump), latin1.students);
      for (const s of latin1.students) expect(out.get(s.username), s.username).toBe(expected('latin1', `${s.username}.json`));
    });
  }
});

describe('a SQL_ASCII database holding mixed encodings', () => {
  const ascii = db('sqlascii');
  for (const dump of ascii.dumps) {
    it(`${dump}: UTF-8 texts export unchanged; others are refused, naming the student and tasks`, async () => {
      const { out, notes } = await exportAll(join(DIR, 'sqlascii', dump), ascii.students);
      for (const s of ascii.students) {
        const got = out.get(s.username);
        if (!s.refusedTasks) {
          expect(got, s.username).toBe(expected('sqlascii', `${s.username}.json`));
          continue;
        }
        expect(got).toBeInstanceOf(RecoverError);
        const e = got as RecoverError;
        expect(e.code).toBe('TEXT_NOT_UTF8');
        expect(e.message).toContain(`${s.username}'s text`);
        for (const t of s.refusedTasks) expect(e.message).toContain(t);
        expect(e.message).not.toMatch(/\n/);
        expect(e.hint).toMatch(/--backup-encoding LATIN1/);
      }
      expect(notes.join('\n')).toMatch(/fields? of .*sqlascii.* \(SQL_ASCII\) (is|are) not valid UTF-8/);
    });

    for (const encoding of ['LATIN1', 'WIN1252']) {
      it(`${dump} with --backup-encoding ${encoding}: those texts convert exactly, UTF-8 ones stay as they are`, async () => {
        const { out, notes } = await exportAll(join(DIR, 'sqlascii', dump), ascii.students, encoding);
        for (const s of ascii.students) {
          const got = out.get(s.username);
          if (!s.refusedTasks) expect(got, s.username).toBe(expected('sqlascii', `${s.username}.json`));
          else if (s.withEncoding.includes(encoding)) expect(got, s.username).toBe(expected('sqlascii', `${s.username}.${encoding}.json`));
        }
        expect(notes.join('\n')).toMatch(new RegExp(`were read as ${encoding}`));
      });
    }
  }
});

describe("what scan is told of a SQL_ASCII backup's bytes that are not UTF-8", () => {
  it("every student's texts at once: the records holding such bytes, by the same rule as a student's export, and the names that hold them", async () => {
    const ascii = db('sqlascii');
    const seen = async (backupEncoding?: string) => {
      let out: { bad: [string, string][]; names: { users: number[]; tasks: number[] } } | undefined;
      await withBackup(join(DIR, 'sqlascii', 'plain.sql'), config(backupEncoding), async (b) => {
        const all = await b.query.allTexts(await b.query.users());
        const names = b.query.notUtf8Names();
        out = { bad: b.query.notUtf8(all).map((r) => [r.username, r.task_name] as [string, string]), names: { users: [...names.users], tasks: [...names.tasks] } };
      });
      return out!;
    };
    const { bad, names } = await seen();
    // Exactly the students and tasks an export of each refuses.
    const refused = ascii.students.flatMap((s) => (s.refusedTasks ?? []).map((t) => `${s.username} ${t}`));
    expect([...new Set(bad.map(([u, t]) => `${u} ${t}`))].sort()).toEqual(refused.sort());
    expect(names.users).toEqual([]);
    expect(names.tasks.length).toBeGreaterThan(0);
    // Named, the encoding decodes them: nothing is left that is not UTF-8.
    expect(await seen('WIN1252')).toEqual({ bad: [], names: { users: [], tasks: [] } });
  });
});

describe('the CLI', () => {
  const file = join(DIR, 'sqlascii', 'plain.sql');
  it('refuses a student with non-UTF-8 texts in one clean line, exit 8, no output', async () => {
    const r = await runCli(['export', file, '-u', 'windows']);
    expect(r.code).toBe(8);
    expect(r.stdout).toBe('');
    const { message, hint } = expectCleanError(r);
    expect(message).toBe("recover-texts: windows's text for 1-REPORT is not valid UTF-8 in this SQL_ASCII backup, so the encoding is unknown and an export would be wrong");
    expect(hint).toMatch(/--backup-encoding LATIN1 .*WIN1252/);
  });

  it('export-all writes everyone it can, names who was skipped, and exits 8', async () => {
    const out = join(tmpdir(), `rt-enc-all-${process.pid}`);
    rmSync(out, { recursive: true, force: true });
    try {
      const r = await runCli(['export-all', file, '--out', out]);
      expect(r.code, r.stderr).toBe(8);
      expect(r.stderr).toMatch(/skipped: windows's text for 1-REPORT is not valid UTF-8/);
      expect(expectCleanError(r).message).toMatch(/2 users were skipped because their texts are not valid UTF-8; the others are in /);
      const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { users: { username: string }[]; skipped: string[] };
      expect(index.users.map((u) => u.username).sort()).toEqual(['ascii', 'utf8']);
      expect(index.skipped).toHaveLength(2);
      expect(readdirSync(out).sort()).toEqual(['ascii.json', 'index.json', 'utf8.json']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('exports it exactly with --backup-encoding (any common spelling)', async () => {
    const r = await runCli(['export', file, '-u', 'windows', '--backup-encoding', 'windows-1252']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected('sqlascii', 'windows.WIN1252.json'));
  });

  it('inspect counts the fields that are not UTF-8', async () => {
    const r = await runCli(['inspect', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ encoding: 'SQL_ASCII', notUtf8Fields: 6 });
  });

  it('does not take WIN1252 bytes (curly quotes, euro) for LATIN1 control characters', async () => {
    const r = await runCli(['export', file, '-u', 'windows', '--backup-encoding', 'LATIN1']);
    expect(r.code).toBe(8);
    expect(expectCleanError(r).message).toMatch(/windows's text for 1-REPORT is not valid UTF-8 nor LATIN1/);
  });

  it('history takes --backup-encoding too', async () => {
    const backups = [file, join(DIR, 'sqlascii', 'custom.dump')];
    const refused = await runCli(['history', '--user', 'windows', ...backups, '--json']);
    expect(refused.code).toBe(8);
    const r = await runCli(['history', '--user', 'windows', ...backups, '--json', '--backup-encoding', 'WIN1252']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/read as WIN1252/);
  });

  it('refuses an encoding it cannot read as a usage error', async () => {
    const r = await runCli(['export', file, '-u', 'windows', '--backup-encoding', 'EBCDIC']);
    expect(r.code).toBe(2);
    expect(expectCleanError(r).message).toMatch(/--backup-encoding "EBCDIC" is not an encoding/);
  });

  it('says --backup-encoding is not used on a backup that declares a real encoding', async () => {
    const r = await runCli(['export', join(DIR, 'latin1', 'plain.sql'), '-u', 'zoe', '--backup-encoding', 'WIN1252']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected('latin1', 'zoe.json'));
    expect(r.stderr).toMatch(/declares LATIN1, which PostgreSQL converts itself, so it was not used/);
  });
});

describe('reading encodings', () => {
  it('knows PostgreSQL names and common spellings', () => {
    expect(resolveBackupEncoding('latin1')).toBe('LATIN1');
    expect(resolveBackupEncoding('ISO-8859-15')).toBe('LATIN9');
    expect(resolveBackupEncoding('cp1252')).toBe('WIN1252');
    expect(resolveBackupEncoding('Windows-1251')).toBe('WIN1251');
    expect(resolveBackupEncoding('euc_jp')).toBe('EUC_JP');
    expect(() => resolveBackupEncoding('UTF-16')).toThrow(RecoverError);
  });

  it('decodes a field after undoing COPY escapes (a SJIS byte 0x5C is written as \\\\)', () => {
    const check = new Utf8Check('SJIS');
    // 表 is 0x95 0x5C in Shift-JIS; a SQL_ASCII server escapes the 0x5C byte like a backslash.
    const out = check.rows('tasktexts', ['id', 'text'], '7\t\x95\\\\\\t\n');
    expect(Buffer.from(out, 'latin1').toString('utf8')).toBe('7\t表\\t\n');
    expect(check.converted).toBe(1);
    expect(check.notUtf8).toEqual([]);
  });

  it('records a field it cannot read, by table, id and column, and loads U+FFFD in its place', () => {
    const check = new Utf8Check();
    const out = check.rows('tasktexts', ['id', 'text'], '1\tok\n2\tcaf\xe9\n');
    expect(Buffer.from(out, 'latin1').toString('utf8')).toBe('1\tok\n2\tcaf\uFFFD\n');
    expect(check.notUtf8).toEqual([{ table: 'tasktexts', id: '2', column: 'text' }]);
  });

  it('WIN1252 bytes with no character are not guessed', () => {
    const check = new Utf8Check('WIN1252');
    check.rows('tasks', ['id', 'name'], '3\tx\x81y\n4\t\x93q\x94\n');
    expect(check.notUtf8).toEqual([{ table: 'tasks', id: '3', column: 'name' }]);
    expect(check.converted).toBe(1);
  });
});
