/** Sniffing a backup's kind from its bytes, and the facts its first lines or header give. */
import { constants, openSync, promises as fs } from 'node:fs';
import { Socket } from 'node:net';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RecoverError } from '../errors.js';
import { archiveInfoOf, fileBytes, ioError, readArchiveInfo, streamBytes, type ArchiveInfo, type ByteSource } from '../archive/index.js';
import { pathExists } from '../files.js';
import { httpBytes, isS3Url, isUrl, openS3, parseS3Url, redactUrl, type S3Object, type S3Settings, type S3Store } from '../remote/index.js';
import { nearbyPaths } from './nearby.js';


type BackupFormat = 'plain' | 'gzip' | 'custom' | 'tar' | 'directory';

export interface BackupFile {
  path: string;
  /**
   * When `path` is a symbolic link (a `latest.sql.gz` a cron job keeps, a linked archive or
   * archive directory): the file it leads to. The backup is read through the link.
   */
  target?: string;
  format: BackupFormat;
  /** Bytes on disk (for a directory: all its files). */
  size: number;
  modifiedAt: Date;
  /** From the plain dump's header comments, when present. */
  pgDumpVersion?: string;
  serverVersion?: string;
  database?: string;
  /** pg_dump --verbose writes "-- Started on YYYY-MM-DD HH:MM:SS ZONE" into plain dumps. */
  startedAt?: string;
  /** For archives: the header and TOC, read natively. */
  archive?: ArchiveInfo;
  /**
   * Bytes not in a file on this machine. Standard input or a pipe: read once; detection sniffed
   * its start, which the reader then reads on from; nothing else may read it (its size is 0:
   * not known ahead). A URL: its bytes over HTTP (`path` is then the URL as shown, redacted: the
   * whole URL lives only inside this source). An S3 object: read by position, as often as needed.
   */
  bytes?: ByteSource;
  /**
   * An archive newer than the native reader knows (ARCHIVE_VERSION_UNKNOWN): only a pg_restore
   * given with --pg-restore can read it; everything else fails with this error.
   */
  newerArchive?: RecoverError;
}

/** Magic numbers, one comment each. */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]); // RFC 1952 ID1 ID2
const ARCHIVE_MAGIC = Buffer.from('PGDMP'); // pg_backup_archiver.c WriteHead
const TAR_USTAR_OFFSET = 257; // POSIX ustar: "ustar" at offset 257 of the header block
const TAR_TOC_NAME = Buffer.from('toc.dat\0'); // pg_dump's tar starts with the toc.dat member's header
const OTHER_COMPRESSORS: [Buffer, string][] = [
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from('BZh'), 'bzip2'],
  [Buffer.from([0x04, 0x22, 0x4d, 0x18]), 'lz4'],
  [Buffer.from([0x50, 0x4b, 0x03, 0x04]), 'zip'],
];
/** How much decompressed text to read for the dump's header comments. */
const SNIFF_BYTES = 64 * 1024;

/** The argument that names standard input. */
export const STDIN_ARG = '-';

/** Whether a backup argument is not a file on disk: standard input, a pipe (`/dev/stdin`, `<(…)`, a FIFO), or a URL. */
export async function isReadOnce(path: string): Promise<boolean> {
  if (path === STDIN_ARG || isUrl(path)) return true;
  const st = await fs.stat(path).catch(() => null);
  return !!st?.isFIFO();
}

/**
 * A pipe by path, read as the event loop's socket: opened without waiting for a writer (a
 * blocking open would hold one of libuv's threads, which the process's exit waits for, so Ctrl-C
 * could not end the run), then read as data comes. A reader that opened first sees no end of
 * input until a writer has come and gone.
 */
function openPipe(path: string): Readable {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw ioError(e, path);
  }
  return new Socket({ fd, readable: true, writable: false });
}

export interface DetectOptions {
  /** Notes for --debug: how a URL is read (a server without ranges, a connection taken up again). */
  debug?: (message: string) => void;
  /** Where s3:// paths are read (the SDK's own defaults when not given). */
  s3?: S3Settings;
}

