/**
 * A custom archive read by position over a network (HTTP ranges, S3 GETs) has each read a round
 * trip: the block cursor asks for a block's next windows while the current one is inflated
 * (FileCursor's `ahead`). Whatever it is asked to take, it gives exactly the bytes the source
 * holds; read forward, the next windows are asked for before they are needed, never a byte past
 * the block's end; a window that fails is the error of the take that needs it, and of no other.
 * (Over real servers: the HTTP and S3 tests export custom archives read this way, and count what
 * nginx sent.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileCursor, WINDOW } from '../src/archive/blocks.js';
import type { ByteSource } from '../src/archive/index.js';
import { distinctBytes } from './helpers.js';

/** A source over `bytes` that logs each read (start, end), answering after a tick as a network would; `fails`: a start whose read fails. */
function source(bytes: Buffer, fails?: number) {
  const asked: [number, number][] = [];
  const src: ByteSource = {
    name: 'test',
    size: bytes.length,
    seekable: true,
    remote: true,
    async read(pos, len) {
      asked.push([pos, pos + len]);
      await new Promise((r) => setTimeout(r, 1));
      if (pos === fails) throw new Error(`no answer for byte ${pos}`);
      return Buffer.from(bytes.subarray(pos, pos + len));
    },
  };
  return { src, asked };
}

describe("a block's windows read ahead", () => {
  it('takes exactly the bytes the source holds, whatever the takes and skips, never asking past the end given', async () => {
    const bytes = distinctBytes(5 * WINDOW + 123);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: WINDOW }),
        fc.integer({ min: 2 * WINDOW, max: 5 * WINDOW + 123 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: WINDOW })), { minLength: 1, maxLength: 20 }),
        async (start, end, steps) => {
          const { src, asked } = source(bytes);
          const c = new FileCursor(src, 4, start, end, 3);
          for (const [skip, n] of steps) {
            if (c.pos + n > end) break;
            if (skip) c.skip(n, 'a skip');
            else {
              const at = c.pos;
              expect(Buffer.compare(await c.take(n, 'a take'), bytes.subarray(at, at + n))).toBe(0);
            }
          }
          for (const [, to] of asked) expect(to).toBeLessThanOrEqual(end);
        },
      ),
      { numRuns: 80, seed: 5 },
    );
  });

  it('read forward, asks for the next windows before they are needed, each once, up to the block end and no further', async () => {
    const bytes = distinctBytes(8 * WINDOW);
    const { src, asked } = source(bytes);
    const end = 5 * WINDOW + 1000;
    const c = new FileCursor(src, 4, 100, end, 3);
    await c.take(5, 'a block header');
    // Its window, and the three after it, asked for at once.
    expect(asked).toEqual([0, 1, 2, 3].map((k) => [100 + k * WINDOW, 100 + (k + 1) * WINDOW]));
    // Chunks of the block, taken across the windows' ends: no byte is asked for twice, none past the end.
    while (c.pos + 70_000 <= end) await c.take(70_000, 'a chunk');
    expect(asked).toEqual([...[0, 1, 2, 3, 4].map((k) => [100 + k * WINDOW, 100 + (k + 1) * WINDOW]), [100 + 5 * WINDOW, end]]);
    // Without `ahead` (a file on this machine), one window at a time, as it is needed.
    const local = source(bytes);
    const plain = new FileCursor(local.src, 4, 100, end);
    await plain.take(5, 'a block header');
    expect(local.asked).toEqual([[100, 100 + WINDOW]]);
  });

  it('a window that fails is the error of the take that needs it; one asked for ahead and never needed is no error', async () => {
    const bytes = distinctBytes(6 * WINDOW);
    const failing = new FileCursor(source(bytes, 2 * WINDOW).src, 4, 0, 6 * WINDOW, 3);
    expect((await failing.take(10, 'a take')).length).toBe(10);
    failing.skip(2 * WINDOW - 10, 'to the failing window');
    await expect(failing.take(10, 'a take')).rejects.toThrow(`no answer for byte ${2 * WINDOW}`);
    const unread = new FileCursor(source(bytes, 3 * WINDOW).src, 4, 0, 6 * WINDOW, 3);
    // The window at 3 MiB was asked for ahead and failed; taking the first two windows only never sees it.
    for (let k = 0; k < 2; k++) expect((await unread.take(WINDOW, 'a window')).length).toBe(WINDOW);
  });
});
