/**
 * A streaming Zstandard decoder for pg_dump's -Z zstd (src/bin/pg_dump/compress_zstd.c:
 * ZSTD_compressStream2 over one table's data, ended with ZSTD_e_end, so ONE frame cut into
 * the archive's chunks at arbitrary places).
 *
 * Decoding is fzstd's (pure JavaScript, streaming, no dependencies, by the author of fflate):
 * Node 20's node:zlib has no zstd, and native bindings would need install scripts and prebuilt
 * binaries. Around it, a walker of the frame format (RFC 8878, sections 3.1.1 .. 3.1.1.2) sees
 * every frame and block header first, so that:
 *  - a frame whose window is larger than libzstd accepts by default (2^27 bytes,
 *    ZSTD_WINDOWLOG_LIMIT_DEFAULT) is refused before fzstd would allocate it;
 *  - a block larger than the format allows (128 KiB, or the window if smaller) is refused;
 *  - fzstd is handed one whole block at a time, so one push never yields more than 128 KiB:
 *    an archive that inflates without end streams with bounded memory.
 *  - the work a frame costs is bounded by what it decodes (see WORK_PER_BYTE).
 * The optional content checksum (XXH64) is not verified: fzstd skips it.
 */
import { Decompress } from 'fzstd';
import { corrupt } from './damage.js';
import { FrameReader } from './frames.js';

/** Frame magic number (little-endian 0xFD2FB528). */
const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50 .. 0x184D2A5F, then a 4-byte size. */
/** Frame header descriptor bits (RFC 8878 3.1.1.1.1). */
const FHD_SINGLE_SEGMENT = 0x20;
const FHD_RESERVED = 0x08;
const FHD_CHECKSUM = 0x04;
const FHD_DICT_ID = 0x03;
/** Bytes of the Dictionary_ID field by its flag, and of Frame_Content_Size by its flag. */
const DICT_ID_BYTES = [0, 1, 2, 4];
const FCS_BYTES = [0, 2, 4, 8];
/** The largest window libzstd decodes without being told otherwise (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). */
const MAX_WINDOW = 2 ** 27;
/** Block_Maximum_Size (RFC 8878 3.1.1.2.4). */
const MAX_BLOCK = 128 * 1024;
/** Block types (RFC 8878 3.1.1.2.2). */
const BLOCK_RLE = 1; // one byte, repeated; raw (0) and compressed (2) blocks carry their size in bytes
const BLOCK_COMPRESSED = 2;

/**
 * fzstd moves its whole window buffer along after every block (copyWithin of window - block
 * bytes), so a block costs about one window of memory traffic whatever it decodes to: a frame
 * of 2^27-byte window and hundreds of thousands of empty or one-byte blocks (3 or 4 bytes of
 * archive each) would cost an hour of CPU from a 1 MB archive. So a frame's work (its window
 * times its blocks so far) may reach at most WORK_PER_BYTE times the bytes it has decoded, plus
 * WORK_ALLOWANCE. zstd fills blocks with up to 128 KiB, but from level 16 on its block splitter
 * cuts them smaller (blocks of about 10 KiB are common, measured with zstd 1.5.4 at -19 and
 * --ultra -22), and `-Z zstd:long` / --long=27 uses the largest window accepted, 2^27. So
 * WORK_PER_BYTE lets blocks average down to 1 KiB at a 2^27 window (64 bytes at level 19's
 * 2^23), ten times below what zstd writes; the allowance, 16 blocks of the largest window (about
 * 2 GiB of copying, a fraction of a second), covers a small table's frame, whose one short block
 * still costs a whole window. Empty and one-byte blocks are refused after a handful.
 *
 * That alone leaves blocks just big enough to pass (RLE blocks of 1 KiB, 4 bytes of archive
 * each): still an hour from 1 MB. So the work is also bounded by the frame's compressed bytes,
 * WORK_PER_INPUT_BYTE each: a 1 MB archive then costs at most 2^38 bytes of copying (well under
 * a minute). zstd's own blocks at a 2^27 window are kilobytes each (2^17 per byte at 1 KiB), and
 * an RLE block here and there (a 128 KiB run of one byte) is paid for by the rest of the frame.
 */
const WORK_PER_BYTE = MAX_WINDOW / 1024;
const WORK_PER_INPUT_BYTE = 2 ** 18;
const WORK_ALLOWANCE = 16 * MAX_WINDOW;

type State = 'descriptor' | 'header' | 'blockHeader' | 'block' | 'checksum';

export class ZstdDecoder extends FrameReader<State> {
  /** One fzstd decompressor per frame, told when its frame ends (see frameStart). */
  private fz: Decompress | undefined;
  private fhd = 0;
  /** Frame_Content_Size when the header gives it, checked against what the frame decoded. */
  private contentSize: number | undefined;
  private decoded = 0;
  /** The frame's window, and the work its blocks have cost so far (a window each). */
  private window = 0;
  private work = 0;
  /** The compressed bytes of the frame's blocks so far. */
  private input = 0;
  private ended = false;
  private blockMax = MAX_BLOCK;
  private lastBlock = false;
  /** The bytes of the frame or block being gathered, handed to fzstd whole. */
  private frameBytes: Buffer[] = [];

  constructor(what: string) {
    super(what, 'zstd', ZSTD_MAGIC, ['descriptor', 1]);
  }

