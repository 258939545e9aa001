/**
 * Tar archives (pg_dump -Ft, src/bin/pg_dump/pg_backup_tar.c): POSIX ustar members, toc.dat
 * first, then one NNNN.dat member per table's data, then two zero blocks.
 */
import { RecoverError } from '../errors.js';
import type { ByteSource } from './bytes.js';
import { TAR_BLOCK } from './constants.js';
import { corrupt, dataTruncated, hexOf, HINT_TRUNCATED } from './damage.js';
import type { TarMember } from './types.js';


/** Parse a numeric tar header field: octal text, or base-256 when the top bit is set. */
function tarNumber(field: Buffer): number | null {
  if (((field[0] as number) & 0x80) !== 0) {
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] as number);
    return v <= Number.MAX_SAFE_INTEGER ? v : null;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/g, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return null;
  return parseInt(text, 8);
}

/** A 512-byte tar header block: its checksum must agree (as pg_restore's isValidTarHeader checks). */
export function parseTarHeader(block: Buffer): { name: string; size: number; type: string } | null {
  const sum = tarNumber(block.subarray(148, 156));
  if (sum === null) return null;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b >= 128 ? b - 256 : b;
  }
  if (sum !== unsigned && sum !== signed) return null;
  const size = tarNumber(block.subarray(124, 136));
  if (size === null) return null;
  const cstr = (b: Buffer): string => {
    const z = b.indexOf(0);
    return b.toString('utf8', 0, z < 0 ? b.length : z);
  };
  let name = cstr(block.subarray(0, 100));
  if (block.toString('latin1', 257, 262) === 'ustar') {
    const prefix = cstr(block.subarray(345, 500));
    if (prefix) name = `${prefix}/${name}`;
  }
  return { name, size, type: String.fromCharCode(block[156] as number) };
}

/** Does a short file start like pg_dump's tar, whose first header names toc.dat? */
export function isTocNamePrefix(head: Buffer): boolean {
  const name = Buffer.from('toc.dat\0', 'latin1');
  const n = Math.min(head.length, name.length);
  if (n === 0 || !head.subarray(0, n).equals(name.subarray(0, n))) return false;
  for (let i = name.length; i < Math.min(head.length, 100); i++) if (head[i] !== 0) return false;
  return true;
}

function isZeroBlock(b: Buffer): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

const isRegular = (type: string) => type === '0' || type === '\0';
const baseName = (name: string) => name.replace(/^(\.\/)+/, '');

/** Find toc.dat among the tar's members (pg_dump writes it first), reading headers only. */
export async function findTarToc(src: ByteSource): Promise<TarMember> {
  const path = src.name;
  let pos = 0;
  for (;;) {
    const block = await src.read(pos, TAR_BLOCK);
    if (block.length < TAR_BLOCK) {
      throw new RecoverError('ARCHIVE_TRUNCATED', `expected a tar header at byte ${pos} of ${path}, found the end of the file (${pos + block.length} bytes) before a toc.dat member`,
        { hint: HINT_TRUNCATED },
      );
    }
    if (isZeroBlock(block)) {
      throw corrupt(`expected a toc.dat member in the tar backup ${path}, found the end of the tar at byte ${pos} without one`);
    }
    const h = parseTarHeader(block);
    if (h === null) {
      throw corrupt(`expected a valid tar header at byte ${pos} of ${path}, found ${hexOf(block, 8)} with a bad checksum or size`);
    }
    const dataStart = pos + TAR_BLOCK;
    const base = baseName(h.name);
    if (base === 'toc.dat' && isRegular(h.type)) return { name: base, size: h.size, dataStart };
    pos = dataStart + Math.ceil(h.size / TAR_BLOCK) * TAR_BLOCK;
  }
}

/**
 * Every member of the tar, by name, reading headers only; checks that each member is
 * complete and that pg_dump's end-of-archive marker (two zero blocks, pg_backup_tar.c
 * _CloseArchive) is there.
 */
export async function listTarMembers(src: ByteSource): Promise<Map<string, TarMember>> {
  const members = new Map<string, TarMember>();
  for await (const m of tarMembers(src, 0)) members.set(m.name, m);
  return members;
}

/**
 * The tar's regular members in file order from the header at `pos`, up to the end-of-archive
 * marker; reads headers only, so a stream can be read on between them (the member's data is
 * the consumer's to read, or not).
 */
export async function* tarMembers(src: ByteSource, pos: number): AsyncGenerator<TarMember> {
  const path = src.name;
  const size = src.size ?? Infinity;
  for (;;) {
    const block = await src.read(pos, TAR_BLOCK);
    if (block.length < TAR_BLOCK) throw dataTruncated(path, pos + block.length, `expected a tar header or the end-of-archive marker at byte ${pos}`);
    if (isZeroBlock(block)) {
      const second = await src.read(pos + TAR_BLOCK, TAR_BLOCK);
      if (second.length < TAR_BLOCK) throw dataTruncated(path, pos + TAR_BLOCK + second.length, `the end-of-archive marker at byte ${pos} is incomplete`);
      return;
    }
    const h = parseTarHeader(block);
    if (h === null) throw corrupt(`expected a valid tar header at byte ${pos} of ${path}, found ${hexOf(block, 8)} with a bad checksum or size`);
    const end = pos + TAR_BLOCK + h.size;
    if (end > size) throw dataTruncated(path, size, `member ${JSON.stringify(h.name.slice(0, 40))} needs ${h.size} bytes from byte ${pos + TAR_BLOCK}`);
    if (isRegular(h.type)) yield { name: baseName(h.name), size: h.size, dataStart: pos + TAR_BLOCK };
    pos += TAR_BLOCK + Math.ceil(h.size / TAR_BLOCK) * TAR_BLOCK;
  }
}
