/**
 * Backups read over HTTP(S) where they lie: Debian's nginx, started here as the current user on
 * 127.0.0.1 with a self-signed certificate made now (the command trusts it through
 * NODE_EXTRA_CA_CERTS, never by turning verification off). Every format exports exactly as from
 * the file; a custom archive with data offsets costs its header, TOC and wanted blocks (nginx's
 * access log counts the bytes); a connection cut mid-body is taken up where it stopped; a
 * server without ranges is streamed; 403 and 404 are clean lines; the URL's query string (a
 * presigned URL's signature) is never shown or written.
 */
import { readdirSync, readFileSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { readArchiveInfo, readArchiveSql, streamBytes, type ArchiveInfo } from '../src/archive/index.js';
import { detectBackup } from '../src/detect/index.js';
import { RecoverError } from '../src/errors.js';
import { WANTED_TABLES } from '../src/filter/index.js';
import { backupName, httpBytes, isUrl, redactUrl } from '../src/remote/index.js';
import { customArchive, fixtureEntries } from './archive-writer.js';
import { expectCleanError, expectNothingLeft, FIXTURES, makeTmp, removeTmp, runCli, type CliResult } from './helpers.js';
import { cuttingProxy } from './cutting-proxy.js';
import { freePort, HAVE_NGINX, startNginx, type Nginx } from './nginx.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const FORMATS = ['plain.sql', 'plain.sql.gz', 'custom.dump', 'custom-piped.dump', 'pg17-custom-zstd.dump', 'tar.tar'];
/** What a presigned URL carries: never to be shown or written. */
const SECRET = 'X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=0badc0ffee5ec2e7';
/** The archive with a 1 MB text of bob's and 4 MB of other data: what a range read saves is visible. */
const BIG = 'big.dump';

let tmp: string;
let www: string;
let nginx: Nginx;

/**
 * The `current` fixture's archive, bob's texts grown by 1 MB and db_files (never read) by
 * 4 MB, written right after the TOC: the worst place for the first 64 KiB read.
 */
async function bigArchive(): Promise<Buffer> {
  const { entries } = await fixtureEntries(join(CURRENT, 'directory'));
  const grow = (tag: string, fn: (rows: string[]) => string[]) => {
    const e = entries.find((x) => x.desc === 'TABLE DATA' && x.tag === tag)!;
    const rows = e.data!.toString('utf8').replace(/\\\.\n+$/, '').split('\n').filter(Boolean);
    e.data = Buffer.from(fn(rows).join('\n') + '\n\\.\n\n');
  };
  const words = (n: number) => Array.from({ length: n }, (_, i) => `word${(i * 7919) % 10007}`).join(' ');
  // Every text of bob's (user 5), so that the export holds them whichever it takes.
  grow('tasktexts', (rows) => rows.map((r) => (r.split('\t')[3] === '5' ? `${r} ${words(15_000)}` : r)));
  grow('db_files', (rows) => [...rows, ...Array.from({ length: 400 }, (_, i) => `${9000 + i}\tracefile\tbulk-${i}.json\t1\t${words(1500)}`)]);
  return customArchive(entries, { version: [1, 14, 0], compression: 'none' });
}

/** The bytes a reader of the wanted tables cannot avoid: the header and TOC, and each wanted block. */
function unavoidable(info: ArchiveInfo, size: number): number {
  const starts = info.toc.filter((e) => e.dataState === 'offset').map((e) => Number(e.dataOffset)).sort((a, b) => a - b);
  const wanted = info.toc.filter((e) => e.desc === 'TABLE DATA' && e.namespace === 'public' && (WANTED_TABLES as readonly string[]).includes(e.tag));
  const blocks = wanted.map((e) => {
    const at = Number(e.dataOffset);
    return (starts.find((s) => s > at) ?? size) - at;
  });
  return info.tocEnd + blocks.reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  if (!HAVE_NGINX) return;
  tmp = makeTmp('http');
  www = join(tmp, 'www');
  mkdirSync(www);
  for (const f of FORMATS) symlinkSync(join(CURRENT, f), join(www, f));
  symlinkSync(join(FIXTURES, 'demo', 'buggy_race_bk_20260315.sql.gz'), join(www, 'buggy_race_bk_20260315.sql.gz'));
  writeFileSync(join(www, BIG), await bigArchive());
  nginx = await startNginx(join(tmp, 'nginx'), www);
}, 60_000);

