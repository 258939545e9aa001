/**
 * withBackups: many backups in one throwaway server, one schema each,
 * loaded a few at a time, ordered by the date each holds; a named one that
 * fails fails the run, optional ones (from a folder) are reported and
 * skipped; everything started is removed, on success and on
 * failure, on a throwaway cluster and on a --database-url server.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBackup } from '../src/detect/index.js';
import { startEngine, type Engine } from '../src/engine/index.js';
import { RecoverError } from '../src/errors.js';
import { LOAD_MEMORY, loadsInFlight, streamBackups, withBackup, withBackups, type BackupLoadEvent, type ManyConfig } from '../src/session/index.js';
import { FIXTURES, makeTmp, removeTmp } from './helpers.js';
import { nightPaths, story, STORY } from './story-helpers.js';
import { Scope } from '../src/scope.js';

/** The runs' scope: whatever a run starts is registered there until it is removed. */
const scope = new Scope();
const config = (extra: Partial<ManyConfig> = {}): ManyConfig => ({ engine: { kind: 'embedded', log: () => {} }, scope, timezone: 'UTC', log: () => {}, ...extra });

/** Texts per night in the story (every user), from the expected exports. */
const textsPerNight = story.nights.map((n) =>
  story.students.reduce((sum, s) => sum + (JSON.parse(readFileSync(join(STORY, 'expected', n.date, `${s.usernames[story.nights.indexOf(n)]}.json`), 'utf8')) as unknown[]).length, 0),
);

let work: string;
beforeAll(() => {
  work = makeTmp('many');
});
afterAll(() => removeTmp(work));

describe('loads in flight', () => {
  const GiB = 2 ** 30;
  it('by default as many as the cores keep busy (at least 4), never more than the backups or 16', () => {
    expect(loadsInFlight({ backups: 365, cores: 2, memory: 8 * GiB })).toBe(4);
    expect(loadsInFlight({ backups: 365, cores: 8, memory: 8 * GiB })).toBe(8);
    expect(loadsInFlight({ backups: 365, cores: 64, memory: 64 * GiB })).toBe(16);
    expect(loadsInFlight({ backups: 3, cores: 8, memory: 8 * GiB })).toBe(3);
  });

  it('fewer when a quarter of the memory available does not hold a load for each, and always one', () => {
    // 256 MiB available: a quarter holds two loads.
    expect(loadsInFlight({ backups: 365, cores: 8, memory: 8 * LOAD_MEMORY })).toBe(2);
    expect(loadsInFlight({ backups: 365, cores: 8, memory: 4 * LOAD_MEMORY })).toBe(1);
    expect(loadsInFlight({ backups: 365, cores: 8, memory: 0 })).toBe(1);
    // Streamed, a load also holds its texts: 80 MiB each, three in the quarter of 1 GiB.
    expect(loadsInFlight({ backups: 365, cores: 8, memory: 2 ** 30, perLoad: 80 * 2 ** 20 })).toBe(3);
  });

  it('--jobs is taken as given, within the backups and 16', () => {
    expect(loadsInFlight({ requested: 2, backups: 365, cores: 8, memory: 0 })).toBe(2);
    expect(loadsInFlight({ requested: 40, backups: 365, cores: 2, memory: 64 * GiB })).toBe(16);
    expect(loadsInFlight({ requested: 40, backups: 5, cores: 2, memory: 64 * GiB })).toBe(5);
  });

  it('withBackups never has more backups loading at once than that', async () => {
    let loading = 0;
    let most = 0;
    const onBackup = (e: BackupLoadEvent) => {
      if (e.state === 'loading' && e.done === 0) most = Math.max(most, ++loading);
      if (e.state === 'loaded' || e.state === 'failed') loading--;
    };
    await withBackups(nightPaths, config({ concurrency: 2, onBackup }), async () => {});
    expect(most).toBe(2);
    expect(scope.liveCount).toBe(0);
  });
});

