/**
 * Resource limits: a backup far bigger than the memory the tool may use
 * streams through, and a full disk (for the output, or for the throwaway
 * PostgreSQL in TMPDIR) gives a clean error and leaves nothing behind.
 *
 * The full-disk tests mount small tmpfs file systems, which needs root (or
 * CAP_SYS_ADMIN); where mounting is not permitted they are skipped with a
 * message saying so.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectCleanError, FIXTURES, leftovers, makeTmp, removeTmp, runCli, expectNothingLeft } from './helpers.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const EXPECTED_BOB = readFileSync(join(CURRENT, 'expected', 'bob.json'), 'utf8');
/** farah (user 6) has no texts in the fixture; the bulk texts are hers, so bob's export is unchanged. */
const BULK_USER = 6;

// Made at load time: the tmpfs mounts below decide, while tests are collected, which run.
const work = makeTmp('limits');
const mounted: string[] = [];
afterAll(() => {
  for (const dir of mounted.reverse()) spawnSync('umount', ['-l', dir]);
  removeTmp(work);
});

/**
 * The `current` plain dump with `otherMB` of rows added to an unwanted table
 * (db_files, as uploaded race files) and `textMB` of texts added for farah,
 * written as a stream: the test never holds the dump in memory either.
 */
async function writeBigDump(path: string, otherMB: number, textMB: number): Promise<{ bytes: number; extraTexts: number }> {
  const base = readFileSync(join(CURRENT, 'plain.sql'), 'latin1');
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (s: string) => {
    bytes += s.length;
    if (!out.write(s, 'latin1')) await once(out, 'drain');
  };
  const afterLine = (marker: string) => base.indexOf('\n', base.indexOf(marker)) + 1;
  const dbFiles = afterLine('COPY public.db_files (id, type, name, item_id, contents) FROM stdin;');
  const texts = afterLine('COPY public.tasktexts (id, created_at, modified_at, user_id, task_id, text) FROM stdin;');
  const blob = ('{\\n "race_id": 9,\\n "buggies": [' + '{"id": 1, "flag_color": "#00ff00", "power": "petrol"}, '.repeat(1800)).slice(0, 100_000);
  // UTF-8 bytes as a binary string, as the dump holds them; a random tail each, so PostgreSQL cannot compress them away.
  const prose = Buffer.from('My buggy has six wheels and a hamster booster.\\r\\n\\tIt costs 42 and weighs \\\\ a lot; ü é 😀. '.repeat(70), 'utf8').toString('latin1');
  await write(base.slice(0, dbFiles));
  for (let i = 0; i < otherMB * 10; i++) await write(`${1_000_000 + i}\tjson\tbulk-${i}.json\t\\N\t${blob}\n`);
  await write(base.slice(dbFiles, texts));
  let extraTexts = 0;
  for (let i = 0; bytes < (otherMB + textMB) * 1e6 + base.length; i++, extraTexts++) {
    await write(`${2_000_000 + i}\t2026-02-01 10:00:00+00\t\\N\t${BULK_USER}\t${1 + (i % 15)}\t${i} ${prose}${randomBytes(1500).toString('base64')}\n`);
  }
  await write(base.slice(texts));
  out.end();
  await once(out, 'finish');
  return { bytes, extraTexts };
}

