/**
 * Backups in S3, in process, against a real S3-compatible store (s3rver on 127.0.0.1): s3://
 * arguments parsed, a prefix listed page after page and taken as a folder exactly as the same
 * files on disk are (dates, formats, order, what is skipped and why), an object read by ranged
 * GETs byte for byte, one read from start to end taken up again where a connection dropped (a
 * proxy of the test's own cuts it), and each way S3 says no given as one clean error naming the bucket and key
 * only.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDate, detectBackup, newerBackupsBeside, selectBackups } from '../src/detect/index.js';
import { checkEndpoint, isS3Url, openS3, parseS3Url } from '../src/remote/s3.js';
import type { ByteSource } from '../src/archive/index.js';
import type { DetectOptions } from '../src/detect/detect.js';
import { RecoverError } from '../src/errors.js';
import { cuttingProxy } from './cutting-proxy.js';
import { distinctBytes, makeTmp, removeTmp } from './helpers.js';
import { nightPaths } from './story-helpers.js';
import { S3_BUCKET, startStore, type TestStore } from './s3-store.js';

let store: TestStore;
let tmp: string;
let settings: DetectOptions;
const saved = { ...process.env };

/** Objects put beside the nights, and what the folder rules make of each. */
const NOT_A_BACKUP = Buffer.from('{"generatedBy": "someone else"}\n');

beforeAll(async () => {
  tmp = makeTmp('s3-in-process');
  store = await startStore();
  settings = { s3: { endpoint: store.endpoint } };
  // The SDK's own chain finds the store's keys here, as it would in an admin's environment.
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
  Object.assign(process.env, store.env);
  for (const p of nightPaths) await store.putFile(`nightly/${basename(p)}`, p);
  await store.put('nightly/expected.json', NOT_A_BACKUP);
  await store.put('nightly/buggy_race_bk_20260314.sql.gz', ''); // the night the backup job failed
  await store.put('nightly/old/buggy_race_bk_20260201.sql.gz', readFileSync(nightPaths[0]!));
  // s3rver keeps objects as files, and Windows allows no line break in a file's name.
  if (process.platform !== 'win32') await store.put('nightly/bad\nname.sql', '-- forged\n');
}, 120_000);

afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await store?.stop();
  removeTmp(tmp);
});

/** The RecoverError `p` fails with. */
async function failure(p: Promise<unknown>): Promise<RecoverError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RecoverError);
  return e as RecoverError;
}

/** Run `fn` with these AWS variables in place of the store's. */
async function withAws<T>(aws: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const before = { ...process.env };
  for (const [k, v] of Object.entries(aws)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(aws)) delete process.env[k];
    Object.assign(process.env, before);
  }
}

describe('s3:// arguments', () => {
  it('are a bucket and a key, or a folder: a prefix ending in a slash, or the bucket itself', () => {
    expect(isS3Url('s3://b/k')).toBe(true);
    expect(isS3Url('S3://b/k')).toBe(true);
    expect(isS3Url('./s3:/b/k')).toBe(false);
    expect(isS3Url('https://b/k')).toBe(false);
    expect(parseS3Url('s3://backups/nightly/buggy_race_bk_20260309.sql.gz')).toEqual({ bucket: 'backups', key: 'nightly/buggy_race_bk_20260309.sql.gz', folder: false });
    expect(parseS3Url('s3://backups/nightly/')).toEqual({ bucket: 'backups', key: 'nightly/', folder: true });
    expect(parseS3Url('s3://backups')).toEqual({ bucket: 'backups', key: '', folder: true });
    expect(parseS3Url('s3://backups/')).toEqual({ bucket: 'backups', key: '', folder: true });
    for (const bad of ['s3://', 's3:///key', 's3://b', 's3://backups//key', 's3://a b/key', 's3://-x/key']) {
      let e: unknown;
      try {
        parseS3Url(bad);
      } catch (x) {
        e = x;
      }
      expect((e as RecoverError).code, bad).toBe('S3_URL_INVALID');
      expect((e as RecoverError).hint).toContain('s3://BUCKET/PREFIX/');
    }
  });

  it('an endpoint is an http(s) URL without credentials in it', () => {
    expect(checkEndpoint('http://127.0.0.1:9000', '--endpoint-url')).toBe('http://127.0.0.1:9000');
    expect(checkEndpoint('https://minio.example.org', '--endpoint-url')).toBe('https://minio.example.org');
    for (const bad of ['127.0.0.1:9000', 'ftp://host', 'http://key:secret@host', 'http://host:9000/?token=secret', 'http://host/#secret', 'not a url']) {
      expect(() => checkEndpoint(bad, '--endpoint-url'), bad).toThrow(expect.objectContaining({ code: 'S3_ENDPOINT_INVALID' }));
    }
    // The message never repeats the value: it may hold a key.
    try {
      checkEndpoint('http://key:secret@host', '--endpoint-url');
    } catch (e) {
      expect(`${(e as RecoverError).message} ${(e as RecoverError).hint}`).not.toContain('secret');
    }
  });
});

