/**
 * streamBackups: scan's way through many backups. They load in date order as `each` reads them,
 * a few ahead, and each is dropped from the server once the next is read: the server never holds
 * more than a few, and what is read is what withBackups gives.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecoverError } from '../src/errors.js';
import { cohortTimelines, streamBackups, withBackups, type ManyConfig } from '../src/session/index.js';
import { Scope } from '../src/scope.js';
import { FIXTURES, makeTmp, removeTmp } from './helpers.js';
import { nightPaths } from './story-helpers.js';

const scope = new Scope();
const config = (extra: Partial<ManyConfig> = {}): ManyConfig => ({ engine: { kind: 'embedded', log: () => {} }, scope, timezone: 'UTC', log: () => {}, ...extra });

let work: string;
beforeAll(() => {
  work = makeTmp('stream');
});
afterAll(() => removeTmp(work));

describe('streamBackups', () => {
  it('holds at most width + 2 backups in the server at once, dropping each once the next is read', async () => {
    const present: number[] = [];
    const dates: string[] = [];
    await streamBackups([...nightPaths].reverse(), config({ concurrency: 1 }), (stream) =>
      stream.each(
        async (b) => {
          // Every schema of ours is backup_N (or backup_N_dbM for a pg_dumpall file's other databases).
          const client = await b.engine.connect(b.database);
          try {
            const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname ~ '^backup_[0-9]+$'");
            return { n: rows[0]!.n, date: b.date.value };
          } finally {
            await client.end();
          }
        },
        ({ n, date }) => {
          present.push(n);
          dates.push(date);
        },
      ),
    );
    expect(nightPaths.length).toBe(5);
    // Oldest first, whatever order they were given in.
    expect(dates).toEqual([...dates].sort());
    expect(present).toHaveLength(5);
    // One loading ahead, the one read, and the one before it not yet dropped.
    expect(Math.max(...present)).toBeLessThanOrEqual(3);
    expect(scope.liveCount).toBe(0);
  });

  it("drops a pg_dumpall file's other databases (backup_N_dbM) with its own schema", async () => {
    // Two nights of a cluster holding the race server and another application, each given twice.
    const nights = ['buggy_all_20260314.sql.gz', 'buggy_all_20260315.sql.gz'].map((f) => join(FIXTURES, 'dumpall', 'nightly', f));
    const paths = [...nights, ...nights.map((p, k) => {
      const copy = join(work, `copy${k}_buggy_all.sql.gz`);
      copyFileSync(p, copy);
      return copy;
    })];
    const present: string[][] = [];
    await streamBackups(paths, config({ concurrency: 1 }), (stream) =>
      stream.each(
        async (b) => {
          const client = await b.engine.connect(b.database);
          try {
            const { rows } = await client.query<{ n: string }>("SELECT nspname AS n FROM pg_namespace WHERE nspname ~ '^backup_[0-9]+(_db[0-9]+)?$' ORDER BY 1");
            return rows.map((r) => r.n);
          } finally {
            await client.end();
          }
        },
        (names) => present.push(names),
      ),
    );
    expect(present).toHaveLength(4);
    // Each file's other databases are loaded beside its own schema...
    expect(present.every((names) => names.some((n) => /_db[0-9]+$/.test(n)))).toBe(true);
    // ...and go with it: never the schemas of more than the one loading, the one read and the one before.
    const backupsIn = (names: string[]) => new Set(names.map((n) => /^backup_([0-9]+)/.exec(n)![1]));
    expect(Math.max(...present.map((names) => backupsIn(names).size))).toBeLessThanOrEqual(3);
    expect([...backupsIn(present[0]!)].some((k) => backupsIn(present[3]!).has(k))).toBe(false);
    expect(scope.liveCount).toBe(0);
  });

  it("waits at the run's querying checkpoint once, before the first backup is read", async () => {
    const events: string[] = [];
    const paused = new Scope();
    // As RECOVER_TEXTS_PAUSE_AT would pause there: what reached the checkpoint, in order.
    paused.checkpoint = async (name) => {
      if (name === 'querying') events.push(name);
    };
    await streamBackups(nightPaths, config({ scope: paused, concurrency: 2 }), (stream) =>
      stream.each(
        async () => events.push('read'),
        () => {},
      ),
    );
    expect(events).toEqual(['querying', ...nightPaths.map(() => 'read')]);
    expect(paused.liveCount).toBe(0);
  });

  it("gives scan's cohort exactly as withBackups does", async () => {
    const everyone = async (timelines: Awaited<ReturnType<typeof cohortTimelines>>) => ({
      backups: timelines.backups,
      users: timelines.userIds().map((id) => ({ user: timelines.user(id), snapshots: timelines.snapshots(id) })),
    });
    const whole = await withBackups(nightPaths, config(), async (set) => everyone(await cohortTimelines(set)));
    const streamed = await streamBackups(nightPaths, config({ concurrency: 2 }), async (stream) => everyone(await cohortTimelines(stream)));
    expect(whole.users.length).toBeGreaterThan(0);
    expect(streamed).toEqual(whole);
  });

  it('reports the optional backups that fail, in the order given, once each is done; the rest are read', async () => {
    const cut = join(work, 'buggy_race_bk_20260310.sql.gz');
    const whole = readFileSync(nightPaths[1]!);
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const notes = join(work, 'notes.txt');
    writeFileSync(notes, 'not a backup\n');
    const read: string[] = [];
    await streamBackups([nightPaths[2]!, cut, notes, nightPaths[0]!], config({ optional: new Set([cut, notes]), concurrency: 2 }), async (stream) => {
      await stream.each(
        async (b) => (await b.query.findUser('alice')).id,
        (id, entry) => read.push(`${entry.path}:${id}`),
      );
      expect(stream.loaded.map((e) => e.path)).toEqual([nightPaths[0], nightPaths[2]]);
      expect(stream.failed.map((f) => [f.path, f.error.code])).toEqual([
        [cut, 'BACKUP_TRUNCATED'],
        [notes, 'BACKUP_UNRECOGNISED'],
      ]);
    });
    expect(read).toEqual([`${nightPaths[0]}:2`, `${nightPaths[2]}:2`]);
    expect(scope.liveCount).toBe(0);
  });

  it('a named backup that fails fails the run, naming it; when none loads, says so; nothing is left running', async () => {
    const cut = join(work, 'buggy_race_bk_20260311.sql.gz');
    writeFileSync(cut, readFileSync(nightPaths[2]!).subarray(0, 2000));
    const failure = await streamBackups([nightPaths[0]!, cut, nightPaths[3]!], config({ concurrency: 1 }), (stream) =>
      stream.each(
        async () => 0,
        () => {},
      ),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RecoverError);
    expect((failure as RecoverError).message).toContain(cut);
    expect(scope.liveCount).toBe(0);

    const notes = join(work, 'only-notes.txt');
    writeFileSync(notes, 'not a backup\n');
    const nope = join(work, 'nope.sql');
    const none = await streamBackups([notes, nope], config({ optional: new Set([notes, nope]) }), (stream) =>
      stream.each(
        async () => 0,
        () => {},
      ),
    ).catch((e: unknown) => e);
    expect((none as RecoverError).code).toBe('NO_BACKUP_LOADED');
    expect(scope.liveCount).toBe(0);
  });

  it('an error in the work on a backup stops the loads and removes everything', async () => {
    let reads = 0;
    const failure = await streamBackups(nightPaths, config({ concurrency: 1 }), (stream) =>
      stream.each(
        async () => ++reads,
        (k) => {
          if (k === 2) throw new Error('boom');
        },
      ),
    ).catch((e: unknown) => e);
    expect((failure as Error).message).toBe('boom');
    expect(reads).toBeLessThan(5);
    expect(scope.liveCount).toBe(0);
  });
});
