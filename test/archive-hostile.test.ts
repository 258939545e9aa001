/**
 * Archives made to mislead, through the CLI as an admin would meet them: pg_dump 18's
 * STATISTICS DATA entries that share a table's tag, directory archives whose files are
 * symlinks, fifos or folders, TOC statements that smuggle a second statement, and data that
 * inflates past what the scratch server may hold.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customArchive, directoryArchive, fixtureEntries, statisticsData, tarArchive, type WEntry } from './archive-writer.js';
import { expectNothingLeft, FIXTURES, makeTmp, removeTmp, runCli } from './helpers.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const BOB = () => readFileSync(join(CURRENT, 'expected', 'bob.json'), 'utf8');
let tmp: string;
let work: string;
let entries: WEntry[];
beforeAll(async () => {
  tmp = makeTmp('hostile-tmp');
  work = makeTmp('hostile-work');
  ({ entries } = await fixtureEntries(join(CURRENT, 'directory')));
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

describe("pg_dump 18's STATISTICS DATA", () => {
  it('an archive with a STATISTICS DATA entry per table (same tag, data and post-data sections) exports what it would without them', async () => {
    const es: WEntry[] = [];
    let n = 30000;
    for (const e of entries) {
      es.push(e);
      if (e.desc === 'TABLE DATA') es.push(statisticsData(e, n++, 'data'));
    }
    for (const e of entries.filter((x) => x.desc === 'TABLE DATA')) es.push(statisticsData(e, n++, 'post-data'));
    const o = { version: [1, 16, 0] as const, compression: 'gzip' as const };
    const custom = join(work, 'stats.dump');
    writeFileSync(custom, customArchive(es, o));
    const piped = join(work, 'stats-piped.dump');
    writeFileSync(piped, customArchive(es, { ...o, piped: true }));
    const tar = join(work, 'stats.tar');
    writeFileSync(tar, tarArchive(es, o));
    const dir = join(work, 'stats-dir');
    directoryArchive(dir, es, o);
    for (const path of [custom, piped, tar, dir]) {
      const r = await runCli(['export', path, '-u', 'bob'], { tmp });
      expect(r.code, `${path}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(BOB());
      expectNothingLeft(tmp);
    }
  }, 120_000);
});
