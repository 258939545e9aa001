/**
 * Never an export that contradicts its backup. The server's upload deletes all of a student's
 * texts first, so an empty or partial export written with exit 0 is data loss. Whatever the
 * reader did, a load whose texts name users or tasks that did not load, or an archive whose
 * tables' data ran into each other, stops with exit 10 ("the backup could not be read whole")
 * in every command, and writes nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customArchive, fixtureEntries, type WEntry } from './archive-writer.js';
import { DEMO, FIXTURES, expectCleanError, expectNothingLeft, makeTmp, removeTmp, runCli } from './helpers.js';

let work: string;
let tmp: string;
beforeAll(() => {
  work = makeTmp('whole');
  tmp = makeTmp('whole-tmp');
});
afterAll(() => {
  removeTmp(work);
  removeTmp(tmp);
});

/** A run that must fail as "not read whole": exit 10, one clean line, no output, nothing left. */
async function expectNotWhole(args: string[], out?: string): Promise<string> {
  const r = await runCli(args, { tmp });
  expect(r.code, r.stderr).toBe(10);
  const { message } = expectCleanError(r);
  expect(message).toContain('the backup could not be read whole');
  expect(r.stdout).toBe('');
  if (out) expect(existsSync(out)).toBe(false);
  expectNothingLeft(tmp);
  return message;
}

/** The rows of a table's COPY block in a plain dump, each a map from column to field. */
function copyRows(sql: string, table: string): Map<string, string>[] {
  const block = new RegExp(`^COPY public\\.${table} \\(([^)]*)\\) FROM stdin;\\n([\\s\\S]*?)^\\\\\\.$`, 'm').exec(sql);
  expect(block, table).not.toBeNull();
  const [, head = '', body = ''] = block!;
  const columns = head.split(', ');
  return body.split('\n').filter(Boolean).map((r) => new Map(r.split('\t').map((v, i) => [columns[i] ?? '', v])));
}

describe('texts whose user or task did not load', () => {
  let noUser: string;
  let noTask: string;
  /** The demo's texts, and how many of them are ben's. */
  let texts: number;
  let bens: number;
  beforeAll(() => {
    const sql = gunzipSync(readFileSync(DEMO)).toString('utf8');
    // ben's users row is gone, his texts are not: as if the users table lost rows while being read.
    // alice's row is there twice (a table without keys may hold that): her texts are still counted once.
    const alice = /^alice\t.*\n/m.exec(sql)![0];
    const withoutBen = sql.replace(/^ben\t.*\n/m, '').replace(alice, alice + alice);
    expect(withoutBen.length).toBeGreaterThan(sql.length);
    const benId = copyRows(sql, 'users').find((r) => r.get('username') === 'ben')!.get('id');
    const rows = copyRows(sql, 'tasktexts');
    texts = rows.length;
    bens = rows.filter((r) => r.get('user_id') === benId).length;
    expect(bens).toBeGreaterThan(0);
    noUser = join(work, 'no-user.sql.gz');
    writeFileSync(noUser, gzipSync(withoutBen));
    // Every tasks row gone: no text has its task.
    const tasksCopy = /^(COPY public\.tasks \([^)]*\) FROM stdin;\n)[\s\S]*?^\\\.$/m;
    expect(tasksCopy.test(sql)).toBe(true);
    noTask = join(work, 'no-task.sql');
    writeFileSync(noTask, sql.replace(tasksCopy, '$1\\.'));
  });

  it('export of any student (even one whose rows are all there) fails, writing no file', async () => {
    const out = join(work, 'alice.json');
    const message = await expectNotWhole(['export', noUser, '--user', 'alice', '--out', out], out);
    expect(message).toMatch(new RegExp(`of the ${texts} texts in .*, ${bens} belong to no user in it`));
    expect(message).toContain(noUser);
    expect(await expectNotWhole(['export', noTask, '--user', 'alice'])).toMatch(new RegExp(`of the ${texts} texts in .*, ${texts} to no task in it`));
  });

  it('users, inspect, export-all, history and merge fail the same way', async () => {
    await expectNotWhole(['users', noUser]);
    await expectNotWhole(['inspect', noUser]);
    const dir = join(work, 'all');
    await expectNotWhole(['export-all', noUser, '--out', dir], dir);
    // history and merge load older backups with one student's texts only: a damage that touches hers.
    const folder = join(work, 'folder');
    mkdirSync(folder);
    const older = join(folder, 'buggy_race_bk_20260314.sql');
    writeFileSync(older, readFileSync(noTask));
    const newest = join(folder, 'buggy_race_bk_20260315.sql.gz');
    writeFileSync(newest, readFileSync(DEMO));
    // A named backup must load (history), and so must --current (merge).
    await expectNotWhole(['history', '--user', 'alice', older, newest]);
    const merged = join(work, 'merged.json');
    await expectNotWhole(['merge', '--user', 'alice', '--auto', '--current', noTask, DEMO, '--out', merged], merged);
  });
});

