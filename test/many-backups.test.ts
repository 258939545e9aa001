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
import { startEngine, type Engine } from '../src/engine/index.js';
import { RecoverError } from '../src/errors.js';
import { LOAD_MEMORY, loadsInFlight, withBackups, type BackupLoadEvent, type ManyConfig } from '../src/session/index.js';
import { makeTmp, removeTmp } from './helpers.js';
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
      return set.map(async (b) => {
        return { date: b.date.value, texts: (await b.query.summary()).texts };
      });
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

  it('with textsOf: asks the newest backup, loaded whole, which texts the others need, and loads only those', async () => {
    const asked: string[] = [];
    const result = await withBackups(nightPaths, config({ textsOf: async (newest) => (asked.push(newest.date.value), [(await newest.query.findUser('chloe')).id]) }), (set) =>
      set.map(async (b) => ({ texts: (await b.query.summary()).texts, chloe: (await b.query.texts(await b.query.findUser('chloe'))).length, users: (await b.query.users()).length })),
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
      expect(await set.map(async (b) => (await b.query.findUser('alice')).id)).toEqual([2, 2]);
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
        expect(await set.map(async (b) => (await b.query.findUser('chloe')).id)).toEqual(nightPaths.map(() => 4));
      });
      // One, ours by name (and no other: the engine makes databases only when asked).
      expect(during.filter((d) => !before.includes(d))).toHaveLength(1);
      expect(during.filter((d) => !before.includes(d)).every((d) => d.startsWith('recover_texts_'))).toBe(true);
      expect(await databases()).toEqual(before);
      expect(scope.liveCount).toBe(0);
    });
  });
});
