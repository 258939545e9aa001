/**
 * What the LZ4 and zstd frame decoders share. Both formats are a sequence
 * of frames, each starting with a 4-byte magic number, and both allow
 * skippable frames (magic 0x184D2A5?, a 4-byte size, that many bytes to
 * ignore): lz4_Frame_format.md and RFC 8878 section 3.1.2. The reader cuts
 * the input, however it is chunked, into the units the decoder's state needs
 * (a magic number, a header, a block), skips skippable frames itself, and
 * checks that the input ends between frames.
 */
import { corrupt } from './damage.js';

const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/** The states every frame reader has; a decoder adds its own. */
type Common = 'magic' | 'skipSize' | 'skip';

export abstract class FrameReader<State extends string> {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private skipLeft = 0;
  protected state: State | Common = 'magic';
  /** Bytes the current state needs before it can act. */
  protected need = 4;
  protected frames = 0;
  /** Decoded output of the unit just handled. */
  protected out: Buffer[] = [];

  constructor(
    protected readonly what: string,
    /** "LZ4" or "zstd", for messages. */
    private readonly format: string,
    /** The magic number that starts a frame of this format. */
    private readonly frameMagic: number,
    /** The state and need after a frame's magic number. */
    private readonly afterMagic: [State, number],
  ) {}

  /**
   * Feed compressed bytes; yields the decoded output of each unit they
   * complete, one unit at a time, so a consumer that waits between them holds
   * at most one block in memory.
   */
  *push(chunk: Buffer): Generator<Buffer> {
    let input = chunk;
    while (input.length > 0) {
      if (this.state === 'skip') {
        const n = Math.min(this.skipLeft, input.length);
        this.skipLeft -= n;
        input = input.subarray(n);
        if (this.skipLeft === 0) this.expect('magic', 4);
        continue;
      }
      const take = Math.min(this.need - this.pendingLen, input.length);
      this.pending.push(input.subarray(0, take));
      this.pendingLen += take;
      input = input.subarray(take);
      if (this.pendingLen < this.need) break;
      const unit = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
      this.handle(unit);
      yield* this.out.splice(0);
    }
  }

  /** The input is over: it must end between frames, after at least one. */
  end(): void {
    if (this.state !== 'magic' || this.pendingLen > 0 || this.frames === 0) {
      throw corrupt(`the ${this.format} data of ${this.what} ends inside a frame (${this.frames === 0 && this.state === 'magic' ? 'no frame at all' : `at its ${this.state}`})`);
    }
  }

  protected expect(state: State | Common, need: number): void {
    this.state = state;
    this.need = need;
  }

  protected frameDone(): void {
    this.frames++;
    this.expect('magic', 4);
  }

  /** A frame's magic number was read (zstd keeps it: fzstd wants the whole frame). */
  protected frameStart(_magic: Buffer): void {}

  /** Handle one unit of the decoder's own states. */
  protected abstract step(unit: Buffer): void;

  private handle(unit: Buffer): void {
    switch (this.state) {
      case 'magic': {
        const magic = unit.readUInt32LE(0);
        if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) return this.expect('skipSize', 4);
        if (magic !== this.frameMagic) throw corrupt(`expected ${this.format === 'LZ4' ? 'an' : 'a'} ${this.format} frame in ${this.what}, found magic ${magic.toString(16)}`);
        this.frameStart(unit);
        return this.expect(...this.afterMagic);
      }
      case 'skipSize':
        this.skipLeft = unit.readUInt32LE(0);
        return this.skipLeft === 0 ? this.expect('magic', 4) : this.expect('skip', 0);
      case 'skip':
        return;
      default:
        return this.step(unit);
    }
  }
}
