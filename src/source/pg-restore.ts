/**
 * Archives through pg_restore, only when the user asks for it with
 * `--pg-restore PATH` (the native reader in src/archive is the default):
 * pg_restore writes SQL to stdout (`-f -`) for only the wanted tables'
 * definitions and data.
 *
 * The TOC list given to `-L` is built from the archive's own TOC, read
 * natively, rather than by parsing `pg_restore -l` text: names with spaces or
 * quotes stay unambiguous. An archive newer than the native reader knows has
 * no TOC we can read; then the tables are chosen with `-t`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { RecoverError } from '../errors.js';
import type { Scope } from '../scope.js';
import { findProgram } from '../pg-install.js';
import { makePrivateTempDir } from '../tempdir.js';
import { checkTocStatements, type ArchiveInfo, type ArchiveVersion } from '../archive/index.js';
import { WANTED_TABLES } from '../filter/index.js';

export interface PgRestore {
  path: string;
  /** Major version, e.g. 15. */
  major: number;
  version: string;
}

/**
 * The newest archive version each pg_restore major reads (pg_backup_archiver.h
 * K_VERS_MAX per release): 1.14 from 12 to 15, 1.15 in 16, 1.16 from 17.
 */
function maxArchiveMinorFor(major: number): number {
  if (major >= 17) return 16;
  if (major === 16) return 15;
  if (major >= 12) return 14;
  if (major >= 10) return 13;
  return 12;
}

/** The oldest pg_restore major that reads an archive version. */
function majorNeededFor(v: ArchiveVersion): number {
  if (v.minor >= 16) return 17;
  if (v.minor === 15) return 16;
  if (v.minor === 14) return 12;
  return 10;
}

/** --pg-restore alone if given, else every pg_restore in PATH and the usual install places. */
function candidatePaths(explicit?: string): string[] {
  return explicit ? [explicit] : findProgram('pg_restore');
}

function probe(path: string): PgRestore | null {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = /pg_restore \(PostgreSQL\) (\d+)(?:\.(\d+))?/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) return null;
  return { path, major: Number(m[1]), version: m[0].replace('pg_restore (PostgreSQL) ', '') };
}

/** Choose a pg_restore that can read this archive, or say exactly why none can. */
export function findPgRestore(archive: ArchiveInfo, explicit?: string): PgRestore {
  const found = candidatePaths(explicit).map(probe).filter((p): p is PgRestore => !!p);
  if (explicit && !found.length) {
    throw new RecoverError('PG_RESTORE_INVALID', `--pg-restore ${explicit} is not a working pg_restore`, {
      hint: 'give the path of a pg_restore program, e.g. /usr/lib/postgresql/17/bin/pg_restore',
    });
  }
  const able = found.filter((p) => maxArchiveMinorFor(p.major) >= archive.version.minor).sort((a, b) => b.major - a.major);
  if (able.length) return able[0]!;
  const need = majorNeededFor(archive.version);
  const seen = found.length ? `found only ${[...new Set(found.map((p) => `pg_restore ${p.major}`))].join(', ')}` : 'found no pg_restore';
  throw new RecoverError('PG_RESTORE_TOO_OLD', `archive version ${archive.version.text} (pg_dump ${archive.pgDumpVersion || '?'}) needs pg_restore ${need} or newer; ${seen}`, {
    hint: `install the PostgreSQL ${need} client tools (e.g. postgresql-client-${need}), or pass --pg-restore PATH to one`,
  });
}

/** The `-L` list: the wanted tables' TABLE and TABLE DATA entries, by dump id. */
export function restoreList(archive: ArchiveInfo): string {
  const wanted = new Set<string>(WANTED_TABLES);
  const lines = archive.toc
    .filter((e) => (e.desc === 'TABLE' || e.desc === 'TABLE DATA') && e.namespace === 'public' && wanted.has(e.tag))
    .map((e) => `${e.dumpId}; ${e.desc} ${e.namespace} ${e.tag}`);
  return lines.join('\n') + '\n';
}