describe('a prefix is a folder of backups', () => {
  it('holds what the same files on disk hold: the same backups, dates, formats and order', async () => {
    const local = join(tmp, 'nightly');
    mkdirSync(local);
    for (const p of nightPaths) writeFileSync(join(local, basename(p)), readFileSync(p));
    const onDisk = await selectBackups([local]);
    const inS3 = await selectBackups([`s3://${S3_BUCKET}/nightly/`], {}, [], settings);
    expect(inS3.backups.map((b) => basename(b.path))).toEqual(onDisk.backups.map((b) => basename(b.path)));
    expect(inS3.backups.map((b) => b.date)).toEqual(onDisk.backups.map((b) => b.date));
    expect(inS3.backups.map((b) => [b.backup.format, b.backup.size, b.named])).toEqual(onDisk.backups.map((b) => [b.backup.format, b.backup.size, b.named]));
    expect(inS3.backups.every((b) => b.path.startsWith(`s3://${S3_BUCKET}/nightly/`) && b.backup.bytes?.seekable)).toBe(true);
    // The archive's header and TOC were read over S3, as from the file.
    const dump = (s: typeof inS3) => s.backups.find((b) => b.backup.format === 'custom')!.backup.archive!;
    expect(dump(inS3).toc).toEqual(dump(onDisk).toc);
  });

  it('skips, saying why, what is not a backup: another file, an empty night, a sub-folder, a name with a line break', async () => {
    const s = await selectBackups([`s3://${S3_BUCKET}/nightly/`], {}, [], settings);
    const why = Object.fromEntries(s.skipped.map((k) => [k.path.slice(`s3://${S3_BUCKET}/nightly/`.length), [k.kind, k.code ?? null, k.reason]]));
    expect(why['expected.json']).toEqual(['not a backup', 'BACKUP_UNRECOGNISED', expect.stringContaining('is not a PostgreSQL backup')]);
    expect(why['buggy_race_bk_20260314.sql.gz']).toEqual(['damaged', 'BACKUP_EMPTY', `s3://${S3_BUCKET}/nightly/buggy_race_bk_20260314.sql.gz is empty (0 bytes)`]);
    expect(why['old/']).toEqual(['not a backup', null, 'a folder (folders are not searched inside)']);
    if (process.platform !== 'win32') expect(why['bad\nname.sql']).toEqual(['not a backup', null, expect.stringContaining('line break')]);
    expect(Object.keys(why)).toHaveLength(process.platform === 'win32' ? 3 : 4);
  });

  it('applies the date range as to a folder on disk', async () => {
    const s = await selectBackups([`s3://${S3_BUCKET}/nightly/`], { before: '2026-03-11' }, [], settings);
    expect(s.backups.map((b) => basename(b.path))).toEqual(['buggy_race_bk_20260310.sql.gz']);
  });

  it('is listed page after page (S3 gives at most 1000 keys an answer)', async () => {
    const keys = Array.from({ length: 1003 }, (_, k) => `many/night-${String(k).padStart(4, '0')}.txt`);
    for (let k = 0; k < keys.length; k += 50) await Promise.all(keys.slice(k, k + 50).map((key) => store.put(key, 'x')));
    const s3 = await openS3(settings.s3!);
    const listed = await s3.list(parseS3Url(`s3://${S3_BUCKET}/many/`));
    expect(listed.objects.map((o) => o.path)).toEqual(keys.map((k) => `s3://${S3_BUCKET}/${k}`));
    expect(listed.objects.every((o) => o.size === 1 && o.modifiedAt.getTime() > 0)).toBe(true);
  }, 120_000);

  it('that holds no backup is the clean error of a folder that holds none', async () => {
    await store.put('junk/notes.txt', 'not a backup');
    await store.put('junk/deeper/notes.txt', 'not a backup');
    const e = await failure(selectBackups([`s3://${S3_BUCKET}/junk/`], {}, [], settings));
    expect(e.code).toBe('FOLDER_NO_BACKUPS');
    expect(e.message).toBe(`the folder s3://${S3_BUCKET}/junk/ holds no backups (2 entries, none recognised)`);
  });

  it('that holds a directory archive (toc.dat) says to copy it down: it is read from a folder on this machine only', async () => {
    await store.put('dir-archive/toc.dat', 'PGDMP');
    await store.put('dir-archive/3001.dat.gz', 'x');
    const arg = `s3://${S3_BUCKET}/dir-archive/`;
    const e = await failure(selectBackups([arg], {}, [], settings));
    expect(e.code).toBe('S3_DIRECTORY_ARCHIVE');
    expect(e.message).toBe(`${arg} holds toc.dat: it is a pg_dump directory archive, which is read from a folder on this machine only`);
    expect(e.hint).toContain(`aws s3 cp --recursive ${arg} DIR`);
  });

  it("does not count the folder's own marker (a zero-byte key ending in a slash) as a member", async () => {
    await store.put('marked/', '');
    await store.putFile('marked/buggy_race_bk_20260309.sql.gz', nightPaths[0]!);
    const s = await selectBackups([`s3://${S3_BUCKET}/marked/`], {}, [], settings);
    expect(s.backups.map((b) => b.path)).toEqual([`s3://${S3_BUCKET}/marked/buggy_race_bk_20260309.sql.gz`]);
    expect(s.skipped).toEqual([]);
  });
});

