/**
 * The floors: the least any reader of a backup must do, each run as its own
 * plain `node` process (no tsx) so that its wall time and peak RSS compare
 * with the tool's process like for like.
 *
 *   inflate    read a .sql.gz in 1 MiB reads, node:zlib with 1 MiB output chunks, discard
 *   inflate16  the same with node's defaults (64 KiB reads, 16 KiB output chunks)
 *   read       read a plain .sql in 1 MiB reads, discard
 *   blocks     a custom archive: read and inflate only the data blocks of users, tasks
 *              and tasktexts, at the offsets its TOC gives (archive/info.ts reads the TOC)
 *
 * Several files may be given; `--parallel N` handles N at once.
 */
import { join } from 'node:path';

const ARCHIVE_TOC = join(import.meta.dirname, '..', 'dist', 'archive', 'index.js');

/**
 * Plain JavaScript, run with `node --input-type=module -e`. The block reader
 * follows pg_backup_custom.c (_readBlockHeader: a block-type byte, then the
 * dump id as ReadInt) and compress_io.c (ReadDataFromArchiveZlib: chunks of
 * ReadInt length, ended by 0); ReadInt (pg_backup_archiver.c) is a sign byte
 * then intSize bytes, least significant first.
 */
const SCRIPT = `
import { createReadStream, promises as fs } from 'node:fs';
import { createGunzip, createInflate } from 'node:zlib';
const MiB = 1 << 20;
const [mode, ...rest] = process.argv.slice(1);
let parallel = 1;
const files = [];
for (let i = 0; i < rest.length; i++) rest[i] === '--parallel' ? (parallel = Number(rest[++i])) : files.push(rest[i]);
async function drain(stream) { let n = 0; for await (const c of stream) n += c.length; return n; }
async function blocks(path) {
  const { readArchiveInfo } = await import(${JSON.stringify(ARCHIVE_TOC)});
  const info = await readArchiveInfo(path);
  const fh = await fs.open(path);
  let n = 0;
  try {
    for (const e of info.toc) {
      if (e.desc !== 'TABLE DATA' || !['users', 'tasks', 'tasktexts'].includes(e.tag) || e.dataState !== 'offset') continue;
      let at = Number(e.dataOffset);
      const small = Buffer.alloc(1 + info.intSize);
      const readInt = async () => {
        await fh.read(small, 0, 1 + info.intSize, at);
        at += 1 + info.intSize;
        let v = 0;
        for (let k = info.intSize; k >= 1; k--) v = v * 256 + small[k];
        return small[0] ? -v : v;
      };
      at += 1; // block type
      await readInt(); // dump id
      const inflate = createInflate({ chunkSize: MiB });
      const out = drain(inflate);
      for (let len = await readInt(); len > 0; len = await readInt()) {
        const buf = Buffer.allocUnsafe(len);
        await fh.read(buf, 0, len, at);
        at += len;
        if (!inflate.write(buf)) await new Promise((r) => inflate.once('drain', r));
      }
      inflate.end();
      n += await out;
    }
  } finally { await fh.close(); }
  return n;
}
const one = {
  inflate: (p) => drain(createReadStream(p, { highWaterMark: MiB }).pipe(createGunzip({ chunkSize: MiB }))),
  inflate16: (p) => drain(createReadStream(p).pipe(createGunzip())),
  read: (p) => drain(createReadStream(p, { highWaterMark: MiB })),
  blocks,
}[mode];
let next = 0, total = 0;
await Promise.all(Array.from({ length: parallel }, async () => { while (next < files.length) total += await one(files[next++]); }));
process.stdout.write(String(total));
`;

export type FloorMode = 'inflate' | 'inflate16' | 'read' | 'blocks';

/** The argv for /usr/bin/time: node running one floor over `files`. */
export function floorCommand(mode: FloorMode, files: string[], parallel = 1): string[] {
  return [process.execPath, '--input-type=module', '-e', SCRIPT, mode, ...files, '--parallel', String(parallel)];
}
