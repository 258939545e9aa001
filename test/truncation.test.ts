/**
 * A backup cut off at any byte (a copy that stopped, a nightly job still
 * writing) gives a clean "damaged" error: never a hang, a crash, an empty
 * export, or an export missing texts. Plain, gzip, custom and tar backups of
 * the `current` fixture, cut at random offsets (seeded: the same every run)
 * and at the places that matter (statement boundaries, block and member
 * edges). Two layers: the stages alone at many offsets, then the CLI at some.
 * And directory backups copied only in part (a file cut, missing or empty).
 */
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArchiveData, detectBackup, readArchiveInfo } from '../src/detect/index.js';
import { RecoverError } from '../src/errors.js';
import { SqlFilterStream } from '../src/filter/index.js';
import { openSql } from '../src/source/index.js';
import { CLI, expectCleanError, FIXTURES, leftovers, makeTmp, processesMentioning, removeTmp, type CliResult } from './helpers.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const EXPECTED = readFileSync(join(CURRENT, 'expected', 'bob.json'), 'utf8');
/** A truncated backup must stop within this; pg_restore 15 used to spin forever on a cut tar. */
const HANG_MS = 30_000;

let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('cut-tmp');
  work = makeTmp('cut-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

const whole = {
  plain: readFileSync(join(CURRENT, 'plain.sql')),
  gzip: readFileSync(join(CURRENT, 'plain.sql.gz')),
  custom: readFileSync(join(CURRENT, 'custom.dump')),
  tar: readFileSync(join(CURRENT, 'tar.tar')),
  /** Written to a pipe: no data offsets, so a cut shows only when the reader walks the blocks. */
  piped: readFileSync(join(CURRENT, 'custom-piped.dump')),
};
type Kind = keyof typeof whole;
const ext: Record<Kind, string> = { plain: 'sql', gzip: 'sql.gz', custom: 'dump', tar: 'tar', piped: 'dump' };

/** Seeded random offsets inside a file of `size` bytes. */
function randomCuts(size: number, n: number, seed: number): number[] {
  return fc.sample(fc.integer({ min: 0, max: size - 1 }), { numRuns: n, seed });
}

/** In a plain dump, a cut at or after the end of pg_dump's "dump complete" line loses nothing. */
const plainCompleteAt = whole.plain.indexOf('-- PostgreSQL database dump complete') + '-- PostgreSQL database dump complete'.length;

function cutFile(kind: Kind, n: number): string {
  const file = join(work, `cut-${n}.${ext[kind]}`);
  writeFileSync(file, whole[kind].subarray(0, n));
  return file;
}

/** The error families a cut backup may give: damaged (10), or "not a backup" for a few bytes (3). */
function expectDamaged(e: unknown, where: string): void {
  if (!(e instanceof RecoverError) || !['damaged', 'badBackup'].includes(e.exit)) {
    throw new Error(`${where}: expected a damaged-backup RecoverError, got ${e instanceof RecoverError ? `${e.code} (${e.exit}): ${e.message}` : String(e)}`);
  }
}

describe('the stages on cut backups (many offsets, no database)', () => {
  /** detect, source and filter over the cut file: the error, or the filter's trailer flags. */
  async function readCut(file: string): Promise<{ error?: unknown; complete?: boolean; header?: boolean }> {
    try {
      const backup = await detectBackup(file);
      const source = await openSql(backup);
      const filter = new SqlFilterStream();
      await pipeline([...source.streams, filter, new Writable({ objectMode: true, write: (_e, _enc, done) => done() })]).catch((e) => {
        throw source.explain(e) ?? e;
      });
      return { complete: filter.stats.sawDumpComplete, header: filter.stats.sawDumpHeader };
    } catch (error) {
      return { error };
    }
  }

  for (const kind of ['plain', 'gzip'] as const) {
    it(`${kind}: every cut is an error, or is caught by the missing trailer, or loses nothing`, async () => {
      const size = whole[kind].length;
      for (const n of [1, 2, 3, 9, 40, ...randomCuts(size, 150, 20260315), size - 1]) {
        const r = await readCut(cutFile(kind, n));
        if (r.error) expectDamaged(r.error, `${kind} cut at ${n} of ${size}`);
        else if (kind === 'gzip') throw new Error(`gzip cut at ${n} of ${size} read without an error`);
        else if (n < plainCompleteAt) expect({ n, header: r.header, complete: r.complete }).toEqual({ n, header: true, complete: false });
      }
    });
  }

  it.skipIf(process.platform !== 'linux')('gzip: a reading that ends, fails downstream, or is destroyed before it began leaves the file closed (skipped: needs /proc/self/fd, Linux only)', async () => {
    const file = join(work, 'whole.sql.gz');
    writeFileSync(file, whole.gzip);
    const open = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false; // the listing's own descriptor, gone
      }
    }).length;
    const backup = await detectBackup(file);
    const rows = async (sink: Writable) => {
      const source = await openSql(backup);
      await pipeline([...source.streams, new SqlFilterStream(), sink]);
    };
    await rows(new Writable({ objectMode: true, write: (_e, _enc, done) => done() }));
    expect(open()).toBe(0);
    // A stage after it fails at the first event: the reading stops, and the file is closed.
    await expect(rows(new Writable({ objectMode: true, write: (_e, _enc, done) => done(new Error('the load failed')) }))).rejects.toThrow('the load failed');
    await new Promise((r) => setTimeout(r, 50));
    expect(open()).toBe(0);
    // Opened and let go before any reading (a backup read ahead, the run ending): nothing was opened.
    const unread = await openSql(backup);
    unread.streams.forEach((s) => s.destroy());
    await new Promise((r) => setTimeout(r, 50));
    expect(open()).toBe(0);
  });

  for (const kind of ['custom', 'tar'] as const) {
    it(`${kind}: every cut is ARCHIVE_TRUNCATED before pg_restore runs`, async () => {
      const size = whole[kind].length;
      for (const n of [1, 5, 100, 511, 512, 513, ...randomCuts(size, 300, 20260316), size - 1024, size - 512, size - 1].filter((k) => k > 0 && k < size)) {
        const file = cutFile(kind, n);
        let error: unknown;
        try {
          const backup = await detectBackup(file);
          await checkArchiveData(file, backup.archive ?? (await readArchiveInfo(file)));
        } catch (e) {
          error = e;
        }
        expectDamaged(error, `${kind} cut at ${n} of ${size}`);
      }
    });
  }
});

