/**
 * A streaming decoder of LZ4 frames (LZ4's doc/lz4_Frame_format.md and lz4_Block_format.md),
 * which pg_dump writes for -Z lz4 (src/bin/pg_dump/compress_lz4.c: LZ4F_compressBegin /
 * LZ4F_compressUpdate / LZ4F_compressEnd over one table's data, so ONE frame, cut into the
 * archive's chunks at arbitrary places). Hand-written because no well-kept npm package decodes
 * LZ4 frames as a stream without native code; this one is small, pure, and bounded.
 *
 * Bounded: input is buffered only up to one block (at most 4 MiB, the frame's own block size
 * limit), output is handed back one block at a time, and linked blocks keep a 64 KiB history.
 * Every checksum the frame carries (header, block, content: XXH32) is verified.
 */
import { corrupt } from './damage.js';
import { FrameReader } from './frames.js';
import { Xxh32, xxh32 } from './xxhash.js';

/** Frame magic number (little-endian 0x184D2204). */
const LZ4F_MAGIC = 0x184d2204;
/** Skippable frames: magic 0x184D2A50 .. 0x184D2A5F, then a 4-byte size. */
/** FLG bits: version (must be 01), block independence, block checksum, content size, content checksum, dictionary ID. */
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
/** BD: bits 6..4 name the maximum block size, 4 (64 KiB) to 7 (4 MiB); the rest are reserved. */
const BD_SIZE_SHIFT = 4;
const BD_RESERVED = 0x8f;
const BLOCK_MAX_SIZE: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };
/** A block size word with this bit set holds the block's bytes uncompressed. */
const BLOCK_UNCOMPRESSED = 0x80000000;
/** Matches reach back at most 64 KiB (the block format's 2-byte offset). */
const HISTORY = 64 * 1024;
/** The shortest match (the token's match length counts from 4). */
const MIN_MATCH = 4;

type State = 'flags' | 'descriptor' | 'blockSize' | 'block' | 'contentChecksum';

export class Lz4FrameDecoder extends FrameReader<State> {
  private flg = 0;
  private flagBytes: Buffer = Buffer.alloc(0);
  private blockMax = 0;
  private blockSize = 0;
  private blockRaw = false;
  private contentSize: bigint | null = null;
  private produced = 0n;
  private hash: Xxh32 | null = null;
  /**
   * The one buffer blocks are decoded into, reused for every block of every frame: the history
   * (the last HISTORY bytes of output, for linked blocks) at its start, the block after it.
   * Each block's output is handed on as an exact-size copy, so a consumer holding many small
   * blocks holds only their bytes, not a block-sized buffer each.
   */
  private work: Buffer = Buffer.alloc(0);
  /** Bytes of history at the start of `work` (0 for independent blocks). */
  private historyLength = 0;

  constructor(what: string) {
    super(what, 'LZ4', LZ4F_MAGIC, ['flags', 2]);
  }