describe('rows that end the data early, and tables whose data is gone', () => {
  it('a row ending in an unescaped \\. (PostgreSQL before 18 drops the rest of the COPY without a word): exit 10, not 2 of 6 texts', async () => {
    const sql = gunzipSync(readFileSync(DEMO)).toString('utf8');
    // The first of alice's texts: its last field gets a "\." pg_dump never writes (a backslash is "\\" in COPY).
    // A text never modified (modified_at \N): the filter puts that column last, so the "\." ends the row it sends.
    const texts = sql.slice(sql.indexOf('COPY public.tasktexts'));
    expect(texts.split('\n')[0]).toMatch(/\(id, created_at, modified_at, /);
    const row = texts.split('\n').find((r) => r.split('\t')[2] === '\\N')!;
    const fields = row.split('\t');
    fields[2] = '\\N\\.';
    const edited = sql.replace(row, fields.join('\t'));
    expect(edited).not.toBe(sql);
    const path = join(work, 'dot.sql');
    writeFileSync(path, edited);
    const message = await expectNotWhole(['export', path, '--user', 'alice']);
    expect(message).toMatch(/PostgreSQL stored \d+ of the \d+ rows of tasktexts it was sent/);
  });

  it('a dump that defines the texts table but has no COPY block for it: exit 10, not an empty export', async () => {
    const sql = gunzipSync(readFileSync(DEMO)).toString('utf8');
    const block = /^COPY public\.tasktexts [\s\S]*?^\\\.\n/m;
    expect(block.test(sql)).toBe(true);
    const path = join(work, 'no-texts-block.sql');
    writeFileSync(path, sql.replace(block, ''));
    const message = await expectNotWhole(['export', path, '--user', 'alice']);
    expect(message).toMatch(/defines tasktexts but holds no data block for it/);
  });
});

describe('an archive whose table data never ends, or holds more than rows', () => {
  let entries: WEntry[];
  beforeAll(async () => {
    ({ entries } = await fixtureEntries(join(FIXTURES, 'generated', 'current', 'directory')));
  });
  const archive = (name: string, es: WEntry[]) => {
    const path = join(work, name);
    writeFileSync(path, customArchive(es, { version: [1, 16, 0], compression: 'none' }));
    return path;
  };

  it("settings' data without its end line (what a decoder that lost a small frame hands on): exit 10, not an empty export", async () => {
    const broken = entries.map((e) => (e.tag === 'settings' && e.data ? { ...e, data: Buffer.alloc(0) } : e));
    expect(broken.some((e) => e.tag === 'settings' && e.data?.length === 0)).toBe(true);
    const out = join(work, 'swallowed.json');
    const r = await runCli(['export', archive('swallowed.dump', broken), '--user', 'bob', '--out', out], { tmp });
    expect(r.code, r.stderr).toBe(10);
    expect(expectCleanError(r).message).toMatch(/the data of table settings .* does not end with pg_dump's \\\. line/);
    expect(existsSync(out)).toBe(false);
    expectNothingLeft(tmp);
    // The same archive whole exports.
    const good = await runCli(['export', archive('good.dump', entries), '--user', 'bob'], { tmp });
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout).length).toBeGreaterThan(0);
  });

  it('a TOC that says the texts table has no data (a damaged offset flag) is refused, not read as an empty table', async () => {
    const noData = entries.map((e) => (e.tag === 'tasktexts' && e.desc === 'TABLE DATA' ? { ...e, data: undefined, rawStored: undefined } : e));
    const out = join(work, 'no-data.json');
    const r = await runCli(['export', archive('no-data.dump', noData), '--user', 'bob', '--out', out], { tmp });
    expect(r.code, r.stderr).toBe(10);
    expect(expectCleanError(r).message).toMatch(/TOC entry \d+, the data of table tasktexts, says it has no data/);
    expect(existsSync(out)).toBe(false);
    expectNothingLeft(tmp);
  });

  it("a COPY statement naming a column its table's CREATE TABLE lacks (a damaged TOC) is refused", async () => {
    const renamed = entries.map((e) => (e.tag === 'tasktexts' && e.copyStmt ? { ...e, copyStmt: e.copyStmt.replace('(id,', '(hd,') } : e));
    expect(renamed.some((e) => e.copyStmt?.includes('(hd,'))).toBe(true);
    const r = await runCli(['export', archive('renamed-column.dump', renamed), '--user', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(10);
    expect(expectCleanError(r).message).toMatch(/the COPY statement of .*tasktexts.* names 1 column its CREATE TABLE does not have/);
    expectNothingLeft(tmp);
  });

  it("a \\. line inside a table's data, with rows after it, is refused: they would be read as SQL and dropped", async () => {
    const texts = entries.find((e) => e.tag === 'tasktexts' && e.data)!;
    const rows = texts.data!.toString('latin1').split('\n');
    const cut = [...rows.slice(0, 3), '\\.', ...rows.slice(3)].join('\n');
    const es = entries.map((e) => (e === texts ? { ...e, data: Buffer.from(cut, 'latin1') } : e));
    for (const compression of ['none', 'gzip'] as const) {
      const path = join(work, `mid-end-${compression}.dump`);
      writeFileSync(path, customArchive(es, { version: [1, 16, 0], compression, chunk: 7 }));
      const r = await runCli(['export', path, '--user', 'bob'], { tmp });
      expect(r.code, r.stderr).toBe(10);
      expect(expectCleanError(r).message).toMatch(/the data of table tasktexts .* goes on after its \\\. line/);
    }
    expectNothingLeft(tmp);
  });

  it("users' data that ends its COPY early and goes on with forged texts: refused at the first line after the end, exit 10", async () => {
    const texts = entries.find((e) => e.tag === 'tasktexts' && e.copyStmt)!;
    const forged = entries.map((e) =>
      e.tag === 'users' && e.data ? { ...e, data: Buffer.concat([Buffer.from(e.data.toString('latin1').replace(/\\\.\n[\s\S]*$/, ''), 'latin1'), Buffer.from(`\\.\n${texts.copyStmt}999\t\\N\t\\N\t1\t1\tforged\n\\.\n\n`)]) } : e,
    );
    const out = join(work, 'forged.json');
    const r = await runCli(['export', archive('forged.dump', forged), '--user', 'bob', '--out', out], { tmp });
    expect(r.code, r.stderr).toBe(10);
    // The reader stops at the first line after users' \. line; were it to pass, the load's count of COPY blocks would.
    expect(expectCleanError(r).message).toMatch(/the data of table users .* goes on after its \\\. line/);
    expect(existsSync(out)).toBe(false);
    expectNothingLeft(tmp);
  });
});

describe('real pg_dump 17 and 18 archives of a server whose settings table is empty', () => {
  const dir = join(FIXTURES, 'generated', 'nosettings');
  const archives = readdirSync(dir).filter((f) => f.startsWith('pg1'));
  it('there are custom, piped and directory archives in zstd and lz4 from both', () => {
    for (const want of ['pg17-custom-zstd.dump', 'pg17-custom-zstd-piped.dump', 'pg17-dir-zstd', 'pg18-custom-zstd.dump', 'pg18-custom-zstd-piped.dump', 'pg18-dir-zstd', 'pg18-custom-lz4.dump', 'pg18-dir-lz4', 'pg18-stats-custom-zstd.dump']) {
      expect(archives).toContain(want);
    }
  });
  for (const file of archives) {
    it(`${file}: bob's export through the CLI is exactly the expected JSON, not []`, async () => {
      const r = await runCli(['export', join(dir, file), '--user', 'bob'], { tmp });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(readFileSync(join(dir, 'expected', 'bob.json'), 'utf8'));
      expect(JSON.parse(r.stdout)).toHaveLength(9);
    });
  }
});