/** The built CLI with a deadline: a run that does not finish in time is killed and reported as a hang. */
function runWithDeadline(args: string[]): Promise<CliResult & { hung: boolean }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, TMPDIR: tmp }, timeout: HANG_MS, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      const hung = !!err && (err as { killed?: boolean }).killed === true;
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, hung });
    });
  });
}

describe('the CLI on cut backups', () => {
  const tarData = (name: string) => {
    // The byte where a tar member's data starts: 512 after its header, which holds the name.
    const at = whole.tar.indexOf(Buffer.from(`${name}\0`));
    return at + 512;
  };
  const special: Record<Kind, number[]> = {
    plain: [
      2, // inside pg_dump's first comment
      whole.plain.indexOf('COPY public.tasktexts'), // a statement boundary before the texts
      whole.plain.indexOf('\n', whole.plain.indexOf('COPY public.tasktexts') + 30) + 1, // after the first text row
      whole.plain.indexOf('\n--\n-- PostgreSQL database dump complete') + 1, // every statement, no trailer
    ],
    gzip: [1, 10, 11, whole.gzip.length - 8, whole.gzip.length - 1],
    custom: [4000, whole.custom.length - 1],
    tar: [142, 512, tarData('3470.dat') + 100, whole.tar.length - 1],
    piped: [Math.floor(whole.piped.length * 0.7), whole.piped.length - 1],
  };

  for (const kind of Object.keys(whole) as Kind[]) {
    it(`${kind}: one clean line, exit 10 (or 3), no output, nothing left, no hang`, async () => {
      const size = whole[kind].length;
      for (const n of [...special[kind], ...randomCuts(size, 4, 7 + size)]) {
        const r = await runWithDeadline(['export', cutFile(kind, n), '-u', 'bob']);
        const where = `${kind} cut at ${n} of ${size}`;
        expect(r.hung, `${where} hung`).toBe(false);
        if (r.code === 0 && kind === 'plain' && n >= plainCompleteAt) {
          expect(r.stdout, where).toBe(EXPECTED); // nothing was lost: the export is whole
        } else {
          expect([3, 10], `${where}: ${r.stderr}`).toContain(r.code);
          expect(r.stdout, where).toBe('');
          const { message, hint } = expectCleanError(r);
          expect(`${message}\n${hint}`, where).toMatch(/truncated|incomplete|damaged|empty|not a PostgreSQL backup/);
        }
        expect(leftovers(tmp), where).toEqual([]);
        expect(processesMentioning(tmp), where).toEqual([]);
      }
    });
  }
});

describe('a directory backup copied only in part', () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['a wanted data file cut in half', (d) => writeFileSync(join(d, '3470.dat.gz'), readFileSync(join(d, '3470.dat.gz')).subarray(0, 1000)), /the gzip data of table tasktexts \(TOC entry 3470\) in .* ends before its compressed stream does/],
    ['an unwanted data file missing', (d) => rmSync(join(d, '3464.dat.gz')), /incomplete: it has no 3464\.dat \(the data of db_files\)/],
    ['a data file empty', (d) => writeFileSync(join(d, '3460.dat.gz'), ''), /incomplete: 3460\.dat\.gz has only 0 bytes/],
  ];
  for (const [name, damage, message] of cases) {
    it(`${name}: one clean line, exit 10, nothing left`, async () => {
      const dir = join(work, `dir-${name.replace(/\W+/g, '-')}`);
      cpSync(join(CURRENT, 'directory'), dir, { recursive: true });
      damage(dir);
      const r = await runWithDeadline(['export', dir, '-u', 'bob']);
      expect(r.hung).toBe(false);
      expect(r.code, r.stderr).toBe(10);
      expect(r.stdout).toBe('');
      expect(expectCleanError(r).message).toMatch(message);
      expect(leftovers(tmp)).toEqual([]);
    });
  }
});