/** The explicitly given pg_restore, for an archive whose version the native reader does not know. */
export function explicitPgRestore(explicit: string): PgRestore {
  const tool = probe(explicit);
  if (!tool) {
    throw new RecoverError('PG_RESTORE_INVALID', `--pg-restore ${explicit} is not a working pg_restore`, {
      hint: 'give the path of a pg_restore program, e.g. /usr/lib/postgresql/17/bin/pg_restore',
    });
  }
  return tool;
}

/**
 * Start pg_restore on the archive; returns a stream of its stdout that
 * fails if pg_restore fails. Destroying it kills pg_restore. Without the
 * archive's TOC (a version newer than the native reader knows) the wanted
 * tables are named with -t instead of an -L list.
 */
export async function restoreStream(path: string, archive: ArchiveInfo | undefined, tool: PgRestore, scope: Scope): Promise<Transform> {
  // pg_restore prints the listed entries' statements as they are: each is checked first, as for the native reader.
  const wanted = new Set<string>(WANTED_TABLES);
  if (archive) checkTocStatements(archive.toc, (e) => e.namespace === 'public' && wanted.has(e.tag));
  // pg_restore opens the list by name (a pipe on stdin is not accepted everywhere).
  const listDir = await makePrivateTempDir();
  const listFile = join(listDir, 'toc.list');
  const cleanup = scope.once(() => fs.rm(listDir, { recursive: true, force: true }));
  const guard = scope.track({ label: `temp dir ${listDir}`, dispose: cleanup });
  let select: string[];
  if (archive) {
    await fs.writeFile(listFile, restoreList(archive), { mode: 0o600 });
    select = ['-L', listFile];
  } else {
    select = ['-n', 'public', ...WANTED_TABLES.flatMap((t) => ['-t', t])];
  }
  const child = spawn(tool.path, ['-f', '-', ...select, '--no-owner', '--no-privileges', path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const release = async () => {
    scope.untrack(guard);
    await cleanup();
  };
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (e) => {
      stderr += (e as Error).message;
      resolve(-1);
    });
    child.once('close', (code) => resolve(code));
  });
  const gate = new Transform({
    transform(chunk, _enc, done) {
      done(null, chunk);
    },
    flush(done) {
      void exited.then(async (code) => {
        await release();
        done(code === 0 ? null : pgRestoreError(path, tool, stderr, code));
      });
    },
    destroy(err, done) {
      if (child.exitCode === null) child.kill('SIGTERM');
      void release().finally(() => done(err));
    },
  });
  // pg_restore may fail before the pipeline is assembled (the engine starts
  // first); the error is kept on the stream and surfaces when it is piped.
  gate.on('error', () => {});
  // Attach now: Node discards a child's unread output when the child exits,
  // and pg_restore may finish before the engine is up. Backpressure still
  // holds: a full gate pauses stdout, which blocks pg_restore.
  child.stdout.pipe(gate);
  return gate;
}

function pgRestoreError(path: string, tool: PgRestore, stderr: string, code: number | null): RecoverError {
  const line = stderr.split('\n').map((l) => l.trim()).filter(Boolean).find((l) => /error/i.test(l)) ?? stderr.trim().split('\n')[0] ?? '';
  const why = line.replace(/^pg_restore: (error: )?/, '');
  if (/end of file|unexpected EOF|could not read input file|could not find block ID|could not find header for file|could not (open|close) (input|data) file|could not uncompress|corrupt|invalid/i.test(why)) {
    return new RecoverError('BACKUP_TRUNCATED', `${path} is truncated or damaged: pg_restore ${tool.major} says "${why}"`, {
      hint: 'copy the backup again, or pick another one',
    });
  }
  return new RecoverError('PG_RESTORE_FAILED', `pg_restore ${tool.version} failed on ${path}${code !== null && code >= 0 ? ` (exit ${code})` : ''}: ${why || 'no message'}`, {
    hint: 'run with --debug for details, or try another pg_restore with --pg-restore PATH',
  });
}