describe('one object', () => {
  it('is detected from its bytes and read by position, byte for byte', async () => {
    const path = nightPaths.find((p) => p.endsWith('.dump'))!;
    const file = readFileSync(path);
    const b = await detectBackup(`s3://${S3_BUCKET}/nightly/${basename(path)}`, settings);
    expect(b.format).toBe('custom');
    expect(b.size).toBe(file.length);
    expect(b.archive?.toc.length).toBeGreaterThan(0);
    const src = b.bytes!;
    expect(src.seekable).toBe(true);
    expect(src.name).toBe(`s3://${S3_BUCKET}/nightly/${basename(path)}`);
    for (const [pos, len] of [[0, 5], [1000, 3000], [file.length - 10, 100], [file.length, 10], [file.length + 5, 1]] as const) {
      expect(Buffer.compare(await src.read(pos, len), file.subarray(pos, pos + len)), `${pos}+${len}`).toBe(0);
    }
    // Read again, backwards: an object is not a pipe.
    expect((await src.read(0, 5)).toString('latin1')).toBe('PGDMP');
  });

  it('read from start to end is one answer streamed, byte for byte, forward only', async () => {
    const path = nightPaths[0]!;
    const file = readFileSync(path);
    const b = await detectBackup(`s3://${S3_BUCKET}/nightly/${basename(path)}`, settings);
    expect(b.format).toBe('gzip');
    const src = b.bytes!;
    expect([src.seekable, src.remote]).toEqual([true, true]);
    src.sequential!();
    // A stream now, and saying so: nothing may read it back or ahead (blocks.ts reads a remote source ahead).
    expect([src.seekable, src.remote]).toEqual([false, false]);
    const pieces: Buffer[] = [];
    for (let pos = 0; ; ) {
      const piece = await src.read(pos, 1000);
      if (!piece.length) break;
      pieces.push(piece);
      pos += piece.length;
    }
    expect(Buffer.compare(Buffer.concat(pieces), file)).toBe(0);
    // One answer, read once: going back is the pipe's clean error, not a second request.
    expect((await failure(src.read(0, 10))).code).toBe('BACKUP_READ_ONCE');
  });

  /**
   * An object of 1 MB that no two places share (so a byte read twice or skipped shows), read through a
   * connection that drops after 300 kB: `read` gets its bytes; what --debug said is returned.
   */
  async function throughDrop(key: string, read: (src: ByteSource, body: Buffer) => Promise<void>): Promise<string[]> {
    const body = distinctBytes(1_000_000);
    await store.put(key, body);
    const object = { path: `s3://${S3_BUCKET}/${key}`, size: body.length, modifiedAt: new Date() };
    const proxy = await cuttingProxy(Number(new URL(store.endpoint).port), 300_000);
    const notes: string[] = [];
    try {
      const s3 = await openS3({ endpoint: `http://127.0.0.1:${proxy.port}` }, { backoffMs: 10, debug: (m) => notes.push(m) });
      await read(s3.bytes(object), body);
      expect(proxy.cuts()).toBe(1);
    } finally {
      await proxy.close();
    }
    return notes;
  }

  it('read from start to end through a connection that drops: taken up from the next byte, byte for byte, said under --debug', async () => {
    const notes = await throughDrop('drops/whole.bin', async (src, body) => {
      src.sequential!();
      const pieces: Buffer[] = [];
      for (let pos = 0; ; ) {
        const piece = await src.read(pos, 64 * 1024);
        if (!piece.length) break;
        pieces.push(piece);
        pos += piece.length;
      }
      expect(Buffer.compare(Buffer.concat(pieces), body)).toBe(0);
    });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`^s3://${S3_BUCKET}/drops/whole.bin: the connection dropped at byte \\d+; trying again in 10 ms$`));
  });

  it('read by position through a connection that drops: the piece taken up from the next byte, byte for byte, said under --debug', async () => {
    const notes = await throughDrop('drops/ranged.bin', async (src, body) => {
      expect(Buffer.compare(await src.read(100, 900_000), body.subarray(100, 900_100))).toBe(0);
      // Read by position still, after the drop: an object is not a pipe.
      expect(Buffer.compare(await src.read(5, 10), body.subarray(5, 15))).toBe(0);
    });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`^s3://${S3_BUCKET}/drops/ranged.bin: the connection dropped at byte \\d+; trying again in 10 ms$`));
  });

  it("replaced in S3 between two reads by position is a clean error, never two versions mixed (an archive's TOC from one, its data from another)", async () => {
    await store.put('drops/replaced.bin', Buffer.alloc(100_000, 'a'));
    const object = { path: `s3://${S3_BUCKET}/drops/replaced.bin`, size: 100_000, modifiedAt: new Date() };
    const s3 = await openS3({ endpoint: store.endpoint }, { backoffMs: 10 });
    const src = s3.bytes(object);
    expect((await src.read(0, 10)).toString('latin1')).toBe('a'.repeat(10));
    await store.put('drops/replaced.bin', Buffer.alloc(100_000, 'b'));
    const e = await failure(src.read(50_000, 10));
    expect(e.code).toBe('S3_FAILED');
    expect(e.message).toBe(`cannot read backup ${object.path}: the object changed in S3 while it was being read (its ETag is not the first answer's)`);
  });

  it('changed in S3 after a drop is a clean error, never two versions mixed', async () => {
    const first = Buffer.alloc(500_000, 'a');
    await store.put('drops/changing.bin', first);
    const object = { path: `s3://${S3_BUCKET}/drops/changing.bin`, size: first.length, modifiedAt: new Date() };
    const proxy = await cuttingProxy(Number(new URL(store.endpoint).port), 100_000);
    let replaced: Promise<void> | undefined;
    try {
      // While the reader waits to try again, a backup job writes the object anew.
      const s3 = await openS3({ endpoint: `http://127.0.0.1:${proxy.port}` }, { backoffMs: 1000, debug: () => (replaced ??= store.put('drops/changing.bin', Buffer.alloc(500_000, 'b'))) });
      const src = s3.bytes(object);
      src.sequential!();
      const e = await failure(
        (async () => {
          for (let pos = 0; ; ) {
            const piece = await src.read(pos, 64 * 1024);
            if (!piece.length) break;
            expect(piece.every((c) => c === 0x61)).toBe(true);
            pos += piece.length;
          }
        })(),
      );
      expect(e.code).toBe('S3_FAILED');
      expect(e.message).toBe(`cannot read backup ${object.path}: the object changed in S3 while it was being read (its ETag is not the first answer's)`);
      expect(proxy.cuts()).toBe(1);
    } finally {
      await replaced;
      await proxy.close();
    }
  });

  it('beside an exported object, a newer backup whose name carries no date, or the same day, is found by the date it is read with', async () => {
    const older = nightPaths.find((p) => basename(p) === 'buggy_race_bk_20260310.sql.gz')!;
    const archive = nightPaths.find((p) => p.endsWith('.dump'))!;
    // The 12th's archive (its header: 2026-03-12 23:30) under a name without a date, and again under the 12th's name.
    await store.putFile('beside/buggy_race_bk_20260310.sql.gz', older);
    await store.putFile('beside/latest.dump', archive);
    const backup = await detectBackup(`s3://${S3_BUCKET}/beside/buggy_race_bk_20260310.sql.gz`, settings);
    const newer = await newerBackupsBeside(backup, backupDate(backup), settings);
    expect(newer.map((b) => [basename(b.path), b.date.value])).toEqual([['latest.dump', '2026-03-12 23:30']]);
    // A backup from earlier the same day as another, by its header's time: the later one is newer.
    await store.putFile('beside/buggy_race_bk_20260312_0900.sql.gz', older);
    const sameDay = { ...backup, path: `s3://${S3_BUCKET}/beside/buggy_race_bk_20260312_0900.sql.gz` };
    expect((await newerBackupsBeside(sameDay, { value: '2026-03-12 09:00', source: 'file name' }, settings)).map((b) => basename(b.path))).toEqual(['latest.dump']);
  });

  /**
   * A broken S3-compatible store on 127.0.0.1: `answer` writes each GET's answer, given the
   * range asked for ([from, to], inclusive; null for none). `read` gets the object `any.dump` of
   * `size` bytes through it, tries waiting 1 ms.
   */
  async function throughStore(size: number, answer: (range: [number, number] | null, res: ServerResponse) => void, read: (src: ByteSource) => Promise<void>): Promise<void> {
    const server = createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      answer(m ? [Number(m[1]), Number(m[2])] : null, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const s3 = await openS3({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, { backoffMs: 1 });
      await read(s3.bytes({ path: `s3://${S3_BUCKET}/any.dump`, size, modifiedAt: new Date() }));
    } finally {
      server.close();
    }
  }

  it('a store that ignores Range (it sends the object from its first byte) is a clean error, never bytes taken for others', async () => {
    const body = Buffer.from('0123456789'.repeat(10));
    await throughStore(
      body.length,
      (_range, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, etag: '"one"' });
        res.end(body);
      },
      async (src) => {
        const e = await failure(src.read(10, 5));
        expect(e.code).toBe('S3_FAILED');
        expect(e.message).toBe(`cannot read backup s3://${S3_BUCKET}/any.dump: asked for the bytes from 10, the store sent the whole object`);
      },
    );
  });

  it('a store that sends more than the range asked for (the rest of the object, or bytes past what it says it sends): only the bytes asked for are taken', async () => {
    const body = distinctBytes(4000);
    for (const extra of ['the rest', 'junk'] as const) {
      await throughStore(
        body.length,
        (range, res) => {
          const [from, to] = range ?? [0, body.length - 1];
          // The rest of the object, honestly labelled; or the range asked for, labelled so, and 16 bytes more (no Content-Length).
          const sent = extra === 'the rest' ? body.subarray(from) : Buffer.concat([body.subarray(from, to + 1), Buffer.alloc(16, 'X')]);
          const last = extra === 'the rest' ? body.length - 1 : to;
          res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes ${from}-${last}/${body.length}`, etag: '"one"' });
          res.end(sent);
        },
        async (src) => {
          for (const [pos, len] of [[0, 100], [100, 1000], [3990, 100]] as const) {
            expect(Buffer.compare(await src.read(pos, len), body.subarray(pos, pos + len)), `${extra} ${pos}+${len}`).toBe(0);
          }
        },
      );
    }
  });

  it('an object that is not the size listed (replaced before its first read) is a clean error, never read as another object', async () => {
    const body = distinctBytes(5000);
    for (const ranged of [true, false]) {
      await throughStore(
        4000,
        (range, res) => {
          const [from, to] = range ?? [0, body.length - 1];
          const headers = { 'content-type': 'application/octet-stream', etag: '"new"', 'content-length': to - from + 1 };
          res.writeHead(range ? 206 : 200, range ? { ...headers, 'content-range': `bytes ${from}-${to}/${body.length}` } : headers);
          res.end(body.subarray(from, to + 1));
        },
        async (src) => {
          if (!ranged) src.sequential!();
          const e = await failure(src.read(0, 100));
          expect(e.code).toBe('S3_FAILED');
          expect(e.message).toBe(`cannot read backup s3://${S3_BUCKET}/any.dump: the object changed in S3 while it was being read (it holds 5000 bytes, 4000 when listed)`);
        },
      );
    }
  });

  it('a store that drips a byte an answer is a clean error after the tries, not a read of one request a byte', async () => {
    let requests = 0;
    await throughStore(
      10_000,
      (range, res) => {
        const [from] = range ?? [0, 0];
        requests++;
        res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes ${from}-${from}/10000`, etag: '"one"' });
        res.end(Buffer.from('a'));
      },
      async (src) => {
        const e = await failure(src.read(0, 200));
        expect(e.code).toBe('S3_UNREACHABLE');
        expect(e.message).toBe(`cannot read backup s3://${S3_BUCKET}/any.dump: the connection dropped at byte 5, 5 times`);
      },
    );
    expect(requests).toBe(5);
  });

  it('as a folder (a slash at the end) is not one backup', async () => {
    const e = await failure(detectBackup(`s3://${S3_BUCKET}/nightly/`, settings));
    expect(e.code).toBe('BACKUP_UNRECOGNISED');
    expect(e.hint).toContain('history, merge or scan');
  });
});