  protected step(unit: Buffer): void {
    switch (this.state) {
      case 'flags': {
        const flg = unit[0] as number;
        const bd = unit[1] as number;
        if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01 || flg & FLG_RESERVED || bd & BD_RESERVED) {
          throw corrupt(`expected an LZ4 frame descriptor in ${this.what}, found flags ${flg.toString(16)} ${bd.toString(16)}`);
        }
        if (flg & FLG_DICT_ID) throw corrupt(`the LZ4 data of ${this.what} needs a dictionary, which pg_dump never uses`);
        const max = BLOCK_MAX_SIZE[bd >> BD_SIZE_SHIFT];
        if (max === undefined) throw corrupt(`expected an LZ4 block size code 4..7 in ${this.what}, found ${bd >> BD_SIZE_SHIFT}`);
        this.flg = flg;
        this.blockMax = max;
        this.flagBytes = Buffer.from(unit);
        return this.expect('descriptor', (flg & FLG_CONTENT_SIZE ? 8 : 0) + 1);
      }
      case 'descriptor': {
        // The optional content size, then the header checksum: (XXH32 of FLG .. content size) >> 8.
        const desc = Buffer.concat([this.flagBytes, unit.subarray(0, unit.length - 1)]);
        if (((xxh32(desc) >>> 8) & 0xff) !== unit[unit.length - 1]) throw corrupt(`the LZ4 frame header of ${this.what} fails its checksum`);
        this.contentSize = this.flg & FLG_CONTENT_SIZE ? unit.readBigUInt64LE(0) : null;
        this.produced = 0n;
        this.hash = this.flg & FLG_CONTENT_CHECKSUM ? new Xxh32() : null;
        this.historyLength = 0;
        if (this.work.length < HISTORY + this.blockMax) this.work = Buffer.allocUnsafe(HISTORY + this.blockMax);
        return this.expect('blockSize', 4);
      }
      case 'blockSize': {
        const word = unit.readUInt32LE(0);
        if (word === 0) {
          if (this.contentSize !== null && this.produced !== this.contentSize) {
            throw corrupt(`the LZ4 data of ${this.what} holds ${this.produced} bytes, but its frame says ${this.contentSize}`);
          }
          if (this.flg & FLG_CONTENT_CHECKSUM) return this.expect('contentChecksum', 4);
          return this.frameDone();
        }
        this.blockRaw = (word & BLOCK_UNCOMPRESSED) !== 0;
        this.blockSize = (word & ~BLOCK_UNCOMPRESSED) >>> 0;
        if (this.blockSize > this.blockMax) throw corrupt(`an LZ4 block of ${this.what} says ${this.blockSize} bytes, more than its frame's ${this.blockMax}`);
        return this.expect('block', this.blockSize + (this.flg & FLG_BLOCK_CHECKSUM ? 4 : 0));
      }
      case 'block': {
        const data = unit.subarray(0, this.blockSize);
        if (this.flg & FLG_BLOCK_CHECKSUM && xxh32(data) !== unit.readUInt32LE(this.blockSize)) {
          throw corrupt(`an LZ4 block of ${this.what} fails its checksum`);
        }
        const hist = this.historyLength;
        const end = this.blockRaw ? hist + data.copy(this.work, hist) : this.decodeBlock(data, hist);
        const block = Buffer.allocUnsafe(end - hist);
        this.work.copy(block, 0, hist, end);
        this.produced += BigInt(block.length);
        this.hash?.update(block);
        if (!(this.flg & FLG_BLOCK_INDEPENDENT)) {
          // The last HISTORY bytes of output move to the front of the work buffer for the next block.
          this.historyLength = Math.min(end, HISTORY);
          this.work.copyWithin(0, end - this.historyLength, end);
        }
        if (block.length) this.out.push(block);
        return this.expect('blockSize', 4);
      }
      case 'contentChecksum':
        if (this.hash && this.hash.digest() !== unit.readUInt32LE(0)) throw corrupt(`the LZ4 data of ${this.what} fails its content checksum`);
        return this.frameDone();
    }
  }

  /**
   * One compressed block (lz4_Block_format.md): sequences of literals and a back-reference,
   * decoded into the work buffer after `hist` bytes of history; returns where its output ends.
   */
  private decodeBlock(src: Buffer, hist: number): number {
    // Never past this block's room, whatever the work buffer's size from an earlier frame.
    const dst = this.work.subarray(0, hist + this.blockMax);
    let d = hist;
    let s = 0;
    const bad = (why: string) => corrupt(`an LZ4 block of ${this.what} is damaged (${why})`);
    while (s < src.length) {
      const token = src[s++] as number;
      let lit = token >>> 4;
      if (lit === 15) {
        let b: number;
        do {
          if (s >= src.length) throw bad('literal length');
          b = src[s++] as number;
          lit += b;
        } while (b === 255);
      }
      if (s + lit > src.length || d + lit > dst.length) throw bad('literals');
      src.copy(dst, d, s, s + lit);
      s += lit;
      d += lit;
      if (s === src.length) break; // the last sequence has literals only
      if (s + 2 > src.length) throw bad('offset');
      const offset = (src[s] as number) | ((src[s + 1] as number) << 8);
      s += 2;
      if (offset === 0 || offset > d) throw bad('offset');
      let len = token & 15;
      if (len === 15) {
        let b: number;
        do {
          if (s >= src.length) throw bad('match length');
          b = src[s++] as number;
          len += b;
        } while (b === 255);
      }
      len += MIN_MATCH;
      if (d + len > dst.length) throw bad('match');
      let from = d - offset;
      if (offset >= len) {
        dst.copy(dst, d, from, from + len);
        d += len;
      } else {
        // Overlapping match: copy byte by byte, so repeated patterns grow (RLE-style).
        for (let k = 0; k < len; k++) dst[d++] = dst[from++] as number;
      }
    }
    return d;
  }
}