afterAll(async () => {
  await nginx?.stop();
  if (tmp) removeTmp(tmp);
});

describe.skipIf(!HAVE_NGINX)('an http(s) URL in process (nginx over http)', () => {
  it('names a URL without its query string or user:password@', () => {
    expect(isUrl('https://h/x.dump')).toBe(true);
    expect(isUrl('HTTP://h/x.dump')).toBe(true);
    expect(isUrl('./https:/x')).toBe(false);
    expect(redactUrl(`https://user:pw@bucket.s3.amazonaws.com/nightly/b.dump?${SECRET}#frag`)).toBe('https://bucket.s3.amazonaws.com/nightly/b.dump');
    expect(backupName(`http://h:8080/b.sql.gz?${SECRET}`)).toBe('http://h:8080/b.sql.gz');
    expect(backupName('backups/b.sql.gz')).toBe('backups/b.sql.gz');
    // Not a URL Node can parse: still nothing after the path, and no user:password@.
    expect(redactUrl(`https://user:pw@[bad/b.dump?${SECRET}`)).toBe('https://[bad/b.dump');
  });

  it('reads any bytes by range, the first 64 KiB from the first answer', async () => {
    const file = readFileSync(join(www, BIG));
    const src = await httpBytes(new URL(`${nginx.http}/${BIG}?${SECRET}`));
    expect(src).toMatchObject({ size: file.length, seekable: true, ranges: true, name: `${nginx.http}/${BIG}` });
    expect(src.modifiedAt).toBeInstanceOf(Date);
    const since = nginx.mark();
    for (const [pos, len] of [[0, 512], [60_000, 10_000], [1_000_000, 300_000], [file.length - 10, 100], [file.length, 5]] as const) {
      expect((await src.read(pos, len)).equals(file.subarray(pos, pos + len))).toBe(true);
    }
    // 60 000..65 535 came with the first answer: only the rest was asked for.
    expect(nginx.bytesSent(`/${BIG}`, since)).toBe(70_000 - 65_536 + 300_000 + 10);
  });

  it('an archive with data offsets: the same SQL as from the file, from the header, TOC and wanted blocks', async () => {
    const path = join(www, BIG);
    const info = await readArchiveInfo(path);
    const fromFile = await text(readArchiveSql(path, info, { tables: WANTED_TABLES }));
    const since = nginx.mark();
    const backup = await detectBackup(`${nginx.http}/${BIG}?${SECRET}`);
    expect(backup).toMatchObject({ path: `${nginx.http}/${BIG}`, format: 'custom' });
    const fromUrl = await text(readArchiveSql(backup.bytes!, backup.archive!, { tables: WANTED_TABLES }));
    expect(fromUrl).toBe(fromFile);
    const size = readFileSync(path).length;
    const sent = nginx.bytesSent(`/${BIG}`, since);
    expect(sent).toBeLessThanOrEqual(1.1 * unavoidable(info, size));
    expect(sent).toBeLessThan(size / 4);
  });

  it('a connection cut mid-body is taken up from the next byte: by range and streamed alike', async () => {
    const file = readFileSync(join(www, BIG));
    const port = Number(new URL(nginx.http).port);
    const proxy = await cuttingProxy(port, 200_000);
    const notes: string[] = [];
    try {
      const url = new URL(`http://127.0.0.1:${proxy.port}/${BIG}?${SECRET}`);
      const ranged = await httpBytes(url, { backoffMs: 10, debug: (m) => notes.push(m) });
      expect((await ranged.read(100_000, 900_000)).equals(file.subarray(100_000, 1_000_000))).toBe(true);
      expect(proxy.cuts()).toBe(1);
      const proxy2 = await cuttingProxy(port, 300_000);
      try {
        const streamed = await httpBytes(new URL(`http://127.0.0.1:${proxy2.port}/${BIG}?${SECRET}`), { backoffMs: 10, debug: (m) => notes.push(m) });
        expect([streamed.seekable, streamed.remote, streamed.ranges]).toEqual([true, true, true]);
        streamed.sequential!();
        // One answer read once now, and saying so: nothing may read it back or ahead.
        expect([streamed.seekable, streamed.remote]).toEqual([false, false]);
        const parts: Buffer[] = [];
        for (let pos = 0; ; ) {
          const b = await streamed.read(pos, 1 << 20);
          if (!b.length) break;
          parts.push(b);
          pos += b.length;
        }
        expect(Buffer.concat(parts).equals(file)).toBe(true);
        expect(proxy2.cuts()).toBe(1);
      } finally {
        await proxy2.close();
      }
    } finally {
      await proxy.close();
    }
    expect(notes.some((n) => /connection dropped at byte \d+; trying again/.test(n))).toBe(true);
    expect(notes.join('\n')).not.toContain('Signature');
  });

  it('a server without ranges is read once, from start to end, and says so', async () => {
    const notes: string[] = [];
    const src = await httpBytes(new URL(`${nginx.http}/noranges/custom.dump?${SECRET}`), { debug: (m) => notes.push(m) });
    expect(src).toMatchObject({ ranges: false, seekable: false, size: readFileSync(join(www, 'custom.dump')).length });
    expect(notes).toEqual([`${nginx.http}/noranges/custom.dump: the server does not honour range requests, so the backup is read once, from start to end`]);
    const backup = await detectBackup(`${nginx.http}/noranges/custom-piped.dump`);
    const sql = await text(readArchiveSql(backup.bytes!, backup.archive!, { tables: WANTED_TABLES }));
    const file = join(CURRENT, 'custom-piped.dump');
    expect(sql).toBe(await text(readArchiveSql(file, await readArchiveInfo(file), { tables: WANTED_TABLES })));
  });

  it('403, 404 and a server that is not there are clean errors', async () => {
    const err = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as RecoverError);
    const forbidden = await err(httpBytes(new URL(`${nginx.http}/forbidden/b.dump?${SECRET}`)));
    expect(forbidden).toMatchObject({ code: 'BACKUP_URL_FORBIDDEN', exit: 'notFound' });
    expect(forbidden!.hint).toMatch(/pg:backups:url/);
    const missing = await err(httpBytes(new URL(`${nginx.http}/nothing.dump?${SECRET}`)));
    expect(missing).toMatchObject({ code: 'BACKUP_NOT_FOUND', message: `cannot read backup ${nginx.http}/nothing.dump: the server has no such file (404 Not Found)` });
    const port = await freePort();
    const refused = await err(httpBytes(new URL(`http://127.0.0.1:${port}/b.dump?${SECRET}`), { retries: 1, backoffMs: 10 }));
    expect(refused).toMatchObject({ code: 'BACKUP_URL_FAILED', message: `cannot read backup http://127.0.0.1:${port}/b.dump: the server refused the connection, 2 times` });
    for (const e of [forbidden, missing, refused]) expect(`${e!.message} ${e!.hint}`).not.toContain('Signature');
  });

  it('a stream read in pieces that do not fall on its chunks keeps only the chunks from the read on', async () => {
    const whole = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const sizes = [7, 65_539, 33_071, 59_392, 1, 65_536];
    const pieces: Buffer[] = [];
    for (let at = 0, k = 0; at < whole.length; k++) pieces.push(whole.subarray(at, (at += sizes[k % sizes.length]!)));
    const src = streamBytes(Readable.from(pieces), 'a pipe');
    const got: Buffer[] = [];
    for (let pos = 0; ; ) {
      const b = await src.read(pos, 10_000);
      if (!b.length) break;
      got.push(b);
      pos += b.length;
    }
    expect(Buffer.concat(got).equals(whole)).toBe(true);
    // Past the first MiB, bytes before a read's chunk are gone: chunks are not kept with later ones.
    const mib = 1024 * 1024;
    const big = Buffer.alloc(3 * mib + 21, 7);
    const long = streamBytes(Readable.from([big.subarray(0, mib + 7), big.subarray(mib + 7, 2 * mib + 14), big.subarray(2 * mib + 14)]), 'a pipe');
    for (let pos = 0; pos < 2.5 * mib; pos += 100_000) expect((await long.read(pos, 100_000)).length).toBe(100_000);
    await expect(long.read(10, 1)).rejects.toMatchObject({ code: 'BACKUP_READ_ONCE' });
    // Within the first MiB, a reader may start again from byte 0 (a piped tar's members after its TOC).
    const head = streamBytes(Readable.from(Array.from({ length: 100 }, (_, i) => Buffer.from([i]))), 'a pipe');
    expect([...(await head.read(50, 10))]).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
    expect([...(await head.read(0, 3))]).toEqual([0, 1, 2]);
  });

  it('a URL Node cannot parse is a clean error that shows no query string', async () => {
    const e = await detectBackup(`https://[bad/b.dump?${SECRET}`).catch((x: unknown) => x as RecoverError);
    expect(e).toMatchObject({ code: 'BACKUP_NOT_FOUND', message: 'cannot read backup https://[bad/b.dump: it is not a valid URL' });
  });

  it('an empty file is empty', async () => {
    writeFileSync(join(www, 'empty.sql.gz'), '');
    const e = await detectBackup(`${nginx.http}/empty.sql.gz`).catch((x: unknown) => x as RecoverError);
    expect(e).toMatchObject({ code: 'BACKUP_EMPTY' });
  });
});

