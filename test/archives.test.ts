/**
 * Archives through the CLI: inspect shows the header, damaged archives give
 * one clean line and leave nothing, an archive too new for every pg_restore
 * here says what to install.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchiveInfo } from '../src/detect/index.js';
import { findPgRestore } from '../src/source/index.js';
import { expectCleanError, FIXTURES, makeTmp, removeTmp, runCli, expectNothingLeft } from './helpers.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('arch-tmp');
  work = makeTmp('arch-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

describe('inspect on archives', () => {
  for (const [file, format, offsets] of [
    ['custom.dump', 'custom', true],
    ['custom-piped.dump', 'custom', false],
    ['tar.tar', 'tar', true],
    ['directory', 'directory', true],
  ] as const) {
    it(`${file}: --json carries the header fields and the counts`, async () => {
      const r = await runCli(['inspect', join(CURRENT, file), '--json'], { tmp });
      expect(r.code, r.stderr).toBe(0);
      const info = JSON.parse(r.stdout);
      expect(info.format).toBe(format);
      expect(info.archive).toMatchObject({ version: '1.14', format, tocEntries: expect.any(Number), hasDataOffsets: offsets });
      expect(info.archive.compression.algorithm).toMatch(/^(none|gzip)$/);
      expect(info.dateSource).toBe('archive header');
      expect(info.date).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
      expect(info.database).toBe('buggy_race');
      expect(info.pgDumpVersion).toMatch(/^15\./);
      expect(info.serverVersion).toMatch(/^15\./);
      expect(info.loaded).toBe(true);
      expect(info.schemaVersion).toBe('da24495f7e73');
      expect(info.texts).toBeGreaterThan(10);
      expectNothingLeft(tmp);
    });
  }

  it('prints the header as text too', async () => {
    const r = await runCli(['inspect', join(CURRENT, 'custom.dump')], { tmp });
    expect(r.code).toBe(0);
    for (const field of ['archive version:', 'compression:', 'dumped at:', 'TOC entries:', 'pg_dump version:', 'server version:', 'database:']) {
      expect(r.stdout).toContain(field);
    }
  });
});

describe('an archive newer than this machine\'s pg_restore', () => {
  const v116 = join(CURRENT, 'custom-v116.dump');
  it('exports natively, with no pg_restore needed; --pg-restore with one too old says exactly what to install', async () => {
    const info = await readArchiveInfo(v116);
    expect(info.version.text).toBe('1.16');
    const r = await runCli(['export', v116, '-u', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(CURRENT, 'expected', 'bob.json'), 'utf8'));
    expectNothingLeft(tmp);

    // A pg_restore 15, whatever is installed here: the tool knows a pg_restore by what --version says.
    const old = join(work, 'pg15', 'pg_restore');
    mkdirSync(dirname(old), { recursive: true });
    writeFileSync(old, '#!/bin/sh\n[ "$1" = --version ] && exec echo "pg_restore (PostgreSQL) 15.18"\necho "only --version is known here" >&2\nexit 1\n');
    chmodSync(old, 0o755);
    const viaOld = await runCli(['export', v116, '-u', 'bob', '--pg-restore', old], { tmp });
    expect(viaOld.code).toBe(9);
    const { message, hint } = expectCleanError(viaOld);
    expect(message).toMatch(/archive version 1\.16 .* needs pg_restore 17 or newer; found only pg_restore 15/);
    expect(hint).toMatch(/postgresql-client-17.*--pg-restore PATH/);
    expectNothingLeft(tmp);
  });

  it('still lets inspect show its header', async () => {
    const r = await runCli(['inspect', v116, '--json'], { tmp });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.archive.version).toBe('1.16');
    expect(info.pgDumpVersion).toMatch(/^17\./);
    expectNothingLeft(tmp);
  });
});

describe('damaged archives', () => {
  const whole = readFileSync(join(CURRENT, 'custom.dump'));
  const info = () => readArchiveInfo(join(CURRENT, 'custom.dump'));

  it('truncated inside the data: one line, exit 10, nothing left', async () => {
    const file = join(work, 'cut-data.dump');
    writeFileSync(file, whole.subarray(0, whole.length - 2000));
    const r = await runCli(['export', file, '-u', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(10);
    expect(expectCleanError(r).message).toMatch(/truncated|damaged/);
    expectNothingLeft(tmp);
  });

  it('truncated inside the TOC: caught natively before anything starts', async () => {
    const file = join(work, 'cut-toc.dump');
    writeFileSync(file, whole.subarray(0, 4000));
    const r = await runCli(['export', file, '-u', 'bob'], { tmp });
    expect(r.code).toBe(10);
    expect(expectCleanError(r).message).toMatch(/ends after 4000 bytes, inside the archive header or TOC/);
    expectNothingLeft(tmp);
  });

  it('a corrupt TOC: one line, a damaged-backup exit code, nothing left', async () => {
    const file = join(work, 'corrupt-toc.dump');
    const bytes = Buffer.from(whole);
    // Overwrite a run of TOC bytes after the header with 0xff: lengths become absurd.
    const a = await info();
    expect(a.toc.length).toBeGreaterThan(10);
    bytes.fill(0xff, 200, 260);
    writeFileSync(file, bytes);
    const r = await runCli(['export', file, '-u', 'bob'], { tmp });
    expect([3, 10]).toContain(r.code);
    expect(expectCleanError(r).message).toMatch(/corrupt|damaged|truncated|not a/i);
    expectNothingLeft(tmp);
  });

  it('random bytes after a PGDMP prefix: one line, nothing left', async () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let k = 0; k < 5; k++) {
      const file = join(work, `random-${k}.dump`);
      writeFileSync(file, Buffer.concat([Buffer.from('PGDMP'), Buffer.from(Array.from({ length: 3000 }, rnd))]));
      const r = await runCli(['export', file, '-u', 'bob'], { tmp });
      expect([3, 4, 10]).toContain(r.code);
      expectCleanError(r);
      expectNothingLeft(tmp);
    }
  });
});

describe('choosing a pg_restore', () => {
  const fake = (dir: string, version: string) => {
    const p = join(dir, `pg_restore-${version}`);
    writeFileSync(p, `#!/bin/sh\necho "pg_restore (PostgreSQL) ${version}"\n`, { mode: 0o755 });
    return p;
  };
  it('takes one whose major version reads the archive, and refuses an older one with what to install', async () => {
    const v116 = await readArchiveInfo(join(CURRENT, 'custom-v116.dump'));
    const v114 = await readArchiveInfo(join(CURRENT, 'custom.dump'));
    expect(findPgRestore(v116, fake(work, '17.2')).major).toBe(17);
    expect(findPgRestore(v114, fake(work, '12.20')).major).toBe(12);
    expect(() => findPgRestore(v116, fake(work, '16.4'))).toThrow(/archive version 1\.16 .* needs pg_restore 17 or newer; found only pg_restore 16/);
    expect(() => findPgRestore(v116, join(work, 'missing'))).toThrow(/is not a working pg_restore/);
  });
});