  /**
   * Hand bytes to fzstd; its errors become a clean one-line corrupt-archive error. `final` is
   * said at the frame's last byte: fzstd's streaming decoder holds back a frame's first 18 bytes
   * until then, so a small frame (pg_dump 16+ writes an empty table's data as one ~14-byte frame
   * without checksum) would otherwise decode to nothing at all.
   */
  private feed(bytes: Buffer, final = false): void {
    try {
      (this.fz as Decompress).push(bytes, final);
    } catch (e) {
      throw corrupt(`the zstd data of ${this.what} is damaged (${(e as Error).message})`);
    }
  }

  protected override frameStart(magic: Buffer): void {
    this.frameBytes = [magic];
    this.decoded = 0;
    this.window = 0;
    this.work = 0;
    this.input = 0;
    this.ended = false;
    this.contentSize = undefined;
    this.fz = new Decompress((data, final) => {
      if (data.length) {
        this.decoded += data.length;
        this.out.push(Buffer.from(data.buffer, data.byteOffset, data.length));
      }
      if (final) this.ended = true;
    });
  }

  /** The frame's last byte was fed: fzstd must have ended it, with the size the header gave. */
  private endFrame(lastBytes: Buffer): void {
    this.feed(lastBytes, true);
    if (!this.ended) throw corrupt(`a zstd frame of ${this.what} did not decode to its end`);
    if (this.contentSize !== undefined && this.decoded !== this.contentSize) {
      throw corrupt(`a zstd frame of ${this.what} decoded to ${this.decoded} bytes, but its header says ${this.contentSize}`);
    }
    this.fz = undefined;
    this.frameDone();
  }

  protected step(unit: Buffer): void {
    switch (this.state) {
      case 'descriptor': {
        const fhd = unit[0] as number;
        if (fhd & FHD_RESERVED) throw corrupt(`the zstd frame header of ${this.what} has its reserved bit set`);
        if (fhd & FHD_DICT_ID) throw corrupt(`the zstd data of ${this.what} needs a dictionary, which pg_dump never uses`);
        this.fhd = fhd;
        this.frameBytes.push(unit);
        const single = (fhd & FHD_SINGLE_SEGMENT) !== 0;
        const fcsFlag = fhd >> 6;
        const fcs = fcsFlag === 0 ? (single ? 1 : 0) : (FCS_BYTES[fcsFlag] as number);
        return this.expect('header', (single ? 0 : 1) + (DICT_ID_BYTES[fhd & FHD_DICT_ID] as number) + fcs);
      }
      case 'header': {
        const single = (this.fhd & FHD_SINGLE_SEGMENT) !== 0;
        const fcsFlag = this.fhd >> 6;
        // Frame_Content_Size (RFC 8878 3.1.1.1.4): the header's last 0..8 bytes, little-endian.
        const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : (FCS_BYTES[fcsFlag] as number);
        if (fcsBytes > 0) {
          let size = 0;
          for (let i = unit.length - 1; i >= unit.length - fcsBytes; i--) size = size * 256 + (unit[i] as number);
          this.contentSize = fcsFlag === 1 ? size + 256 : size;
        }
        let window: number;
        if (single) {
          // The window is the content size (RFC 8878 3.1.1.1.2).
          window = this.contentSize as number;
        } else {
          const wd = unit[0] as number;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        }
        if (window > MAX_WINDOW) {
          throw corrupt(`the zstd data of ${this.what} asks for a ${window}-byte window, more than the ${MAX_WINDOW} bytes zstd decodes by default`);
        }
        this.window = window;
        this.blockMax = Math.min(MAX_BLOCK, Math.max(window, 1));
        this.frameBytes.push(unit);
        this.feed(Buffer.concat(this.frameBytes));
        this.frameBytes = [];
        return this.expect('blockHeader', 3);
      }
      case 'blockHeader': {
        const word = unit.readUIntLE(0, 3);
        this.lastBlock = (word & 1) === 1;
        const type = (word >> 1) & 3;
        const size = word >>> 3;
        if (type > BLOCK_COMPRESSED) throw corrupt(`a zstd block of ${this.what} has the reserved block type`);
        if (size > this.blockMax) throw corrupt(`a zstd block of ${this.what} says ${size} bytes, more than the ${this.blockMax} its frame allows`);
        this.frameBytes = [unit];
        const body = type === BLOCK_RLE ? 1 : size;
        if (body === 0) return this.blockDone(); // an empty raw block
        return this.expect('block', body);
      }
      case 'block':
        this.frameBytes.push(unit);
        return this.blockDone();
      case 'checksum':
        return this.endFrame(unit);
    }
  }

  private blockDone(): void {
    const block = Buffer.concat(this.frameBytes);
    this.work += this.window;
    this.input += block.length;
    if (this.work > WORK_PER_BYTE * this.decoded + WORK_ALLOWANCE || this.work > WORK_PER_INPUT_BYTE * this.input + WORK_ALLOWANCE) {
      throw corrupt(
        `a zstd frame of ${this.what} has too many small blocks for its ${this.window}-byte window (${Math.round(this.work / this.window)} blocks, ${this.input} bytes, for ${this.decoded} bytes of data); zstd never writes that`,
      );
    }
    this.frameBytes = [];
    if (!this.lastBlock) {
      this.feed(block);
      return this.expect('blockHeader', 3);
    }
    if (this.fhd & FHD_CHECKSUM) {
      this.feed(block);
      return this.expect('checksum', 4);
    }
    this.endFrame(block);
  }
}