/** A preload that records the CLI process's own peak RSS (KiB) when it exits. */
function rssProbe(): { file: string; flag: string } {
  const probe = join(work, 'rss-probe.mjs');
  const file = join(work, 'rss.txt');
  writeFileSync(probe, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(file)}, String(process.resourceUsage().maxRSS)));\n`);
  return { file, flag: `--import=${probe}` };
}

describe('a backup bigger than memory', () => {
  it('streams through a 64 MB heap: 400 MB of other data and 60 MB of texts, exact export', async () => {
    const dump = join(work, 'big.sql');
    const { bytes, extraTexts } = await writeBigDump(dump, 400, 60);
    expect(bytes).toBeGreaterThan(460e6);
    const rss = rssProbe();
    const tmp = makeTmp('limits-big');
    try {
      const env = { NODE_OPTIONS: `--max-old-space-size=64 ${rss.flag}` };
      const started = Date.now();
      const r = await runCli(['export', dump, '-u', 'bob'], { tmp, env });
      const seconds = (Date.now() - started) / 1000;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(EXPECTED_BOB);
      const peakMB = Number(readFileSync(rss.file, 'utf8')) / 1024;
      console.log(`big backup: ${(bytes / 1e6).toFixed(0)} MB (${extraTexts} extra texts) exported in ${seconds.toFixed(1)} s, peak RSS of the CLI ${peakMB.toFixed(0)} MB`);
      expect(peakMB).toBeLessThan(250);

      // Every bulk text was loaded, none lost on the way (inspect counts them).
      const info = await runCli(['inspect', dump, '--json'], { tmp, env: { NODE_OPTIONS: '--max-old-space-size=64' } });
      expect(info.code, info.stderr).toBe(0);
      const fixtureTexts = JSON.parse(readFileSync(join(FIXTURES, 'generated', 'manifest.json'), 'utf8')).databases.find((d: { name: string }) => d.name === 'current').textCount;
      expect(JSON.parse(info.stdout).texts).toBe(fixtureTexts + extraTexts);
      expect(leftovers(tmp)).toEqual([]);
    } finally {
      removeTmp(tmp);
      rmSync(dump, { force: true });
    }
  }, 240_000);
});

/** Mount a tmpfs of `size` at a new dir, or say why this machine does not allow it. */
function mountTmpfs(name: string, size: string): { dir: string } | { skip: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=1777`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { skip: `cannot mount a tmpfs here (${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}): needs root or CAP_SYS_ADMIN` };
  mounted.push(dir);
  return { dir };
}
const outDisk = mountTmpfs('full-out', '512k');
const tmpDisk = mountTmpfs('full-tmp', '512k');
/**
 * Room for the cluster (about 14 MB copied from the template; 28 MB while a
 * first run's initdb makes it) but not for the rows the backup loads.
 */
const loadDisk = mountTmpfs('full-load', '32m');

function nothingLeft(tmp: string, out?: string) {
  expectNothingLeft(tmp);
  if (out) expect(leftovers(out)).toEqual([]);
}

describe('a full disk', () => {
  const bigtext = join(FIXTURES, 'generated', 'bigtext', 'plain.sql.gz'); // mega's export is over 1 MB

  it.skipIf('skip' in outDisk)(`for the output: one clean line, exit 7, nothing written ${'skip' in outDisk ? outDisk.skip : ''}`, async () => {
    const out = (outDisk as { dir: string }).dir;
    const tmp = makeTmp('limits-out');
    try {
      for (const [format, target] of [
        ['json', join(out, 'mega.json')],
        ['csv', join(out, 'mega.csv')],
        ['files', join(out, 'mega')],
      ] as const) {
        const r = await runCli(['export', bigtext, '-u', 'mega', '--format', format, '--out', target], { tmp });
        expect(r.code, r.stderr).toBe(7);
        expect(expectCleanError(r).message).toBe(`recover-texts: cannot write ${target}: the disk is full`);
        nothingLeft(tmp, out);
      }
    } finally {
      removeTmp(tmp);
    }
  });

  it.skipIf('skip' in tmpDisk)(`for TMPDIR, too small for the throwaway PostgreSQL: one clean line, nothing left ${'skip' in tmpDisk ? tmpDisk.skip : ''}`, async () => {
    const tmp = (tmpDisk as { dir: string }).dir;
    const r = await runCli(['export', join(CURRENT, 'plain.sql'), '-u', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(6);
    const { message, hint } = expectCleanError(r);
    expect(message).toMatch(/No space left on device/);
    expect(hint).toMatch(/TMPDIR/);
    nothingLeft(tmp);
  });

  it.skipIf('skip' in loadDisk)(`for TMPDIR, filling up while loading: one clean line, nothing left ${'skip' in loadDisk ? loadDisk.skip : ''}`, async () => {
    const tmp = (loadDisk as { dir: string }).dir;
    const dump = join(work, 'texts.sql');
    await writeBigDump(dump, 0, 100);
    try {
      const r = await runCli(['export', dump, '-u', 'bob'], { tmp });
      expect([6, 8], r.stderr).toContain(r.code);
      const { message, hint } = expectCleanError(r);
      expect(message).toMatch(/space/i);
      expect(hint).toMatch(/TMPDIR/);
      expect(r.stdout).toBe('');
      nothingLeft(tmp);
    } finally {
      rmSync(dump, { force: true });
    }
  });
});
