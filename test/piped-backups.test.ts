/**
 * A backup from standard input or a pipe (`pg_dump -Fc … | recover-texts export -`): read once,
 * detection's sniffed bytes used by the reader, a piped custom archive walked block by block.
 * Every format exports exactly as from the file; the CLI runs the built bundle with a real pipe.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveInfoOf, readArchiveInfo, readArchiveSql, streamBytes } from '../src/archive/index.js';
import { detectBackup } from '../src/detect/index.js';
import { ExitCode, RecoverError } from '../src/errors.js';
import { WANTED_TABLES } from '../src/filter/index.js';
import { openSql } from '../src/source/index.js';
import { CLI, FIXTURES, leftovers, makeTmp, processesMentioning, removeTmp, runCli, type CliResult } from './helpers.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const FORMATS = ['plain.sql', 'plain.sql.gz', 'custom.dump', 'custom-piped.dump', 'pg17-custom-zstd.dump', 'pg17-custom-lz4-piped.dump', 'tar.tar'];

let tmp: string;
beforeAll(() => {
  tmp = makeTmp('piped');
});
afterAll(() => removeTmp(tmp));

/** `recover-texts args` with `file` piped into its standard input. */
function runPiped(args: string[], file: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {}); // the command may stop reading early (an error)
    createReadStream(file).pipe(child.stdin);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Write `file` into the FIFO from another process; resolves when it is written. */
function feed(fifo: string, file: string | null): Promise<unknown> {
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', file === null ? ': > "$1"' : 'cat "$2" > "$1"', 'sh', fifo, file ?? '']);
  return new Promise((r) => writer.on('close', r));
}

/** A pipe of the file's bytes, read once. */
const piped = (file: string) => streamBytes(createReadStream(file, { highWaterMark: 7919 }), 'a pipe');

describe('reading a pipe in process', () => {
  for (const name of ['custom.dump', 'custom-piped.dump', 'pg17-custom-zstd-piped.dump', 'tar.tar']) {
    it(`${name}: the SQL read from a pipe is the SQL read from the file`, async () => {
      const file = join(CURRENT, name);
      const fromFile = await text(readArchiveSql(file, await readArchiveInfo(file), { tables: WANTED_TABLES }));
      const detected = await detectBackup(join(CURRENT, name));
      expect(detected.bytes).toBeUndefined(); // a file is read by path
      const src = piped(file);
      const fromPipe = await text(readArchiveSql(src, await archiveInfoOf(src), { tables: WANTED_TABLES }));
      expect(fromPipe).toBe(fromFile);
      expect(fromPipe).toContain('COPY public.tasktexts');
    });
  }

  it('a pipe cut inside the data is truncated, named by what it is', async () => {
    const whole = readFileSync(join(CURRENT, 'custom-piped.dump'));
    const src = streamBytes(Readable.from([whole.subarray(0, whole.length - 200)]), 'standard input');
    const sql = readArchiveSql(src, await archiveInfoOf(src), { tables: WANTED_TABLES });
    const e = await text(sql).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RecoverError);
    expect((e as RecoverError).code).toBe('ARCHIVE_TRUNCATED');
    expect((e as RecoverError).message).toMatch(/^standard input is truncated/);
  });

  it('a read once cannot go back', async () => {
    const src = streamBytes(Readable.from([Buffer.from('abcdef'), Buffer.from('ghij')]), 'a pipe');
    expect((await src.read(0, 3)).toString()).toBe('abc');
    expect((await src.read(4, 4)).toString()).toBe('efgh');
    expect((await src.read(8, 10)).toString()).toBe('ij');
    expect((await src.read(10, 1)).length).toBe(0);
    await expect(src.read(2, 1)).rejects.toMatchObject({ code: 'BACKUP_READ_ONCE' });
  });

  it('a FIFO is detected from its first bytes, which the SQL then starts with', async () => {
    const fifo = join(tmp, 'plain.fifo');
    const written = feed(fifo, join(CURRENT, 'plain.sql.gz'));
    const backup = await detectBackup(fifo);
    expect(backup.format).toBe('gzip');
    expect(backup.bytes?.seekable).toBe(false);
    const source = await openSql(backup);
    const chunks: Buffer[] = [];
    let s: NodeJS.ReadableStream = source.streams[0];
    for (const t of source.streams.slice(1)) s = s.pipe(t as NodeJS.ReadWriteStream);
    for await (const c of s) chunks.push(c as Buffer);
    const sql = Buffer.concat(chunks).toString();
    expect(sql).toBe(execFileSync('gunzip', ['-c', join(CURRENT, 'plain.sql.gz')]).toString());
    await written;
  });

  it('an empty pipe says the command writing into it wrote nothing', async () => {
    const e = await detectBackup(join(tmp, 'x')).catch((x: unknown) => x);
    expect((e as RecoverError).code).toBe('BACKUP_NOT_FOUND');
    const fifo = join(tmp, 'empty.fifo');
    const written = feed(fifo, null);
    const empty = await detectBackup(fifo).catch((x: unknown) => x);
    expect((empty as RecoverError).code).toBe('BACKUP_EMPTY');
    expect((empty as RecoverError).hint).toMatch(/wrote nothing/);
    await written;
  });
});

