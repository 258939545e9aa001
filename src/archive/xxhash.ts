/**
 * XXH32 (xxHash's 32-bit hash, as specified in xxHash's doc/xxhash_spec.md), which the LZ4
 * frame format uses for its header, block and content checksums. Pure.
 */
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, P2)) >>> 0, 13), P1) >>> 0;

/** Incremental XXH32 with seed 0: update() with any slicing gives the same digest(). */
export class Xxh32 {
  private v = [(P1 + P2) >>> 0, P2, 0, (0 - P1) >>> 0];
  private total = 0;
  private mem = Buffer.alloc(16);
  private memLen = 0;

  update(data: Uint8Array): void {
    let i = 0;
    this.total += data.length;
    if (this.memLen > 0) {
      const n = Math.min(16 - this.memLen, data.length);
      this.mem.set(data.subarray(0, n), this.memLen);
      this.memLen += n;
      i = n;
      if (this.memLen < 16) return;
      this.stripe(this.mem, 0);
      this.memLen = 0;
    }
    for (; i + 16 <= data.length; i += 16) this.stripe(data, i);
    if (i < data.length) {
      this.mem.set(data.subarray(i), 0);
      this.memLen = data.length - i;
    }
  }

  private stripe(b: Uint8Array, at: number): void {
    const v = this.v;
    for (let k = 0; k < 4; k++) {
      const o = at + 4 * k;
      const lane = ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;
      v[k] = round(v[k] as number, lane);
    }
  }

  digest(): number {
    const [v1, v2, v3, v4] = this.v as [number, number, number, number];
    let h = this.total >= 16 ? (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0 : (v3 + P5) >>> 0;
    h = (h + this.total) >>> 0;
    const m = this.mem;
    let i = 0;
    for (; i + 4 <= this.memLen; i += 4) {
      const lane = ((m[i] as number) | ((m[i + 1] as number) << 8) | ((m[i + 2] as number) << 16) | ((m[i + 3] as number) << 24)) >>> 0;
      h = Math.imul(rotl((h + Math.imul(lane, P3)) >>> 0, 17), P4) >>> 0;
    }
    for (; i < this.memLen; i++) h = Math.imul(rotl((h + Math.imul(m[i] as number, P5)) >>> 0, 11), P1) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, P2) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, P3) >>> 0;
    h ^= h >>> 16;
    return h >>> 0;
  }
}

export function xxh32(data: Uint8Array): number {
  const h = new Xxh32();
  h.update(data);
  return h.digest();
}
