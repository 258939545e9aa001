/**
 * Backups whose rows are the same load once (session/same-rows.ts): a night that holds what the
 * night before held shares its schema, though the files differ (pg_dump's `\restrict` key is new
 * each night). Each is still read and checked as itself: a copy cut off before pg_dump's last
 * line holds every row of the intact night, and is still refused as truncated.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecoverError } from '../src/errors.js';
import { Scope } from '../src/scope.js';
import { studentSnapshots, withBackups, type BackupSet, type ManyConfig } from '../src/session/index.js';
import { makeTmp, removeTmp } from './helpers.js';
import { nightPaths } from './story-helpers.js';

const scope = new Scope();
const config = (extra: Partial<ManyConfig> = {}): ManyConfig => ({ engine: { kind: 'embedded', log: () => {} }, scope, timezone: 'UTC', log: () => {}, ...extra });

let work: string;
/** The story's first night three times (each with its own `\restrict` key), then its second night. */
let repeated: string[];
/** The first night cut off just before pg_dump's "dump complete" line: every row is there. */
let cut: string;

beforeAll(() => {
  work = makeTmp('same-rows');
  const first = gunzipSync(readFileSync(nightPaths[0]!)).toString('latin1');
  const second = gunzipSync(readFileSync(nightPaths[1]!)).toString('latin1');
  const key = /^\\restrict (\S+)$/m.exec(first)![1]!;
  const night = (day: number, sql: string) => {
    const path = join(work, `buggy_race_bk_202604${String(day).padStart(2, '0')}.sql`);
    writeFileSync(path, sql.replaceAll(key, `key${day}`.padEnd(key.length, 'x')), 'latin1');
    return path;
  };
  repeated = [night(1, first), night(2, first), night(3, first), night(4, second)];
  cut = join(work, 'buggy_race_bk_20260405.sql');
  writeFileSync(cut, first.slice(0, first.indexOf('-- PostgreSQL database dump complete')), 'latin1');
});
afterAll(() => removeTmp(work));

/** The names of the backups' schemas in the server. */
async function schemasIn(set: BackupSet): Promise<string[]> {
  return set.on(set.loaded[0]!, async (b) => {
    const client = await b.engine.connect(b.database);
    try {
      const { rows } = await client.query<{ n: string }>("SELECT nspname AS n FROM pg_namespace WHERE nspname ~ '^backup_[0-9]+$' ORDER BY 1");
      return rows.map((r) => r.n);
    } finally {
      await client.end();
    }
  });
}

describe('backups with the same rows', () => {
  it('share one schema, and each is still its own backup (path, date) with the same texts', async () => {
    const files = readFileSync(repeated[0]!, 'latin1') !== readFileSync(repeated[1]!, 'latin1');
    expect(files).toBe(true);
    await withBackups(repeated, config(), async (set) => {
      const [a, b, c, d] = set.loaded;
      expect(set.loaded.map((e) => e.date.value)).toEqual(['2026-04-01', '2026-04-02', '2026-04-03', '2026-04-04']);
      expect(b!.schema).toBe(a!.schema);
      expect(c!.schema).toBe(a!.schema);
      expect(d!.schema).not.toBe(a!.schema);
      // Two loads in the server for four backups.
      expect(await schemasIn(set)).toEqual([a!.schema, d!.schema].sort());
      const { snapshots } = await studentSnapshots(set, 'alice', () => {});
      expect(snapshots.map((s) => s.path)).toEqual(repeated);
      expect(snapshots[1]!.texts).toEqual(snapshots[0]!.texts);
      expect(snapshots[0]!.texts.length).toBeGreaterThan(0);
      // The second night's texts are its own, not the first's.
      expect(snapshots[3]!.texts).not.toEqual(snapshots[0]!.texts);
    });
    expect(scope.liveCount).toBe(0);
  });

  it('each is read whole: a copy cut off before its last line is refused, though its rows are those of the intact night', async () => {
    // One at a time, the intact night first: the cut copy finds its rows already loaded.
    const failure = await withBackups([repeated[0]!, cut], config({ concurrency: 1 }), async () => 'loaded').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RecoverError);
    expect((failure as RecoverError).code).toBe('BACKUP_TRUNCATED');
    expect((failure as RecoverError).message).toContain(cut);
    expect(scope.liveCount).toBe(0);
  });

  it('found in a folder, the cut copy is skipped and reported, and the others load', async () => {
    await withBackups([repeated[0]!, cut, repeated[1]!], config({ concurrency: 1, optional: new Set([repeated[0]!, cut, repeated[1]!]) }), async (set) => {
      expect(set.loaded.map((e) => e.path)).toEqual([repeated[0], repeated[1]]);
      expect(set.failed.map((f) => [f.path, f.error.code])).toEqual([[cut, 'BACKUP_TRUNCATED']]);
    });
  });
});