describe.skipIf(!HAVE_NGINX)('recover-texts with an https URL (nginx, its certificate trusted by NODE_EXTRA_CA_CERTS)', () => {
  const cli = (args: string[], cliTmp: string) => runCli(args, { tmp: cliTmp, env: { NODE_EXTRA_CA_CERTS: nginx.cert } });
  const noSecret = (r: CliResult) => {
    expect(r.stdout).not.toContain('Signature');
    expect(r.stderr).not.toContain('Signature');
    expect(r.stderr).not.toContain('AKIAEXAMPLE');
  };

  for (const name of FORMATS) {
    it(`${name}: exports exactly as from the file, and without ranges too`, async () => {
      const t = makeTmp('http-cli');
      try {
        const want = await cli(['export', join(CURRENT, name), '-u', 'bob'], t);
        expect(want.code, want.stderr).toBe(0);
        for (const url of [`${nginx.https}/${name}?${SECRET}`, `${nginx.https}/noranges/${name}?${SECRET}`]) {
          const got = await cli(['export', url, '-u', 'bob'], t);
          expect(got.code, got.stderr).toBe(0);
          expect(got.stdout).toBe(want.stdout);
          noSecret(got);
        }
        expectNothingLeft(t);
      } finally {
        removeTmp(t);
      }
    });
  }

  it('a custom archive with offsets: nginx sends at most 1.1x its header, TOC and wanted blocks', async () => {
    const t = makeTmp('http-cli');
    try {
      const file = join(www, BIG);
      const want = await cli(['export', file, '-u', 'bob'], t);
      expect(want.code, want.stderr).toBe(0);
      const since = nginx.mark();
      const got = await cli(['export', `${nginx.https}/${BIG}?${SECRET}`, '-u', 'bob'], t);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(want.stdout);
      expect(got.stdout.length).toBeGreaterThan(1_000_000); // bob's grown text
      const size = readFileSync(file).length;
      const sent = nginx.bytesSent(`/${BIG}`, since);
      expect(sent).toBeLessThanOrEqual(1.1 * unavoidable(await readArchiveInfo(file), size));
      expect(sent / size).toBeLessThan(0.3);
    } finally {
      removeTmp(t);
    }
  });

  it('a connection cut mid-body resumes and gives the same export (streamed .sql.gz and ranged archive)', async () => {
    const t = makeTmp('http-cli');
    try {
      for (const [name, cutAt] of [[BIG, 400_000], ['plain.sql.gz', 10_000]] as const) {
        const want = await cli(['export', join(www, name), '-u', 'bob'], t);
        const proxy = await cuttingProxy(nginx.httpsPort, cutAt);
        try {
          const got = await cli(['export', `https://127.0.0.1:${proxy.port}/${name}?${SECRET}`, '-u', 'bob', '--debug'], t);
          expect(got.code, got.stderr).toBe(0);
          expect(got.stdout).toBe(want.stdout);
          expect(proxy.cuts()).toBe(1);
          expect(got.stderr).toMatch(/: the connection (dropped at byte \d+|failed \(\w+\)); trying again in \d+ ms/);
          noSecret(got);
        } finally {
          await proxy.close();
        }
      }
      expectNothingLeft(t);
    } finally {
      removeTmp(t);
    }
  });

  it('403 and 404: one clean line each, their exit codes, nothing left behind', async () => {
    const t = makeTmp('http-cli');
    try {
      const forbidden = await cli(['export', `${nginx.https}/forbidden/b.dump?${SECRET}`, '-u', 'bob'], t);
      expect(forbidden.code).toBe(5);
      expect(expectCleanError(forbidden).message).toBe(`recover-texts: cannot read backup ${nginx.https}/forbidden/b.dump: the server refused it (403 Forbidden); a presigned or backup URL has expired, or was copied without its query string`);
      expect(expectCleanError(forbidden).hint).toMatch(/heroku pg:backups:url/);
      const missing = await cli(['history', `${nginx.https}/nothing.sql.gz?${SECRET}`, '-u', 'bob'], t);
      expect(missing.code).toBe(5);
      expect(expectCleanError(missing).message).toBe(`recover-texts: cannot read backup ${nginx.https}/nothing.sql.gz: the server has no such file (404 Not Found)`);
      for (const r of [forbidden, missing]) noSecret(r);
      expectNothingLeft(t);
    } finally {
      removeTmp(t);
    }
  });

  it('history, users, inspect --json, merge --current and the index of --format files name the URL without its query string; the date comes from the URL path', async () => {
    const t = makeTmp('http-cli');
    try {
      const demo = `${nginx.https}/buggy_race_bk_20260315.sql.gz?${SECRET}`;
      const history = await cli(['history', `${nginx.https}/custom.dump?${SECRET}`, `${nginx.https}/plain.sql.gz?${SECRET}`, '-u', 'bob'], t);
      expect(history.code, history.stderr).toBe(0);
      const inspect = await cli(['inspect', demo, '--json'], t);
      expect(inspect.code, inspect.stderr).toBe(0);
      const info = JSON.parse(inspect.stdout) as { backup: string; date: { value: string; source: string } };
      expect(info.backup).toBe(`${nginx.https}/buggy_race_bk_20260315.sql.gz`);
      const users = await cli(['users', demo], t);
      expect(users.code, users.stderr).toBe(0);
      const out = join(t, 'texts');
      const files = await cli(['export', demo, '-u', 'alice', '--format', 'files', '--out', out], t);
      expect(files.code, files.stderr).toBe(0);
      const readme = readFileSync(join(out, 'INDEX.md'), 'utf8');
      expect(readFileSync(join(out, 'index.json'), 'utf8')).toContain(`${nginx.https}/buggy_race_bk_20260315.sql.gz`);
      expect(readme).toContain(`${nginx.https}/buggy_race_bk_20260315.sql.gz`);
      expect(readme).toMatch(/Backup date: 2026-03-15/);
      for (const f of readdirSync(out)) expect(readFileSync(join(out, f), 'utf8')).not.toContain('Signature');
      const upload = join(t, 'upload.json');
      const merge = await cli(['merge', '-u', 'bob', '--current', `${nginx.https}/custom.dump?${SECRET}`, '--auto', `${nginx.https}/plain.sql.gz?${SECRET}`, '-o', upload], t);
      expect(merge.code, merge.stderr).toBe(0);
      expect(merge.stderr).toContain(`current (custom.dump)`);
      for (const r of [history, inspect, users, files, merge]) noSecret(r);
      removeTmp(out);
      removeTmp(upload);
      expectNothingLeft(t);
    } finally {
      removeTmp(t);
    }
  });
});