describe('export - and a FIFO, with the built command', () => {
  for (const name of FORMATS) {
    it(`${name}: standard input and a FIFO export exactly what the file does`, async () => {
      const file = join(CURRENT, name);
      const want = await runCli(['export', file, '-u', 'bob'], { tmp });
      expect(want.code, want.stderr).toBe(0);
      const fromStdin = await runPiped(['export', '-', '-u', 'bob'], file);
      expect(fromStdin.code, fromStdin.stderr).toBe(0);
      expect(fromStdin.stdout).toBe(want.stdout);
      const fifo = join(tmp, `${name}.fifo`);
      const written = feed(fifo, file);
      const fromFifo = await runCli(['export', fifo, '-u', 'bob'], { tmp });
      await written;
      expect(fromFifo.code, fromFifo.stderr).toBe(0);
      expect(fromFifo.stdout).toBe(want.stdout);
    });
  }

  it('a FIFO whose writer comes late is waited for; one with no writer yet still ends on SIGTERM, leaving nothing', async () => {
    const file = join(CURRENT, 'custom-piped.dump');
    const want = await runCli(['export', file, '-u', 'bob'], { tmp });
    const late = join(tmp, 'late.fifo');
    execFileSync('mkfifo', [late]);
    const reading = runCli(['export', late, '-u', 'bob'], { tmp });
    await new Promise((r) => setTimeout(r, 1500));
    execFileSync('sh', ['-c', 'cat "$2" > "$1"', 'sh', late, file]);
    const fromLate = await reading;
    expect(fromLate.code, fromLate.stderr).toBe(0);
    expect(fromLate.stdout).toBe(want.stdout);

    const idle = join(tmp, 'idle.fifo');
    execFileSync('mkfifo', [idle]);
    const child = spawn(process.execPath, [CLI, 'export', idle, '-u', 'bob'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, stderr).toBe(ExitCode.terminated);
    expect(stderr).toMatch(/interrupted \(SIGTERM\); cleaning up/);
    expect(leftovers(tmp).filter((f) => !f.endsWith('.fifo'))).toEqual([]);
    expect(processesMentioning(tmp)).toEqual([]);
  });

  it('inspect - says the backup came from a pipe and dates it by its archive header', async () => {
    const r = await runPiped(['inspect', '-'], join(CURRENT, 'custom-piped.dump'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^format: +custom \(read from a pipe\)$/m);
    expect(r.stdout).toMatch(/^backup date: +2026-11-24 07:32 \(.*archive's header\)$/m);
  });

  it('standard input twice is refused with one clear line', async () => {
    const r = await runPiped(['history', '-u', 'bob', '-', '-'], join(CURRENT, 'plain.sql'));
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/standard input \(-\) is named 2 times/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--pg-restore with a pipe says it needs a file', async () => {
    const r = await runPiped(['export', '-', '-u', 'bob', '--pg-restore', '/usr/lib/postgresql/15/bin/pg_restore'], join(CURRENT, 'custom.dump'));
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/--pg-restore reads an archive from a file, and standard input is a pipe/);
    expect(r.stderr).toMatch(/hint: leave out --pg-restore/);
  });
});