export async function detectBackup(path: string, opts: DetectOptions = {}): Promise<BackupFile> {
  if (isUrl(path)) {
    let url: URL;
    try {
      url = new URL(path);
    } catch {
      throw new RecoverError('BACKUP_NOT_FOUND', `cannot read backup ${redactUrl(path)}: it is not a valid URL`, { hint: 'check the URL, and pass it whole, in quotes' });
    }
    const src = await httpBytes(url, { debug: opts.debug });
    return detectBytes(src, { path: redactUrl(path), format: 'plain', size: src.size ?? 0, modifiedAt: src.modifiedAt ?? new Date() });
  }
  if (isS3Url(path)) {
    const place = parseS3Url(path);
    if (place.folder) {
      throw new RecoverError('BACKUP_UNRECOGNISED', `${path} is a folder (a prefix ending in /), not one backup`, {
        hint: 'name one backup in it (s3://BUCKET/PREFIX/FILE), or pass the folder to history, merge or scan',
      });
    }
    const store = await openS3(opts.s3 ?? {}, { debug: opts.debug });
    return detectS3Object(store, await store.stat(place));
  }
  if (await isReadOnce(path)) {
    const input = path === STDIN_ARG ? process.stdin : openPipe(path);
    const name = path === STDIN_ARG ? 'standard input' : path;
    return detectBytes(streamBytes(input, name), { path, format: 'plain', size: 0, modifiedAt: new Date() });
  }
  let stat;
  try {
    stat = await fs.stat(path);
  } catch (e) {
    throw await notFound(path, (e as NodeJS.ErrnoException).code);
  }
  const target = await linkTarget(path);
  if (stat.isDirectory()) {
    const toc = join(path, 'toc.dat');
    if (!(await pathExists(toc))) {
      throw new RecoverError('BACKUP_UNRECOGNISED', `${path} is a directory without toc.dat, so not a pg_dump directory archive`, {
        hint: 'pass a backup file, or the directory pg_dump -Fd wrote',
      });
    }
    return withArchive({ path, ...target, format: 'directory', size: await dirSize(path), modifiedAt: stat.mtime });
  }
  if (stat.size === 0) {
    throw new RecoverError('BACKUP_EMPTY', `${path} is empty (0 bytes)`, {
      hint: 'the backup job probably failed that night; pick another backup',
    });
  }
  // By path, as fs.open does: a refusal stays the system's error (EACCES), on which a folder skips another user's file.
  const fh = await fs.open(path, 'r');
  try {
    // A file is read again by path (and an archive's info was read from it already).
    return await detectBytes(fileBytes(fh, path, stat.size), { path, ...target, format: 'plain', size: stat.size, modifiedAt: stat.mtime }, true);
  } finally {
    await fh.close();
  }
}

/** An object of an S3 bucket (named, or found by listing a folder), read from its bytes like a file. */
export function detectS3Object(store: S3Store, object: S3Object): Promise<BackupFile> {
  return detectBytes(store.bytes(object), { path: object.path, format: 'plain', size: object.size, modifiedAt: object.modifiedAt }, false);
}

