/**
 * A backup is detected and its archive parsed once per command: the selection
 * of backups (or inspect) reads the header and TOC, and the session, the
 * completeness check and the reader use what it read. Watched from outside,
 * with strace on the real command: which system calls touch the backup file,
 * no hook in the code. One file per thread (-ff), so no call is split in two,
 * and -y names the file behind each descriptor.
 *
 * Kept to the calls that prove it: the opens of the file (detection's sniff of
 * its first bytes, its header and TOC, the check that its data is all there,
 * the read of the wanted tables), the reads of the header and TOC, and for a
 * tar the walks over its member headers to the end-of-archive marker.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, makeTmp, removeTmp, runCli } from './helpers.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const HAVE_STRACE = spawnSync('strace', ['-qq', '-e', 'trace=none', 'true']).status === 0;

interface Access {
  opens: number;
  /** Positioned reads of the file: [length asked, offset]. */
  reads: [number, number][];
}

let tmp: string;
beforeAll(() => {
  tmp = makeTmp('read-once');
});
afterAll(() => removeTmp(tmp));

/** Run the command under strace; what it did to `backup`. */
async function traced(name: string, args: string[], backup: string): Promise<Access> {
  const out = join(tmp, name);
  const r = await runCli(args, { tmp, under: ['strace', '-f', '-ff', '-y', '-qq', '-e', 'trace=openat,pread64', '-o', out] });
  expect(r.code, r.stderr).toBe(0);
  const lines = readdirSync(tmp)
    .filter((f) => f.startsWith(`${name}.`))
    .flatMap((f) => readFileSync(join(tmp, f), 'latin1').split('\n'));
  const opens = lines.filter((l) => l.startsWith('openat(') && l.includes(`"${backup}"`)).length;
  const reads = lines
    .filter((l) => l.startsWith(`pread64(`) && l.includes(`<${backup}>,`))
    .map((l) => /, (\d+), (\d+)\) += -?\d+$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), Number(m[2])] as [number, number]);
  return { opens, reads };
}

describe.skipIf(!HAVE_STRACE)('each backup is read once', () => {
  const custom = join(CURRENT, 'custom.dump');

  for (const [name, args] of [
    ['inspect', ['inspect', custom, '--json']],
    ['export', ['export', custom, '-u', 'bob']],
  ] as const) {
    it(`${name} of a custom archive opens it four times and reads its header and TOC once`, async () => {
      const a = await traced(name, [...args], custom);
      // Sniffing its first bytes, reading its header and TOC, checking its data is there, reading the wanted tables.
      expect(a.opens).toBe(4);
      // From byte 0: the 512-byte sniff and tar-header probe, and one read of the header and TOC.
      expect(a.reads.filter(([len, at]) => at === 0 && len > 512)).toHaveLength(1);
    });
  }

  it("export of a tar archive walks its members' headers once", async () => {
    const tar = join(CURRENT, 'tar.tar');
    const a = await traced('export-tar', ['export', tar, '-u', 'bob'], tar);
    expect(a.opens).toBe(4);
    // Each walk over the headers ends reading the second block of the end-of-archive marker, the last header-sized read.
    const last = Math.max(...a.reads.filter(([len]) => len === 512).map(([, at]) => at));
    expect(a.reads.filter(([len, at]) => len === 512 && at === last)).toHaveLength(1);
  });
});