describe('withBackups', () => {
  it('loads every backup into one server and one database, a schema each, oldest first by the date each holds', async () => {
    const events: BackupLoadEvent[] = [];
    // Given newest first, with one path twice: loaded once each, in date order.
    const given = [...nightPaths].reverse().concat(nightPaths[0]!);
    const result = await withBackups(given, config({ concurrency: 2, onBackup: (e) => events.push(e) }), async (set) => {
      expect(set.failed).toEqual([]);
      expect(set.loaded.map((e) => e.path)).toEqual(nightPaths);
      expect(set.loaded.map((e) => e.date.value)).toEqual(story.nights.map((n) => n.toolDate));
      expect(new Set(set.loaded.map((e) => e.database)).size).toBe(1);
      expect(new Set(set.loaded.map((e) => e.schema)).size).toBe(nightPaths.length);
      return set.mapRows(async (b) => ({ texts: (await b.query.summary()).texts }));
    });
    expect(result.map((r) => r.texts)).toEqual(textsPerNight);
    // Every backup went waiting -> loading -> loaded.
    for (let k = 0; k < nightPaths.length; k++) {
      const states = events.filter((e) => e.index === k).map((e) => e.state);
      expect(states[0]).toBe('waiting');
      expect(states.at(-1)).toBe('loaded');
    }
    expect(scope.liveCount).toBe(0);
  });

  it('each: every backup in turn, oldest first, what was read on its own schema handed to use with its entry', async () => {
    const used: string[] = [];
    let reads = 0;
    await withBackups([...nightPaths].reverse(), config({ concurrency: 1 }), (set) =>
      set.each(
        async (b) => {
          reads++;
          return { date: b.date.value, texts: (await b.query.summary()).texts };
        },
        (got, entry) => {
          expect(got.date).toBe(entry.date.value);
          used.push(`${got.date} ${got.texts}`);
        },
      ),
    );
    expect(used).toEqual(story.nights.map((n, k) => `${n.toolDate} ${textsPerNight[k]}`));
    expect(reads).toBe(nightPaths.length);
    expect(scope.liveCount).toBe(0);
  });

  it("a backup already read (a folder's) says its size while it waits, so the run's time left counts it; a named path, and an archive, do not", async () => {
    const events: BackupLoadEvent[] = [];
    const read = await detectBackup(nightPaths[0]!);
    const archive = nightPaths.find((p) => p.endsWith('.dump'))!;
    await withBackups([read, await detectBackup(archive), nightPaths[1]!], config({ onBackup: (e) => events.push(e) }), async () => 'ran');
    const waiting = events.filter((e) => e.state === 'waiting');
    expect(waiting.map((e) => e.total)).toEqual([read.size, 0, 0]);
    expect(read.size).toBeGreaterThan(0);
    expect(scope.liveCount).toBe(0);
  });

  it('with textsOf: asks the newest backup, loaded whole, which texts the others need, and loads only those', async () => {
    const asked: string[] = [];
    const result = await withBackups(nightPaths, config({ textsOf: async (newest) => (asked.push(newest.date.value), [(await newest.query.findUser('chloe')).id]) }), (set) =>
      set.mapRows(async (b) => ({ texts: (await b.query.summary()).texts, chloe: (await b.query.texts(await b.query.findUser('chloe'))).length, users: (await b.query.users()).length })),
    );
    expect(asked).toEqual([story.nights.at(-1)!.toolDate]);
    const n = nightPaths.length;
    // The newest: everyone's texts. The others: chloe's only, and every user still there.
    expect(result[n - 1]!.texts).toBe(textsPerNight[n - 1]);
    for (const r of result.slice(0, -1)) expect(r.texts).toBe(r.chloe);
    expect(result.slice(0, -1).some((r) => r.chloe > 0)).toBe(true);
    expect(result.every((r) => r.users > 1)).toBe(true);
    expect(scope.liveCount).toBe(0);
  });

  it('a named backup that fails fails the run, naming it; a missing one before any server starts, with the names close to it', async () => {
    const whole = readFileSync(nightPaths[1]!);
    const cut = join(work, 'buggy_race_bk_20260310.sql.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const events: BackupLoadEvent[] = [];
    const truncated = await withBackups([nightPaths[0]!, cut], config({ onBackup: (e) => events.push(e) }), async () => 'ran').catch((e: unknown) => e);
    expect(truncated).toBeInstanceOf(RecoverError);
    expect((truncated as RecoverError).code).toBe('BACKUP_TRUNCATED');
    expect((truncated as RecoverError).message).toContain(cut);
    expect(scope.liveCount).toBe(0);

    // 20260311 typed as 20260331: no engine starts (no event at all), and the hint names the file meant.
    const typo = nightPaths[2]!.replace('20260311', '20260331');
    events.length = 0;
    const missing = await withBackups([nightPaths[0]!, typo], config({ onBackup: (e) => events.push(e) }), async () => 'ran').catch((e: unknown) => e);
    expect((missing as RecoverError).code).toBe('BACKUP_NOT_FOUND');
    expect((missing as RecoverError).message).toBe(`cannot read backup ${typo}: no such file; did you mean ${nightPaths[2]}?`);
    expect(events).toEqual([]);
    expect(scope.liveCount).toBe(0);
  });

  it('reports and skips the optional backups (found in a folder) that fail, and still loads the rest', async () => {
    const whole = readFileSync(nightPaths[1]!);
    const cut = join(work, 'buggy_race_bk_20260310.sql.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const notes = join(work, 'notes.txt');
    writeFileSync(notes, 'not a backup\n');
    const missing = join(work, 'buggy_race_bk_20260301.sql.gz');
    const events: BackupLoadEvent[] = [];
    const optional = new Set([cut, notes, missing]);
    await withBackups([nightPaths[0]!, cut, notes, missing, nightPaths[2]!], config({ optional, onBackup: (e) => events.push(e) }), async (set) => {
      expect(set.loaded.map((e) => e.path)).toEqual([nightPaths[0], nightPaths[2]]);
      expect(set.failed.map((f) => [f.path, f.error.code])).toEqual([
        [cut, 'BACKUP_TRUNCATED'],
        [notes, 'BACKUP_UNRECOGNISED'],
        [missing, 'BACKUP_NOT_FOUND'],
      ]);
      expect(await set.mapRows(async (b) => (await b.query.findUser('alice')).id)).toEqual([2, 2]);
    });
    expect(events.filter((e) => e.state === 'failed').map((e) => e.path).sort()).toEqual([cut, notes, missing].sort());
    expect(scope.liveCount).toBe(0);
  });

  it('when none loads, says so with the reason, and leaves nothing running', async () => {
    const notes = join(work, 'only-notes.txt');
    writeFileSync(notes, 'not a backup\n');
    const one = await withBackups([notes], config(), async () => 0).catch((e: unknown) => e);
    expect(one).toBeInstanceOf(RecoverError);
    expect((one as RecoverError).code).toBe('BACKUP_UNRECOGNISED');
    const nope = join(work, 'nope.sql');
    const two = await withBackups([notes, nope], config({ optional: new Set([notes, nope]) }), async () => 0).catch((e: unknown) => e);
    expect((two as RecoverError).code).toBe('NO_BACKUP_LOADED');
    expect((two as RecoverError).message).toMatch(/none of the 2 backups could be loaded/);
    expect(scope.liveCount).toBe(0);
  });

  it('an error in the work on the set still stops and removes everything', async () => {
    await expect(
      withBackups(nightPaths.slice(0, 2), config(), async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(scope.liveCount).toBe(0);
  });

  describe('on a --database-url server', () => {
    let server: Engine;
    let url: string;
    const databases = async () => {
      const a = new pg.Client(server.clientConfig('postgres'));
      await a.connect();
      const { rows } = await a.query('SELECT datname FROM pg_database ORDER BY 1');
      await a.end();
      return rows.map((r) => r.datname as string);
    };
    beforeAll(async () => {
      // Like any admin's server, with initdb's template0 (the cached template has none): no cache.
      server = await startEngine({ kind: 'embedded', cache: false, log: () => {} }, new Scope());
      const c = server.clientConfig('postgres');
      url = `postgresql://${c.user}:${encodeURIComponent(String(c.password))}@localhost/postgres?host=${encodeURIComponent(String(c.host))}`;
    });
    afterAll(() => server?.stop());

    it('makes one database there, a schema per backup in it, and drops it afterwards', async () => {
      const before = await databases();
      let during: string[] = [];
      await withBackups(nightPaths, config({ engine: { kind: 'url', databaseUrl: url, log: () => {} } }), async (set) => {
        during = await databases();
        expect(await set.mapRows(async (b) => (await b.query.findUser('chloe')).id)).toEqual(nightPaths.map(() => 4));
      });
      // One, ours by name (and no other: the engine makes databases only when asked).
      expect(during.filter((d) => !before.includes(d))).toHaveLength(1);
      expect(during.filter((d) => !before.includes(d)).every((d) => d.startsWith('recover_texts_'))).toBe(true);
      expect(await databases()).toEqual(before);
      expect(scope.liveCount).toBe(0);
    });

    describe('whose user may not CREATE DATABASE (as on Heroku Postgres)', () => {
      /** The admin's own database, owned by a role without CREATEDB, with a table of its own in public. */
      const role = 'hosted_role';
      const password = 'not-a-secret-test-password';
      let hosted: string;
      const asSuper = async <T>(database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
        const a = new pg.Client(server.clientConfig(database));
        await a.connect();
        try {
          return await fn(a);
        } finally {
          await a.end();
        }
      };
      /** The app's database as the tool must leave it: its schemas, and its own table's rows. */
      const appState = () =>
        asSuper('app_db', async (c) => ({
          schemas: (await c.query("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1")).rows.map((r) => r.nspname as string),
          publicTables: (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename as string),
          users: (await c.query('SELECT name FROM public.users ORDER BY 1')).rows.map((r) => r.name as string),
        }));
      beforeAll(async () => {
        await asSuper('postgres', async (c) => {
          await c.query(`CREATE ROLE ${role} LOGIN NOCREATEDB PASSWORD '${password}'`);
          await c.query(`CREATE DATABASE app_db OWNER ${role}`);
        });
        await asSuper('app_db', (c) => c.query(`SET ROLE ${role}; CREATE TABLE public.users (name text); INSERT INTO public.users VALUES ('the app''s own row')`));
        const c = server.clientConfig('app_db');
        hosted = `postgresql://${role}:${password}@localhost/app_db?host=${encodeURIComponent(String(c.host))}`;
      });
      const hostedConfig = (notes: string[] = []) => config({ engine: { kind: 'url', databaseUrl: hosted, log: (m) => notes.push(m) } });

      it('works in scratch schemas of its own database, says so once, and drops them; the database\'s own tables are untouched', async () => {
        const before = await appState();
        const notes: string[] = [];
        let during: Awaited<ReturnType<typeof appState>> | undefined;
        const ids = await withBackups(nightPaths, hostedConfig(notes), async (set) => {
          during = await appState();
          return set.mapRows(async (b) => (await b.query.findUser('chloe')).id);
        });
        expect(ids).toEqual(nightPaths.map(() => 4));
        expect(notes.filter((n) => n.includes('may not create a database'))).toHaveLength(1);
        expect(notes.join('\n')).toMatch(/scratch schemas recover_texts_[0-9a-f]{8}_\* of its database app_db, dropped at the end/);
        // While it ran: a home schema and one per backup, all with the run's prefix; the public schema as it was.
        const made = during!.schemas.filter((n) => !before.schemas.includes(n));
        expect(made).toHaveLength(nightPaths.length + 1);
        expect(new Set(made.map((n) => /^(recover_texts_[0-9a-f]{8}_)/.exec(n)?.[1])).size).toBe(1);
        expect(during!.publicTables).toEqual(before.publicTables);
        expect(await appState()).toEqual(before);
        expect(before.users).toEqual(["the app's own row"]);
        expect(scope.liveCount).toBe(0);
      });

      it("streamed (scan), each backup's schemas are dropped there as it goes, and the run's home schema at the end", async () => {
        const before = await appState();
        const made: string[][] = [];
        await streamBackups(nightPaths, config({ engine: { kind: 'url', databaseUrl: hosted, log: () => {} }, concurrency: 1 }), (stream) =>
          stream.each(
            async () => (await appState()).schemas.filter((n) => !before.schemas.includes(n)),
            (names) => made.push(names),
          ),
        );
        expect(made).toHaveLength(nightPaths.length);
        expect(made.flat().every((n) => /^recover_texts_[0-9a-f]{8}_(public|backup_[0-9]+)$/.test(n))).toBe(true);
        // The home schema, and never more than the one loading, the one read and the one before.
        expect(Math.max(...made.map((names) => names.length))).toBeLessThanOrEqual(1 + 3);
        const first = made[0]!.find((n) => n.includes('_backup_'));
        expect(first).toBeDefined();
        expect(made.at(-1)).not.toContain(first);
        expect(await appState()).toEqual(before);
        expect(scope.liveCount).toBe(0);
      });

      it('one backup, and each database of a pg_dumpall file, in schemas of the run: the same texts as on a server of its own', async () => {
        const before = await appState();
        const file = join(FIXTURES, 'dumpall', 'two-races.sql.gz');
        const texts = (engine: ManyConfig) => withBackup(file, { ...engine, database: 'buggy_race_2025' }, async (b) => (await b.query.summary()).texts);
        const expected = await texts(config());
        expect(expected).toBeGreaterThan(0);
        expect(await texts(hostedConfig())).toBe(expected);
        expect(await appState()).toEqual(before);
      });

      it('a user that may not create a schema either: one clear error, nothing made', async () => {
        await asSuper('postgres', (c) => c.query(`CREATE ROLE locked_role LOGIN NOCREATEDB PASSWORD '${password}'`));
        await asSuper('app_db', (c) => c.query('REVOKE CREATE ON DATABASE app_db FROM PUBLIC'));
        const before = await appState();
        const c = server.clientConfig('app_db');
        const locked = `postgresql://locked_role:${password}@localhost/app_db?host=${encodeURIComponent(String(c.host))}`;
        const failure = await withBackups(nightPaths.slice(0, 1), config({ engine: { kind: 'url', databaseUrl: locked, log: () => {} } }), async () => 'ran').catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(RecoverError);
        expect((failure as RecoverError).code).toBe('ENGINE_REFUSED');
        expect((failure as RecoverError).message).toMatch(/lets its user neither create a database nor a schema/);
        expect((failure as RecoverError).hint).toMatch(/CREATEDB, or CREATE on its database/);
        expect(await appState()).toEqual(before);
        expect(scope.liveCount).toBe(0);
      });
    });
  });
});