/** The backup's kind and facts from its first bytes; `local`: a file here, read again by its path (else the backup keeps `src`). */
async function detectBytes(src: ByteSource, base: BackupFile, local = false): Promise<BackupFile> {
  const path = base.path;
  const shown = src.name;
  const once = local ? {} : { bytes: src };
  const head = await src.read(0, 512);
  if (head.length === 0) {
    throw new RecoverError('BACKUP_EMPTY', `${shown} is empty (0 bytes)`, {
      hint: src.seekable ? 'the backup job probably failed that night; pick another backup' : 'the command writing into the pipe wrote nothing: run it alone to see its error',
    });
  }
  const archive = (format: 'custom' | 'tar') => (local ? withArchive({ ...base, format }) : withArchive({ ...base, format, ...once }, src));
  if (startsWith(head, ARCHIVE_MAGIC)) return archive('custom');
  const ustar = head.length >= TAR_USTAR_OFFSET + 5 && head.subarray(TAR_USTAR_OFFSET, TAR_USTAR_OFFSET + 5).toString('latin1') === 'ustar';
  // A file cut inside pg_dump's first tar header: the archive reader says it is truncated.
  if (ustar || (head.length < 512 && startsWith(head, TAR_TOC_NAME))) return archive('tar');
  if (startsWith(head, GZIP_MAGIC)) {
    const text = await readGunzipHead(src);
    if (startsWith(text, ARCHIVE_MAGIC)) {
      throw new RecoverError('BACKUP_GZIPPED_ARCHIVE', `${shown} is a gzipped pg_dump archive, which pg_restore cannot read`, {
        hint: src.seekable ? `gunzip it first (gunzip -k ${basename(path)}) and pass the result` : 'put gunzip into the pipe before recover-texts',
      });
    }
    assertLooksLikeSql(text, shown, 'the gzipped content');
    return { ...base, ...once, format: 'gzip', ...headerFacts(text) };
  }
  for (const [magic, name] of OTHER_COMPRESSORS) {
    if (startsWith(head, magic)) {
      throw new RecoverError('BACKUP_COMPRESSED', `${shown} is ${name}-compressed; recover-texts reads plain, gzip and pg_dump archive backups`, {
        hint: `decompress it first (e.g. with ${name === 'zip' ? 'unzip' : name} -d) and pass the result`,
      });
    }
  }
  const text = await src.read(0, SNIFF_BYTES);
  assertLooksLikeSql(text, shown, 'it');
  return { ...base, ...once, ...headerFacts(text) };
}

/** Throw detectBackup's error for a path that cannot be stat'ed, when it cannot; before anything starts. */
export async function assertBackupPathExists(path: string): Promise<void> {
  if (path === STDIN_ARG || isUrl(path)) return;
  // An S3 location is checked when it is read; here, only its form.
  if (isS3Url(path)) return void parseS3Url(path);
  await fs.stat(path).catch(async (e: NodeJS.ErrnoException) => {
    throw await notFound(path, e.code);
  });
}

/** Where a symbolic link leads, as `{ target }`; nothing for anything else. */
async function linkTarget(path: string): Promise<{ target?: string }> {
  const st = await fs.lstat(path).catch(() => null);
  if (!st?.isSymbolicLink()) return {};
  return { target: await fs.realpath(path) };
}

/** A missing backup, with the names close to it in its folder (a typo in a date is the usual cause). */
async function notFound(path: string, code: string | undefined): Promise<RecoverError> {
  // A link whose backup is gone (a `latest.sql.gz` left behind when old backups were pruned).
  const link = await fs.readlink(path).catch(() => null);
  if (link !== null) {
    const why = code === 'ENOENT' ? 'which does not exist' : code === 'ELOOP' ? 'which leads round in a loop of links' : `which cannot be read (${code})`;
    return new RecoverError('BACKUP_NOT_FOUND', `cannot read backup ${path}: it is a symbolic link to ${link}, ${why}`, {
      hint: 'point the link at an existing backup, or name the backup itself',
    });
  }
  const near = code === 'ENOENT' ? await nearbyPaths(path) : [];
  return new RecoverError('BACKUP_NOT_FOUND', `cannot read backup ${path}: ${code === 'ENOENT' ? 'no such file' : code}${near.length ? `; did you mean ${near.join(' or ')}?` : ''}`, {
    hint: 'check the path; recover-texts takes the backup file (or archive directory), or a folder of backups',
  });
}

/** Read an archive's header and TOC (this also catches truncated and corrupt archives early): by path, or from bytes read once. */
async function withArchive(file: BackupFile, src?: ByteSource): Promise<BackupFile> {
  let archive: ArchiveInfo;
  try {
    archive = await (src ? archiveInfoOf(src) : readArchiveInfo(file.path));
  } catch (e) {
    if (e instanceof RecoverError && e.code === 'ARCHIVE_VERSION_UNKNOWN') return { ...file, newerArchive: e };
    throw e;
  }
  return {
    ...file,
    archive,
    database: archive.database,
    pgDumpVersion: archive.pgDumpVersion,
    serverVersion: archive.serverVersion,
  };
}