describe('when S3 says no: one clean error naming the bucket and key', () => {
  it('no such key', async () => {
    const e = await failure(detectBackup(`s3://${S3_BUCKET}/nightly/buggy_race_bk_20260399.sql.gz`, settings));
    expect(e.code).toBe('S3_NO_SUCH_KEY');
    expect(e.message).toBe(`cannot read backup s3://${S3_BUCKET}/nightly/buggy_race_bk_20260399.sql.gz: no such object in the bucket ${S3_BUCKET} at ${store.endpoint}`);
    expect(e.hint).toContain('aws s3 ls');
  });

  it('no such bucket, named or listed', async () => {
    for (const [arg, doing] of [['s3://no-such-bucket/nightly/x.sql.gz', 'cannot read backup'], ['s3://no-such-bucket/nightly/', 'cannot list']] as const) {
      const e = await failure(selectBackups([arg], {}, [], settings));
      expect(e.code, arg).toBe('S3_NO_SUCH_BUCKET');
      expect(e.message).toBe(`${doing} ${arg}: there is no bucket no-such-bucket at ${store.endpoint}`);
      expect(e.hint).toContain('--endpoint-url');
    }
  });

  it('access denied: keys the store does not know, for a listing and for a read', async () => {
    const secret = 'never-shown-7f3a';
    await withAws({ AWS_ACCESS_KEY_ID: 'AKIANOSUCHKEY0000000', AWS_SECRET_ACCESS_KEY: secret }, async () => {
      for (const arg of [`s3://${S3_BUCKET}/nightly/`, `s3://${S3_BUCKET}/nightly/${basename(nightPaths[0]!)}`]) {
        const e = await failure(selectBackups([arg], {}, [], settings));
        expect(e.code, arg).toBe('S3_ACCESS_DENIED');
        expect(e.message).toMatch(/access denied \((InvalidAccessKeyId|HTTP 403)\)$/);
        expect(e.hint).toContain('aws sts get-caller-identity');
        expect(`${e.message}${e.hint}`).not.toMatch(/never-shown|AKIANOSUCHKEY/);
      }
    });
  });

  it('no credentials anywhere the SDK looks', async () => {
    await withAws({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: undefined }, async () => {
      const e = await failure(selectBackups([`s3://${S3_BUCKET}/nightly/`], {}, [], settings));
      expect(e.code).toBe('S3_NO_CREDENTIALS');
      expect(e.message).toBe(`cannot list s3://${S3_BUCKET}/nightly/: no AWS credentials found`);
      expect(e.hint).toContain('AWS_ACCESS_KEY_ID');
    });
  });

  it('no region set anywhere is no error: an S3-compatible store needs none', async () => {
    await withAws({ AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined }, async () => {
      const s = await selectBackups([`s3://${S3_BUCKET}/nightly/`], {}, [], settings);
      expect(s.backups).toHaveLength(nightPaths.length);
    });
  });

  it('a store that does not answer', async () => {
    const e = await failure(selectBackups([`s3://${S3_BUCKET}/nightly/`], {}, [], { s3: { endpoint: 'http://127.0.0.1:1' } }));
    expect(e.code).toBe('S3_UNREACHABLE');
    expect(e.message).toBe(`cannot list s3://${S3_BUCKET}/nightly/: the store at http://127.0.0.1:1 cannot be reached (ECONNREFUSED)`);
  }, 60_000);

  it('a refusal to read an object says which permission it needs', async () => {
    const s3 = await openS3(settings.s3!);
    const [object] = (await s3.list(parseS3Url(`s3://${S3_BUCKET}/nightly/`))).objects;
    const e = await withAws({ AWS_ACCESS_KEY_ID: 'AKIANOSUCHKEY0000000' }, async () => failure((await openS3(settings.s3!)).bytes(object!).read(0, 10)));
    expect(e.code).toBe('S3_ACCESS_DENIED');
    expect(e.message).toContain(`cannot read backup ${object!.path}`);
    expect(e.hint).toContain('s3:GetObject');
  });
});
