/**
 * scan reads, from the second backup on, only the texts that changed since the backup before
 * (BackupQuery.textChanges): the cohort it builds so must be exactly the one built from every
 * text of every backup (allTexts), over the story's nights and over a slice of the benchmark year.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackupQuery } from '../src/query/index.js';
import { withBackups, type ManyConfig } from '../src/session/index.js';
import { Scope } from '../src/scope.js';
import { cohortOf, nightPaths } from './story-helpers.js';

const scope = new Scope();
const config = (extra: Partial<ManyConfig> = {}): ManyConfig => ({ engine: { kind: 'embedded', log: () => {} }, scope, timezone: 'UTC', log: () => {}, ...extra });

/** The cohort over `paths`, every user's snapshots; with `full`, every backup's texts read whole. */
async function cohort(paths: readonly string[], full: boolean) {
  let byChanges = 0;
  const { backups, users } = await cohortOf(paths, config({ concurrency: 2 }), full, (query) => ({
    textChanges: async (...args: Parameters<BackupQuery['textChanges']>) => {
      const changes = full ? null : await query.textChanges(...args);
      if (changes) byChanges++;
      return changes;
    },
  }));
  return { result: { backups, users }, byChanges };
}

/** A slice of the benchmark's year (bench/year-backups.ts), when it has been made on this machine. */
const YEAR = join(import.meta.dirname, '..', 'bench', 'out', 'year-2');
const year = existsSync(YEAR) ? readdirSync(YEAR).filter((f) => f.startsWith('buggy_race_bk_')).sort() : [];

describe('textChanges', () => {
  it('the story: the same cohort as from every text, the nights whose users and tasks did not change read by changes', async () => {
    const full = await cohort(nightPaths, true);
    const changed = await cohort(nightPaths, false);
    expect(full.result.users.length).toBeGreaterThan(0);
    expect(changed.result).toEqual(full.result);
    expect(full.byChanges).toBe(0);
    expect(changed.byChanges).toBeGreaterThan(0);
  });

  it.skipIf(year.length < 40)('a slice of the benchmark year: the same cohort, most nights read by changes (skipped: bench/out/year-2 not made here; npm run bench makes it)', async () => {
    const slice = year.slice(0, 40).map((f) => join(YEAR, f));
    const full = await cohort(slice, true);
    const changed = await cohort(slice, false);
    expect(changed.result).toEqual(full.result);
    expect(changed.byChanges).toBeGreaterThan(20);
  }, 300_000);

  it('the same rows in two schemas: no change; a text moved to another student or task before: both keys, with all their texts now', async () => {
    await withBackups([nightPaths[3]!], config(), async (set) => {
      const now = set.loaded[0]!;
      // The backup's rows copied to another schema, as a second backup holding the same would have them.
      const before = { ...now, schema: `${now.schema}_copy` };
      const table = await set.on(now, async (b) => b.query.textsTable);
      const onServer = (sql: string, values: string[] = []) =>
        set.on(now, (b) => b.engine.connect(b.database).then(async (c) => {
          await c.query(sql, values);
          await c.end();
        }));
      await onServer(`CREATE SCHEMA ${before.schema}; CREATE TABLE ${before.schema}.${table} AS SELECT * FROM ${now.schema}.${table}`);
      const ask = () => set.on(now, async (b) => b.query.textChanges(before, await b.query.users()));
      expect(await ask()).toEqual({ keys: [], rows: [] });
      // Before, one text of the first user with texts was another's, under another task.
      const all = await set.on(now, async (b) => b.query.allTexts(await b.query.users()));
      const moved = all[0]!;
      const other = all.find((t) => t.userId !== moved.userId && t.taskId !== moved.taskId)!;
      await onServer(`UPDATE ${before.schema}.${table} SET user_id = $1, task_id = $2 WHERE id = $3`, [String(other.userId), String(other.taskId), String(moved.textId)]);
      const changes = await ask();
      const key = (t: { userId: number; taskId: number }) => `${t.userId}:${t.taskId}`;
      expect(changes!.keys.map(key).sort()).toEqual([key(moved), key(other)].sort());
      expect(changes!.rows).toEqual(all.filter((t) => [key(moved), key(other)].includes(key(t))));
    });
  });

  it('none where a text id is repeated or missing: the caller reads every text instead', async () => {
    await withBackups(nightPaths.slice(2, 4), config(), async (set) => {
      const [first, second] = set.loaded;
      const ask = () => set.on(second!, async (b) => b.query.textChanges(first!, await b.query.users()));
      expect((await ask())?.keys).toBeDefined();
      const table = await set.on(first!, async (b) => b.query.textsTable);
      await set.on(first!, (b) => b.engine.connect(b.database).then(async (c) => {
        await c.query(`INSERT INTO ${first!.schema}.${table} SELECT * FROM ${first!.schema}.${table} LIMIT 1`);
        await c.end();
      }));
      expect(await ask()).toBeNull();
    });
  });
});