/** Plain SQL dumps start with comments, SET, CREATE or a psql meta-command. */
function assertLooksLikeSql(text: Buffer, path: string, what: string): void {
  const s = text.subarray(0, 4096).toString('latin1');
  const binary = /[\x00-\x08\x0e-\x1a\x1c-\x1f]/.test(s.slice(0, 1024));
  const sqlish = /^\s*(--|\/\*|\\|SET\b|CREATE\b|BEGIN\b|SELECT\b|INSERT\b|COPY\b|ALTER\b|DROP\b)/i.test(s.replace(/^\uFEFF|^\xEF\xBB\xBF/, ''));
  if (binary || !sqlish) {
    const shown = JSON.stringify(s.slice(0, 16).replace(/[^\x20-\x7e]/g, '.'));
    throw new RecoverError('BACKUP_UNRECOGNISED', `${path} is not a PostgreSQL backup: ${what} starts with ${shown}`, {
      hint: 'expected a pg_dump backup: plain SQL, SQL gzipped, or a custom/tar/directory archive',
    });
  }
}

function headerFacts(text: Buffer): Pick<BackupFile, 'pgDumpVersion' | 'serverVersion' | 'database' | 'startedAt'> {
  const s = text.toString('latin1');
  const facts: Pick<BackupFile, 'pgDumpVersion' | 'serverVersion' | 'database' | 'startedAt'> = {};
  const started = /^-- Started on (\d{4}-\d\d-\d\d \d\d:\d\d)/m.exec(s);
  if (started) facts.startedAt = started[1]!;
  const by = /^-- Dumped by pg_dump version (\S+)/m.exec(s);
  if (by) facts.pgDumpVersion = by[1]!;
  const from = /^-- Dumped from database version (\S+)/m.exec(s);
  if (from) facts.serverVersion = from[1]!;
  const db = /^CREATE DATABASE ("[^"]+"|\S+)/m.exec(s) ?? /^\\connect (?:-reuse-previous=on )?("[^"]+"|\S+)/m.exec(s);
  if (db) facts.database = db[1]!.replace(/^"|"$/g, '');
  return facts;
}

/**
 * The first SNIFF_BYTES of a gzip backup's content, from at most its first MiB (a truncated file
 * still yields its start). Its first 64 KiB nearly always hold them (a nightly dump's head
 * compresses well), so that is read first: a folder of a year's nightly backups reads 23 MiB
 * for their heads rather than 365 MiB.
 */
async function readGunzipHead(src: ByteSource): Promise<Buffer> {
  const first = await src.read(0, SNIFF_BYTES);
  let text = await gunzipStart(first);
  if (text.length < SNIFF_BYTES && first.length === SNIFF_BYTES) {
    const more = await src.read(SNIFF_BYTES, 1024 * 1024 - SNIFF_BYTES);
    if (more.length) text = await gunzipStart(Buffer.concat([first, more]));
  }
  if (!text.length) {
    throw new RecoverError('BACKUP_TRUNCATED', `${src.name} has a gzip header but no readable content`, {
      hint: 'the file is truncated or damaged: copy it again, or pick another backup',
    });
  }
  return text;
}

/** What `gzipped` inflates to, up to SNIFF_BYTES or as far as it goes: a truncated or damaged stream gives what came out before the damage. */
async function gunzipStart(gzipped: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const gunzip = createGunzip();
  Readable.from([gzipped]).pipe(gunzip);
  try {
    for await (const chunk of gunzip) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= SNIFF_BYTES) break;
    }
  } catch {
    // Judged by what came out.
  } finally {
    gunzip.destroy();
  }
  return Buffer.concat(chunks);
}

function startsWith(buf: Buffer, magic: Buffer): boolean {
  return buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await fs.readdir(dir)) {
    const s = await fs.lstat(join(dir, name)); // a symlink inside is not the backup's own bytes
    if (s.isFile()) total += s.size;
  }
  return total;
}
