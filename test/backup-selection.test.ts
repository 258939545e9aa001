/**
 * selectBackups: a folder of nightly backups is expanded and recognised by
 * bytes (what is not a backup is listed and skipped), every backup is ordered
 * by its own date, --since/--until/--before choose from them, and a named
 * file that is missing or not a backup fails, with the names close to it.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBackup, newerBackupsBeside, parseDateBound, selectBackups } from '../src/detect/index.js';
import { uploadAdvice } from '../src/export/index.js';
import { RecoverError } from '../src/errors.js';
import { makeTmp, removeTmp } from './helpers.js';
import { nightPaths } from './story-helpers.js';

let work: string;
let folder: string;
beforeAll(() => {
  work = makeTmp('select');
  folder = join(work, 'backups');
  mkdirSync(join(folder, 'old'), { recursive: true });
  // Copied newest first, so directory order is not date order.
  for (const p of [...nightPaths].reverse()) copyFileSync(p, join(folder, basename(p)));
  writeFileSync(join(folder, 'README.txt'), 'nightly backups\n');
  writeFileSync(join(folder, 'buggy_race_bk_20260308.sql.gz'), ''); // the night the job failed
});
afterAll(() => removeTmp(work));

const caught = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as RecoverError);

describe('selectBackups', () => {
  it('a folder: its backups oldest first by their own dates, the rest listed as skipped', async () => {
    const s = await selectBackups([folder]);
    expect(s.backups.map((b) => basename(b.path))).toEqual(nightPaths.map((p) => basename(p)));
    expect(s.backups.map((b) => b.date.value)).toEqual(['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12 23:30', '2026-03-13']);
    expect(s.backups.every((b) => !b.named)).toBe(true);
    expect(s.skipped.map((x) => basename(x.path))).toEqual(['README.txt', 'buggy_race_bk_20260308.sql.gz', 'old']);
    expect(s.skipped[0]!.reason).toMatch(/not a PostgreSQL backup/);
    expect(s.skipped[1]!.reason).toMatch(/empty/);
    expect(s.skipped[2]!.reason).toMatch(/a folder/);
  });

  it('--since and --until keep the days between, inclusive, and list the others', async () => {
    const s = await selectBackups([folder], { since: '2026-03-10', until: '2026-03-12' });
    expect(s.backups.map((b) => b.date.value)).toEqual(['2026-03-10', '2026-03-11', '2026-03-12 23:30']);
    expect(s.skipped.filter((x) => x.kind === 'out of range').map((x) => basename(x.path))).toEqual([basename(nightPaths[0]!), basename(nightPaths[4]!)]);
  });

  it('--before takes the newest backup strictly before the day', async () => {
    const s = await selectBackups([folder], { before: '2026-03-12' });
    expect(s.backups.map((b) => b.date.value)).toEqual(['2026-03-11']);
    const archive = await selectBackups([folder], { before: '2026-03-13' });
    expect(archive.backups.map((b) => basename(b.path))).toEqual(['buggy_race_bk_20260312.dump']);
  });

  it('a range with nothing in it is a usage error listing the dates there are', async () => {
    const e = await caught(selectBackups([folder], { before: '2026-03-01' }));
    expect(e?.code).toBe('NO_BACKUPS_IN_RANGE');
    expect(e?.exitCode).toBe(2);
    expect(e?.hint).toContain('2026-03-09, 2026-03-10');
  });

  it('named files are marked named; a missing one fails with did-you-mean, a non-backup fails', async () => {
    const s = await selectBackups([nightPaths[1]!, folder]);
    expect(s.backups.find((b) => b.path === nightPaths[1])?.named).toBe(true);
    const typo = join(folder, 'buggy_race_bk_20260311.tar');
    const missing = await caught(selectBackups([folder, typo]));
    expect(missing?.code).toBe('BACKUP_NOT_FOUND');
    expect(missing?.message).toBe(`cannot read backup ${typo}: no such file; did you mean ${join(folder, 'buggy_race_bk_20260311.sql.gz')}?`);
    const notBackup = await caught(selectBackups([join(folder, 'README.txt')]));
    expect(notBackup?.code).toBe('BACKUP_UNRECOGNISED');
  });

  it('a folder with no backup in it is an error, not an empty history', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'notes.md'), '# notes\n');
    expect((await caught(selectBackups([empty])))?.code).toBe('FOLDER_NO_BACKUPS');
  });

  it('dates are checked as real days', () => {
    expect(parseDateBound('--since', '2026-03-10')).toBe('2026-03-10');
    for (const bad of ['2026-02-30', '10/03/2026', '2026-3-1', 'yesterday']) {
      expect(() => parseDateBound('--since', bad)).toThrow(/--since .* is not a date/);
    }
  });
});

describe('an export of an older backup', () => {
  it('finds the newer backups beside it, and the advice names them and history/merge', async () => {
    const older = join(folder, 'buggy_race_bk_20260311.sql.gz');
    const newer = await newerBackupsBeside(await detectBackup(older), { value: '2026-03-11', source: 'file name' });
    expect(newer.map((b) => b.date.value)).toEqual(['2026-03-12 23:30', '2026-03-13']);
    const lines = uploadAdvice({ username: 'alice', texts: 4, backupDate: '2026-03-11', backupPath: older, newer });
    expect(lines[0]).toBe(
      `uploading this on the race server's "Upload texts as JSON" page REPLACES ALL of alice's current texts with these 4: whatever alice wrote after 2026-03-11 is deleted`,
    );
    expect(lines[1]).toBe(`2 newer backups are beside it (the newest buggy_race_bk_20260313.sql.gz, 2026-03-13); to restore only what was lost and keep later edits: recover-texts history --user alice ${folder}, then recover-texts merge`);
    expect(uploadAdvice({ username: 'alice', texts: 4, backupDate: '2026-03-13', backupPath: older, newer: [] })).toHaveLength(1);
  });
});
