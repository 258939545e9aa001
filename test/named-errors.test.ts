/**
 * Every error about a backup's content names the backup, as the admin gave
 * its path, once: a plain dump cut inside its data, a cut .sql.gz and an
 * archive with a damaged data block, in `export` (the command fails) and in
 * `history` over a folder (the backup is skipped, and the warning says which).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError, expectNothingLeft, makeTmp, removeTmp, runCli } from './helpers.js';
import { nightPaths } from './story-helpers.js';

let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('named-tmp');
  work = makeTmp('named-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

const occurrences = (s: string, part: string) => s.split(part).length - 1;

/** The damaged backups, by what is wrong with them: [file name, bytes]. */
function damaged(): [string, string, Buffer][] {
  const plain = gunzipSync(readFileSync(nightPaths[0]!));
  const data = plain.indexOf('COPY public.tasktexts');
  expect(data).toBeGreaterThan(0);
  const gz = readFileSync(nightPaths[1]!);
  const archive = Buffer.from(readFileSync(nightPaths[3]!));
  // Inside the last table's compressed data block (after the header and TOC).
  const at = Math.floor(archive.length * 0.945);
  for (let i = at; i < at + 40; i++) archive[i]! ^= 0x5a;
  return [
    ['a plain dump cut inside its data', 'buggy_race_bk_20260309 cut.sql', plain.subarray(0, data + 300)],
    ['a cut .sql.gz', 'buggy_race_bk_20260310 cut.sql.gz', gz.subarray(0, Math.floor(gz.length * 0.6))],
    ['an archive with a damaged data block', 'buggy_race_bk_20260312 damaged.dump', archive],
  ];
}

describe('errors about a backup name it once', () => {
  for (const [what, name, bytes] of damaged()) {
    it(`export: ${what}`, async () => {
      const file = join(work, name);
      writeFileSync(file, bytes);
      const r = await runCli(['export', file, '--user', 'alice'], { tmp });
      expect(r.code, r.stderr).toBe(10);
      const { message } = expectCleanError(r);
      expect(occurrences(message, file), message).toBe(1);
      expect(r.stdout).toBe('');
      expectNothingLeft(tmp);
    });

    it(`history over a folder: ${what} is skipped, and the warning names it once`, async () => {
      const folder = join(work, `nights ${name}`);
      mkdirSync(folder);
      for (const p of [nightPaths[2]!, nightPaths[4]!]) copyFileSync(p, join(folder, p.split('/').at(-1)!));
      writeFileSync(join(folder, name), bytes);
      const r = await runCli(['history', '--user', 'alice', folder], { tmp });
      expect(r.code, r.stderr).toBe(0);
      const warning = r.stderr.split('\n').find((l) => l.startsWith('warning: skipped'));
      expect(warning, r.stderr).toBeDefined();
      expect(occurrences(warning!, join(folder, name)), warning).toBe(1);
      expect(r.stderr).toMatch(/2 of 3 backups loaded/);
      expectNothingLeft(tmp);
    });
  }
});
